"""The fleet's local secret store: API tokens generated on first run, never committed.

A JSON file (mode 0600) in the fleet's data folder, read by Dapr's `secretstores.local.file`
component (components/secretstore.yaml) and by the runner, which hands each sidecar and
its app their tokens. On Kubernetes the same names come from Kubernetes secrets.
"""

import json
import os
import secrets
from pathlib import Path

from fleet import topology
from fleet.paths import data_dir

SECRETS_FILE_NAME = "fleet-secrets.json"


def secrets_file() -> Path:
    return data_dir() / "secrets" / SECRETS_FILE_NAME


def dapr_api_token_key(app_id: str) -> str:
    return f"{app_id}-dapr-api-token"


def app_api_token_key(app_id: str) -> str:
    return f"{app_id}-app-api-token"


POSTGRES_PASSWORD_KEY = "postgres-password"
# The development issuer's signing key (PEM): it signs the API's bearer tokens for
# `fleet credentials`; the orchestrator only ever sees its public half (fleet/identity.py).
API_ISSUER_KEY = "api-issuer-key"
# One SCRAM principal per role on Kafka: `admin` is the broker's own super user (topics,
# ACLs), `fleet` the sidecars, and the three a user is handed by `fleet credentials`.
KAFKA_PRINCIPALS = ("admin", "fleet", "producer", "approver", "reader")


def kafka_password_key(principal: str) -> str:
    return f"kafka-{principal}-password"


def _generate() -> dict[str, str]:
    from fleet.identity import new_signing_key

    values = {POSTGRES_PASSWORD_KEY: secrets.token_urlsafe(24), API_ISSUER_KEY: new_signing_key()}
    for principal in KAFKA_PRINCIPALS:
        values[kafka_password_key(principal)] = secrets.token_urlsafe(24)
    for app in topology.APPS:
        values[dapr_api_token_key(app.app_id)] = secrets.token_urlsafe(32)
        values[app_api_token_key(app.app_id)] = secrets.token_urlsafe(32)
    return values


def ensure_secrets() -> dict[str, str]:
    """Loads the secrets, generating any that are missing (first run, or a new app)."""
    path = secrets_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    current: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {**_generate(), **current}
    if wanted != current:
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(wanted, handle, indent=2)
        temporary.replace(path)
    return wanted


def dapr_api_token(app_id: str) -> str:
    """The token a client must send to `app_id`'s sidecar (header `dapr-api-token`)."""
    return ensure_secrets()[dapr_api_token_key(app_id)]


def app_api_token(app_id: str) -> str:
    """The token `app_id`'s sidecar sends to its app, and the app requires."""
    return ensure_secrets()[app_api_token_key(app_id)]


def sidecar_headers(app_id: str) -> dict[str, str]:
    return {"dapr-api-token": dapr_api_token(app_id)}


def kafka_password(principal: str) -> str:
    return ensure_secrets()[kafka_password_key(principal)]


def postgres_password() -> str:
    """The scaled profile's database password (the runner creates the role with it)."""
    return ensure_secrets()[POSTGRES_PASSWORD_KEY]
