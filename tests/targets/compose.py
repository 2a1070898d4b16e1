"""The fleet run by `make compose-up`: docker-compose.yml as committed, on a real engine.

A crash is a SIGKILL of the container's main process from the host, as an out-of-memory
kill or a segfault would be; `docker kill` would not do, because the engine counts it as
a manual stop and its restart policy then leaves the container down.
"""

import os
import signal
import time
from typing import Any

from fleet import kafka_auth, topology
from fleet.containers import compose, engine, watch
from fleet.containers.client import docker
from fleet.containers.compose_secrets import ISSUER_KEY, ensure_compose_secrets
from fleet.provision.pieces import require_pieces
from tests.targets.base import Target

COME_BACK_S = 300.0


class ComposeTarget(Target):
    name = "compose"
    credentials_target = "compose"

    def __init__(self) -> None:
        self._started = False

    def up(self) -> None:
        require_pieces(compose.UP_PIECES)  # compose.up() would build them; tests never do
        if compose.up() != 0:
            raise RuntimeError("make compose-up failed (its output is above)")
        self._started = True

    def down(self) -> None:
        if self._started:
            compose.down(volumes=True)

    def issuer_key(self) -> str:
        return ensure_compose_secrets()[ISSUER_KEY]

    def kafka_options(self, principal: str) -> dict[str, Any]:
        password = ensure_compose_secrets()[f"KAFKA_{principal.upper()}_PASSWORD"]
        return kafka_auth.options(topology.KAFKA_BOOTSTRAP, principal, password)

    def _engine(self) -> engine.Engine:
        running = engine.find_engine()
        assert running is not None, "no container engine runs"
        return running

    def _state(self, service: str) -> watch.ContainerState:
        states = watch.project_states(self._engine().socket, compose.PROJECT)
        [state] = [s for s in states if s.service == service]
        return state

    def _main_pid(self, container: str) -> int:
        inspected = docker(self._engine(), ["inspect", "--format", "{{.State.Pid}}", container])
        return int(inspected.stdout.strip())

    def crash(self, app_id: str, *, sidecar: bool = False, replica: int = 0) -> None:
        assert replica == 0, "compose runs one replica of each app"
        service = f"{app_id}-dapr" if sidecar else app_id
        before = self._state(service)
        os.kill(self._main_pid(before.name), signal.SIGKILL)
        deadline = time.monotonic() + COME_BACK_S
        while True:  # the engine's restart policy brings it back; this only watches
            now = self._state(service)
            app = self._state(app_id)
            back = now.restarts > before.restarts and now.status == "running"
            if back and app.status == "running" and app.health in (None, "healthy"):
                return
            assert time.monotonic() < deadline, f"{service} did not come back by itself: {now}"
            time.sleep(0.5)

    def sidecar_status(self, app_id: str, *, with_token: bool) -> int:
        # From inside the app's container: the sidecar's API listens where the app is.
        port = topology.app(app_id).dapr_http_port
        token = ensure_compose_secrets()["DAPR_API_TOKEN"] if with_token else ""
        probe = (
            "import urllib.request as u, urllib.error as e\n"
            f"r = u.Request('http://127.0.0.1:{port}/v1.0/metadata')\n"
            f"r.add_header('dapr-api-token', {token!r}) if {with_token!r} else None\n"
            "try:\n    print(u.urlopen(r, timeout=10).status)\n"
            "except e.HTTPError as x:\n    print(x.code)\n"
        )
        container = self._state(app_id).name
        result = docker(self._engine(), ["exec", container, "python", "-c", probe])
        return int(result.stdout.strip())
