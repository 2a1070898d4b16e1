"""The compose project's containers as the engine reports them, and what that means:
everything healthy, still starting, or a container that died during start-up."""

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet.containers.docker_api import get_json

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerState:
    name: str
    service: str
    status: str  # created, running, restarting, exited, dead, paused
    health: str | None  # healthy, unhealthy, starting; None without a healthcheck
    exit_code: int
    restarts: int

    @property
    def label(self) -> str:
        return self.status if self.health is None else f"{self.status} ({self.health})"


@dataclass(frozen=True)
class Verdict:
    ready: bool
    dead: list[ContainerState]
    waiting: list[str]  # services not yet running or healthy


def one_shot_services(services: dict[str, Any]) -> set[str]:
    """Services others wait on to *finish* (service_completed_successfully): they exit 0."""
    found = set()
    for service in services.values():
        depends = (service or {}).get("depends_on") or {}
        if isinstance(depends, dict):
            for name, condition in depends.items():
                if (condition or {}).get("condition") == "service_completed_successfully":
                    found.add(name)
    return found


def judge(states: list[ContainerState], services: set[str], one_shots: set[str]) -> Verdict:
    """Ready when every service has a container that is healthy (with a healthcheck),
    running (without one) or, for one-shot services, exited 0. A container that exited
    otherwise, restarted, or turned unhealthy is dead: start-up has failed."""
    dead = []
    done: set[str] = set()
    for state in states:
        if state.service in one_shots and state.status == "exited" and state.exit_code == 0:
            done.add(state.service)
            continue
        failed = (
            state.status in ("exited", "dead", "restarting")
            or state.restarts > 0
            or state.health == "unhealthy"
        )
        if failed:
            dead.append(state)
        elif state.status == "running" and state.health in (None, "healthy"):
            done.add(state.service)
    waiting = sorted(services - done)
    return Verdict(ready=not waiting and not dead, dead=dead, waiting=waiting)


def project_states(socket: Path, project: str) -> list[ContainerState]:
    filters = json.dumps({"label": [f"{PROJECT_LABEL}={project}"]})
    query = urllib.parse.urlencode({"all": "1", "filters": filters})
    states = []
    for summary in get_json(socket, f"/containers/json?{query}"):
        try:
            detail = get_json(socket, f"/containers/{summary['Id']}/json")
        except OSError:
            continue  # removed while we looked
        state = detail.get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        states.append(
            ContainerState(
                name=str(detail.get("Name", "?")).lstrip("/"),
                service=str((summary.get("Labels") or {}).get(SERVICE_LABEL, "?")),
                status=str(state.get("Status", "?")),
                health=str(health) if health else None,
                exit_code=int(state.get("ExitCode", 0)),
                restarts=int(detail.get("RestartCount", 0)),
            )
        )
    return states


def project_networks(socket: Path, project: str) -> list[str]:
    filters = json.dumps({"label": [f"{PROJECT_LABEL}={project}"]})
    query = urllib.parse.urlencode({"filters": filters})
    return [str(n.get("Name")) for n in get_json(socket, f"/networks?{query}")]
