"""The secrets docker-compose.yml asks for, generated once per checkout, never committed.

Kept beside the local fleet's secrets (git-ignored .fleet/data/secrets/, mode 0600) and
handed to `docker compose` in its environment only: no .env file is written into the
checkout. They must stay the same between runs: PostgreSQL keeps the password its data
volume was initialised with.
"""

import json
import os
import secrets
from pathlib import Path

from fleet.secrets import secrets_file

NAMES = ("POSTGRES_PASSWORD", "DAPR_API_TOKEN", "APP_API_TOKEN")


def compose_secrets_file() -> Path:
    return secrets_file().with_name("compose-secrets.json")


def ensure_compose_secrets() -> dict[str, str]:
    path = compose_secrets_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    try:
        current: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    wanted = {name: current.get(name) or secrets.token_hex(24) for name in NAMES}
    if wanted != current:
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(wanted, handle, indent=2)
        temporary.replace(path)
    return wanted
