"""Where the fleet keeps its caches, its data and its run files.

Caches (the Dapr build, Maven downloads) live outside the checkout and are keyed by
version so a fresh clone reuses them. Data and run files live in the checkout's
`.fleet/` folder (git-ignored), so two clones never share state.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    override = os.environ.get("FLEET_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "order-fleet"


def home_dir() -> Path:
    """The fleet's own folder: data that survives restarts, plus this run's files."""
    return Path(os.environ.get("FLEET_HOME") or REPO_ROOT / ".fleet")


def data_dir() -> Path:
    return home_dir() / "data"


def run_dir() -> Path:
    return home_dir() / "run"


def log_dir() -> Path:
    return run_dir() / "logs"


def components_dir() -> Path:
    return REPO_ROOT / "components"


def resource_dirs(store: str) -> tuple[Path, Path]:
    """What a sidecar loads: the shared resources, and the state stores of its profile
    (`sqlite`: a file per app; `postgres`: one database every replica shares)."""
    return components_dir(), components_dir() / store
