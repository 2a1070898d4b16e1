"""Bearer tokens for the API's callers: the CLI, the chaos suite, the bench and the tests.

A token of one's own (a real identity provider's) comes in FLEET_API_TOKEN and is used
as it is. Otherwise tokens are minted by a deployment's development issuer: the local
fleet's key is in its secret store; compose and Kubernetes have their own
(`fleet credentials --target`).
"""

import os
import time
from collections.abc import Callable

from contracts.roles import Role
from fleet.identity import DEV_TOKEN_TTL_S, mint

TOKEN_ENV = "FLEET_API_TOKEN"
# A cached token is minted again well before it expires.
_RENEW_BEFORE_S = DEV_TOKEN_TTL_S // 2


def local_signing_key() -> str:
    from fleet.secrets import API_ISSUER_KEY, ensure_secrets

    return ensure_secrets()[API_ISSUER_KEY]


class TokenSource:
    """Mints (and caches) one token per role and subject from an issuer's signing key."""

    def __init__(self, signing_key: Callable[[], str] = local_signing_key) -> None:
        self._signing_key = signing_key
        self._cache: dict[tuple[Role, str | None], tuple[str, float]] = {}

    def token(self, role: Role, subject: str | None = None) -> str:
        cached = self._cache.get((role, subject))
        if cached and cached[1] > time.monotonic():
            return cached[0]
        minted = mint(self._signing_key(), role, subject=subject)
        self._cache[(role, subject)] = (minted, time.monotonic() + _RENEW_BEFORE_S)
        return minted

    def headers(self, role: Role = Role.ADMIN, subject: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject)}"}


LOCAL = TokenSource()


def bearer(role: Role = Role.OPERATOR) -> dict[str, str]:
    """The Authorization header of a local fleet's caller with `role`, or of the caller's
    own token (FLEET_API_TOKEN) when one is set."""
    own = os.environ.get(TOKEN_ENV)
    return {"Authorization": f"Bearer {own}"} if own else LOCAL.headers(role)
