"""Bearer tokens on the API: JWTs verified against the configured issuer's keys.

The keys come as a JWKS, inline (API_AUTH_JWKS, what the local runner, compose and the
Kubernetes Secret hand over for the development issuer) or from a real OIDC provider's
`jwks_uri` (API_AUTH_JWKS_URL). The token's roles claim decides what it may do
(contracts/roles.py); its subject is who did it (the approver of a decision, the customer
a client orders for).
"""

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import HTTPException, Request

from contracts.roles import API_AUDIENCE, DEV_ISSUER, RANK, ROLES_CLAIM, Role, allows

log = logging.getLogger(__name__)
ALGORITHMS = ["ES256", "RS256"]
# A little slack for clocks that disagree between the issuer and this host.
LEEWAY_S = 30


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role

    def may(self, needed: Role) -> bool:
        return allows(self.role, needed)


class Unauthenticated(Exception):
    """No token, or one that does not verify: the caller must sign in (401)."""


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    roles_claim: str
    jwks: dict[str, Any] | None
    jwks_url: str | None

    @classmethod
    def from_env(cls) -> "AuthSettings":
        inline, url = os.environ.get("API_AUTH_JWKS"), os.environ.get("API_AUTH_JWKS_URL")
        if not inline and not url:
            # Secure by default: an API without keys would let nobody in, or everyone.
            raise SystemExit(
                "API_AUTH_JWKS (a JSON Web Key Set) or API_AUTH_JWKS_URL (an OIDC provider's "
                "jwks_uri) must say whose tokens the API accepts"
            )
        try:
            jwks = json.loads(inline) if inline else None
        except ValueError:
            raise SystemExit("API_AUTH_JWKS is not JSON (a JSON Web Key Set)") from None
        return cls(
            issuer=os.environ.get("API_AUTH_ISSUER", DEV_ISSUER),
            audience=os.environ.get("API_AUTH_AUDIENCE", API_AUDIENCE),
            roles_claim=os.environ.get("API_AUTH_ROLES_CLAIM", ROLES_CLAIM),
            jwks=jwks,
            jwks_url=url,
        )


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        if settings.jwks is not None:
            self._keys = {
                key.key_id or "": key for key in jwt.PyJWKSet.from_dict(settings.jwks).keys
            }
        # PyJWKClient caches the provider's keys and fetches again for an unknown kid.
        self._client = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None

    def _key_for(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = jwt.get_unverified_header(token).get("kid") or ""
        key = self._keys.get(kid) or (next(iter(self._keys.values())) if not kid else None)
        if key is None:
            raise Unauthenticated("the token is signed by a key this API does not know")
        return key

    def verify(self, token: str) -> Principal:
        settings = self._settings
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError) as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        return Principal(subject=str(claims["sub"]), role=self._role(claims))

    def _role(self, claims: dict[str, Any]) -> Role:
        listed = _claim(claims, self._settings.roles_claim)
        names = [listed] if isinstance(listed, str) else listed or []
        known = [Role(name) for name in names if name in Role._value2member_map_]
        if not known:
            # Signed by our issuer, yet allowed nothing: authenticated, so 403, not 401.
            raise HTTPException(403, f"the token carries none of the roles {sorted(Role)}")
        return max(known, key=RANK.__getitem__)


def _unauthenticated(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": 'Bearer realm="order-fleet"'})


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated("sign in: send `Authorization: Bearer <token>`")
    return token.strip()


def role_guard(verifier: TokenVerifier) -> Callable[[Role], Callable[[Request], Principal]]:
    """`Depends(needs(Role.OPERATOR))`: the caller's principal, or 401/403."""

    def needs(role: Role) -> Callable[[Request], Principal]:
        def dependency(request: Request) -> Principal:
            try:
                principal = verifier.verify(bearer_token(request))
            except Unauthenticated as error:
                raise _unauthenticated(str(error)) from None
            if not principal.may(role):
                log.info(
                    "refused %s %s to %s (%s): needs %s",
                    request.method,
                    request.url.path,
                    principal.subject,
                    principal.role,
                    role,
                )
                raise HTTPException(403, f"this needs the {role.value} role")
            return principal

        return dependency

    return needs
