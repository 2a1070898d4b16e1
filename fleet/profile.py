"""Which profile the fleet in this checkout runs: one replica on sqlite, or N on PostgreSQL.

`fleet up --scale N` records it, so that `fleet status`, `down`, `logs`, the chaos suite
and the bench describe the fleet that is running, not the default one.
"""

import json

from fleet import topology
from fleet.paths import run_dir


def saved() -> topology.Profile:
    try:
        raw = json.loads((run_dir() / "profile.json").read_text())
        return topology.Profile(replicas=int(raw["replicas"]))
    except (OSError, ValueError, KeyError, TypeError):
        return topology.SINGLE


def save(profile: topology.Profile) -> None:
    path = run_dir() / "profile.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"replicas": profile.replicas}) + "\n")
