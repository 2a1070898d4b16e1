"""A development issuer of the unit tests' own, and the API verifier that trusts it."""

import json

from contracts.roles import DEV_ISSUER, Role
from fleet.identity import jwks, mint, new_signing_key
from orchestrator.auth import AuthSettings, TokenVerifier

ISSUER_KEY = new_signing_key()


def settings(key: str = ISSUER_KEY) -> AuthSettings:
    return AuthSettings(
        issuer=DEV_ISSUER,
        audience="order-fleet-api",
        roles_claim="roles",
        jwks=json.loads(json.dumps(jwks(key))),
        jwks_url=None,
    )


def verifier() -> TokenVerifier:
    return TokenVerifier(settings())


def auth(role: Role = Role.ADMIN, subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(ISSUER_KEY, role, subject=subject)}"}
