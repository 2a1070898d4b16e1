"""The drill's fleet: the runner's own processes, the orchestrator's on the baseline's tree.

Only the orchestrator's code changes in an upgrade; every other process is the one
`make up` starts. Shipping moves a shipment on more slowly than it does for `make up`,
so that an order is still mid-delivery when its orchestrator is replaced.
"""

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from fleet import topology
from fleet.containers.exclusion import refusal_for_local_fleet
from fleet.lifecycle import choose_profile
from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec
from fleet.stack import require_provisioned
from fleet.stack import specs as fleet_specs

# Three steps a delivery: about 45 s in transit, longer than a rolling upgrade takes.
SHIPPING_STEP_SECONDS = "15"
HOLD_S = 300.0  # the keeper leaves an orchestrator being replaced alone for this long


class DrillFleetError(Exception):
    pass


def _names(app: topology.AppSpec, profile: topology.Profile) -> list[str]:
    return [r.name for r in topology.replicas(profile) if r.app_id == app.app_id]


def on_tree(spec: ProcessSpec, tree: Path) -> ProcessSpec:
    """The process run from another checkout: `python -m orchestrator` there imports
    that checkout's packages first (its folder heads sys.path)."""
    return replace(spec, cwd=tree, env={**spec.env, "PYTHONPATH": str(tree)})


@dataclass
class DrillFleet:
    profile: topology.Profile
    baseline_tree: Path
    current: list[ProcessSpec] = field(default_factory=list)  # what `make up` would run
    running: dict[str, ProcessSpec] = field(default_factory=dict)
    paused: dict[str, int] = field(default_factory=dict)

    @property
    def orchestrators(self) -> list[str]:
        return _names(topology.ORCHESTRATOR, self.profile)

    def start(self) -> float:
        refusal = refusal_for_local_fleet()
        if refusal:
            raise DrillFleetError(refusal)
        require_provisioned()
        self.current = fleet_specs(self.profile)
        if any(status.pid for status in supervisor.status(self.current)):
            raise DrillFleetError(
                "the drill starts its own fleet with the baseline's orchestrator: `make down` first"
            )
        choose_profile(self.profile.replicas)  # records it, as `make up SCALE=N` does
        shipping = set(_names(topology.SHIPPING, self.profile))
        for spec in self.current:
            if spec.name in self.orchestrators:
                spec = on_tree(spec, self.baseline_tree)
            elif spec.name in shipping:
                spec = replace(
                    spec, env={**spec.env, "SHIPPING_STEP_SECONDS": SHIPPING_STEP_SECONDS}
                )
            self.running[spec.name] = spec
        began = time.monotonic()
        supervisor.up(list(self.running.values()))
        return time.monotonic() - began

    def upgrade(self, name: str) -> float:
        """Stops one orchestrator replica (SIGTERM, drained, as `make down` does) and starts
        it on the current code; returns how long it was away."""
        new = next(spec for spec in self.current if spec.name == name)
        began = time.monotonic()
        state.hold(name, HOLD_S)
        try:
            supervisor.down([self.running[name]], announce=False)
            supervisor.up([new], announce=False)
        finally:
            state.release(name)
        self.running[name] = new
        return time.monotonic() - began

    def pause(self, app: topology.AppSpec) -> None:
        """SIGSTOPs every replica of an app: calls to it wait, as to a hung service."""
        for name in _names(app, self.profile):
            pid = state.alive_pid(name)
            if pid is None:
                raise DrillFleetError(f"{name} is not running")
            os.kill(pid, signal.SIGSTOP)
            self.paused[name] = pid

    def resume(self, app: topology.AppSpec) -> None:
        for name in _names(app, self.profile):
            pid = self.paused.pop(name, None)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        for pid in self.paused.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused.clear()
        supervisor.down(list(self.running.values()) or self.current)
