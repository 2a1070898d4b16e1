"""Who may do what on the API: the roles a bearer token carries, and what each allows."""

from enum import StrEnum
from typing import Final

# The claim that lists a token's roles. A real identity provider is configured to emit it
# (API_AUTH_ROLES_CLAIM names another one, such as Keycloak's `realm_access.roles`).
ROLES_CLAIM: Final = "roles"
API_AUDIENCE: Final = "order-fleet-api"
DEV_ISSUER: Final = "https://order-fleet.local/dev-issuer"


class Role(StrEnum):
    CLIENT = "client"
    OPERATOR = "operator"
    ADMIN = "admin"


# Each role includes the ones below it: an operator may do all a client may, and more.
RANK: Final = {Role.CLIENT: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


def allows(held: Role, needed: Role) -> bool:
    return RANK[held] >= RANK[needed]
