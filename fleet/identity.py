"""The development token issuer: the stand-in for a real OIDC identity provider.

Its ES256 signing key is generated on first run with the other secrets (fleet/secrets.py);
the orchestrator is handed only the public half, as a JWKS, exactly what it would fetch
from a real provider's `jwks_uri`. `fleet credentials` mints the tokens users paste.
"""

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from contracts.roles import API_AUDIENCE, DEV_ISSUER, ROLES_CLAIM, Role

ALGORITHM = "ES256"
# Long enough for a working day at the console; a real provider sets its own.
DEV_TOKEN_TTL_S = 12 * 3600
# Who each development token signs in as: a client is a customer, so its subject is the
# customer id it may order for and read.
DEV_SUBJECTS = {
    Role.CLIENT: "cust-dev",
    Role.OPERATOR: "operator-dev",
    Role.ADMIN: "admin-dev",
}


def new_signing_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the issuer key is not an EC key")
    return key


def _thumbprint(pem: str) -> str:
    """A stable `kid`: the thumbprint of the public key (RFC 7638)."""
    jwk = _public_jwk(pem, with_kid=False)
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _public_jwk(pem: str, with_kid: bool = True) -> dict[str, Any]:
    public = _private_key(pem).public_key()
    jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    jwk.update({"use": "sig", "alg": ALGORITHM})
    if with_kid:
        jwk["kid"] = _thumbprint(pem)
    return jwk


def jwks(pem: str) -> dict[str, Any]:
    """The public key set the API verifies tokens against."""
    return {"keys": [_public_jwk(pem)]}


def mint(
    pem: str,
    role: Role,
    *,
    subject: str | None = None,
    ttl_s: int = DEV_TOKEN_TTL_S,
    issuer: str = DEV_ISSUER,
    audience: str = API_AUDIENCE,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or DEV_SUBJECTS[role],
        ROLES_CLAIM: [role.value],
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, _private_key(pem), algorithm=ALGORITHM, headers={"kid": _thumbprint(pem)}
    )


def api_auth_env(pem: str) -> dict[str, str]:
    """What the orchestrator is told about the development issuer (orchestrator/auth.py)."""
    return {"API_AUTH_JWKS": json.dumps(jwks(pem)), "API_AUTH_ISSUER": DEV_ISSUER}
