"""The local fleet (`make up`) and the compose fleet (`make compose-up`) of one checkout
never run at the same time: both would claim the fleet's addresses (8000, 9092, 9411) and
a test or a person could talk to the wrong one. Each refuses while the other runs.

The compose side is known by its state file, written before `docker compose up` starts
anything and removed once `compose-down` has removed everything.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from fleet.containers import docker_api, watch
from fleet.paths import run_dir
from fleet.runner import state

COMPOSE_PROJECT = "order-fleet"


@dataclass(frozen=True)
class ComposeState:
    socket: Path
    engine_ours: bool
    ports: dict[str, int]


def compose_state_file() -> Path:
    return run_dir() / "compose" / "state.json"


def load_compose_state() -> ComposeState | None:
    try:
        raw = json.loads(compose_state_file().read_text())
        return ComposeState(Path(raw["socket"]), bool(raw["engine_ours"]), dict(raw["ports"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_compose_state(current: ComposeState) -> None:
    path = compose_state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "socket": str(current.socket),
        "engine_ours": current.engine_ours,
        "ports": current.ports,
    }
    path.write_text(json.dumps(payload, indent=2))


def forget_compose_state() -> None:
    compose_state_file().unlink(missing_ok=True)


def compose_containers() -> list[str]:
    """The compose fleet's containers that exist (empty when it does not run)."""
    recorded = load_compose_state()
    if recorded is None or docker_api.daemon_info(recorded.socket) is None:
        return []
    try:
        states = watch.project_states(recorded.socket, COMPOSE_PROJECT)
    except OSError:
        return []
    return [s.name for s in states if s.status != "exited" or s.restarts]


def refusal_for_local_fleet() -> str | None:
    """Why `make up`/`make run` must not start now, or None."""
    running = compose_containers()
    if not running:
        return None
    return (
        f"the fleet is running in containers ({len(running)} containers of docker compose "
        "project order-fleet); stop it with `make compose-down` first"
    )


def local_fleet_processes(names: list[str]) -> list[str]:
    return [name for name in names if state.alive_pid(name) is not None]
