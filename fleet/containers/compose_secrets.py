"""The secrets docker-compose.yml asks for, generated once per machine, never committed.

The compose project (and so its data volumes) is one per engine, whichever checkout
started it; PostgreSQL keeps the password its volume was initialised with. So the secrets
live with the cache (FLEET_CACHE_DIR, folder mode 0700, file 0600), not in a checkout:
a second clone must not bring a new password to an old volume. A checkout's file from
before (.fleet/data/secrets/compose-secrets.json) is taken over once. They are handed to
`docker compose` in its environment only: no .env file is written into the checkout.
"""

import json
import os
import secrets
from pathlib import Path

from fleet.identity import api_auth_env, new_signing_key
from fleet.paths import cache_dir
from fleet.secrets import KAFKA_PRINCIPALS, secrets_file

NAMES = (
    "POSTGRES_PASSWORD",
    "DAPR_API_TOKEN",
    "APP_API_TOKEN",
    # One SCRAM password per Kafka principal (fleet/kafka_acls.py); a file from before
    # these existed gets them added, the others keep their values.
    *(f"KAFKA_{principal.upper()}_PASSWORD" for principal in KAFKA_PRINCIPALS),
)
# The compose fleet's development token issuer (fleet/identity.py): its private key stays
# here; the orchestrator is handed the public half (API_AUTH_JWKS).
ISSUER_KEY = "API_ISSUER_KEY"


def compose_secrets_file() -> Path:
    return cache_dir() / "compose-secrets" / "secrets.json"


def _checkout_file() -> Path:
    return secrets_file().with_name("compose-secrets.json")


def _load(path: Path) -> dict[str, str]:
    try:
        loaded: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded


def ensure_compose_secrets() -> dict[str, str]:
    path = compose_secrets_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    stored = _load(path)
    current = stored or _load(_checkout_file())
    wanted = {name: current.get(name) or secrets.token_hex(24) for name in NAMES}
    wanted[ISSUER_KEY] = current.get(ISSUER_KEY) or new_signing_key()
    if wanted != stored:
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(wanted, handle, indent=2)
        temporary.replace(path)
    return wanted


def compose_interpolation() -> dict[str, str]:
    """What docker-compose.yml's `${...}` take from the secrets: the issuer's key stays out."""
    stored = ensure_compose_secrets()
    values = {name: stored[name] for name in NAMES}
    values.update(api_auth_env(stored[ISSUER_KEY]))
    return values
