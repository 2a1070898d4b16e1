"""The fleet run by the local runner (`make up`, `make up SCALE=2`)."""

import os
import signal
import time

import httpx

from fleet import lifecycle, topology
from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec
from fleet.secrets import sidecar_headers
from fleet.stack import require_provisioned, specs
from tests.targets.base import Target

COME_BACK_S = 240.0


class LocalTarget(Target):
    def __init__(self, replicas: int = 1) -> None:
        self.name = "local" if replicas == 1 else f"local, {replicas} replicas"
        self.replicas = replicas
        self.profile = topology.Profile(replicas=replicas)
        self.specs: list[ProcessSpec] = []
        self._started: list[str] = []

    @property
    def api_urls(self) -> list[str]:
        return [
            f"http://{topology.LOOPBACK}:{topology.ORCHESTRATOR.instance(r).api_port}"
            for r in range(self.replicas)
        ]

    def up(self) -> None:
        require_provisioned()
        lifecycle.choose_profile(self.replicas)  # refuses while another profile runs
        self.specs = specs(self.profile)
        self._started = supervisor.up(self.specs, announce=False)

    def down(self) -> None:
        if self._started:
            supervisor.down(self.specs, announce=False)

    def _spec(self, name: str) -> ProcessSpec:
        return next(spec for spec in self.specs if spec.name == name)

    def crash(self, app_id: str, *, sidecar: bool = False, replica: int = 0) -> None:
        app = topology.app(app_id).instance(replica)
        name = app.sidecar_name if sidecar else app.name
        victim = state.alive_pid(name)
        assert victim is not None, f"{name} is not running"
        os.killpg(victim, signal.SIGKILL)
        spec = self._spec(name)
        deadline = time.monotonic() + COME_BACK_S
        while True:  # the keeper restarts it; this only watches
            pid = state.alive_pid(name)
            if pid not in (None, victim) and spec.health():
                return
            assert time.monotonic() < deadline, f"{name} did not come back by itself"
            time.sleep(0.2)

    def sidecar_status(self, app_id: str, *, with_token: bool) -> int:
        app = topology.app(app_id)
        headers = sidecar_headers(app_id) if with_token else {}
        url = f"http://{topology.LOOPBACK}:{app.dapr_http_port}/v1.0/metadata"
        return httpx.get(url, headers=headers, timeout=10).status_code
