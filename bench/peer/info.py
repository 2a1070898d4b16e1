"""What the peer is, for latest.json: the engine, and the versions measured."""

from importlib.metadata import version
from typing import Any

from fleet import versions

NAME = "temporal"


def peer_info() -> dict[str, Any]:
    return {
        "name": NAME,
        "version": {"cli": versions.TEMPORAL_CLI, "sdk": version("temporalio")},
        "server": "temporal server start-dev (SQLite file, headless)",
    }
