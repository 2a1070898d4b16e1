"""The compose project's containers as the engine reports them, and what that means:
everything healthy, still starting, or a container that died during start-up."""

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
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
    started_at: float  # epoch seconds of its last start; 0 if it never started

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


def judge(
    states: list[ContainerState], services: set[str], one_shots: set[str], since: float = 0.0
) -> Verdict:
    """Ready when every service has a container that is healthy (with a healthcheck),
    running (without one) or, for one-shot services, exited 0. A container that exited
    otherwise, restarted, or turned unhealthy is dead: start-up has failed.

    A container last started before `since` is of an earlier run: stopped, it is waited
    for (compose has not started it yet), not judged by its old exit; running (compose-up
    run again), only its health counts, not restarts from before."""
    dead = []
    done: set[str] = set()
    for state in states:
        if state.service in one_shots and state.status == "exited" and state.exit_code == 0:
            done.add(state.service)
            continue
        earlier = state.started_at < since
        if earlier and state.status != "running":
            continue
        failed = (
            state.status in ("exited", "dead", "restarting")
            or (state.restarts > 0 and not earlier)
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
                started_at=_epoch(str(state.get("StartedAt", ""))),
            )
        )
    return states


def _epoch(stamp: str) -> float:
    """Docker's RFC 3339 time with nanoseconds; never-started containers have year 1."""
    if not stamp or stamp.startswith("0001-"):
        return 0.0
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    return seconds + (float("0." + fraction.rstrip("Z")) if fraction else 0.0)


def published_ports(socket: Path, project: str) -> set[int]:
    """Host ports the project's containers publish, whichever checkout started them."""
    filters = json.dumps({"label": [f"{PROJECT_LABEL}={project}"]})
    query = urllib.parse.urlencode({"all": "1", "filters": filters})
    found: set[int] = set()
    for summary in get_json(socket, f"/containers/json?{query}"):
        for port in summary.get("Ports") or []:
            if port.get("PublicPort"):
                found.add(int(port["PublicPort"]))
    return found


def project_networks(socket: Path, project: str) -> list[str]:
    filters = json.dumps({"label": [f"{PROJECT_LABEL}={project}"]})
    query = urllib.parse.urlencode({"filters": filters})
    return [str(n.get("Name")) for n in get_json(socket, f"/networks?{query}")]
