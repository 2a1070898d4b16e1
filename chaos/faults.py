"""The fault schedule (seeded) and the injector that applies it to the running fleet.

A kill is SIGKILL to the process group, a short downtime, then `supervisor.up([spec])`,
which waits for the process's own health check. A stop is SIGSTOP for longer than the
resiliency invocation timeout (10 s), then SIGCONT. Whatever happens, `restore()` resumes
what is paused, restarts what it killed and ends with `supervisor.up(specs)` once the
fleet is healthy.
"""

import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from fleet import topology
from fleet.runner import ports, state, supervisor
from fleet.runner.signals import signal_group
from fleet.runner.specs import ProcessSpec

INFRA_KILL_TARGETS = ("scheduler", "placement", "kafka")
SERVICES = ("inventory", "payment", "shipping")


def kill_targets(profile: topology.Profile = topology.SINGLE) -> tuple[str, ...]:
    """Every app and sidecar (each replica of each), then the infrastructure. For one
    replica the order is the historical one, so that a seed draws the schedule it drew."""
    apps = tuple(
        name
        for app in topology.APPS
        for replica in range(profile.replicas)
        for name in (app.instance(replica).name, app.instance(replica).sidecar_name)
    )
    shared = ("postgres",) if profile.store == "postgres" else ()
    return (*apps, *INFRA_KILL_TARGETS, *shared)


def stop_targets(profile: topology.Profile = topology.SINGLE) -> tuple[str, ...]:
    return tuple(
        topology.app(app_id).instance(replica).name
        for app_id in SERVICES
        for replica in range(profile.replicas)
    )


KILL_TARGETS = kill_targets()
STOP_TARGETS = stop_targets()
ROLL_TARGET = "apps"  # a rolling restart: every app, one replica at a time
STOP_S = 15.0  # longer than the 10 s invocation timeout of components/resiliency.yaml
GAP_S = (5.0, 15.0)  # quiet time before each fault
DOWNTIME_S = (0.5, 4.0)  # how long a killed process stays down before its restart
RESTART_ATTEMPTS = 3


class Action(StrEnum):
    KILL = "kill"
    STOP = "stop"
    ROLL = "restart"  # `restart apps`: a rolling restart of every app, replica by replica


@dataclass(frozen=True)
class Fault:
    action: Action
    target: str
    gap_s: float  # wait this long (after the previous fault) before acting
    hold_s: float  # downtime of a kill, or how long a stop lasts

    @property
    def label(self) -> str:
        return f"{self.action.value} {self.target}"


def fault_kinds(profile: topology.Profile = topology.SINGLE) -> list[tuple[Action, str]]:
    kinds = [(Action.KILL, name) for name in kill_targets(profile)] + [
        (Action.STOP, name) for name in stop_targets(profile)
    ]
    if profile.replicas > 1:
        kinds.append((Action.ROLL, ROLL_TARGET))
    return kinds


def required_kinds(profile: topology.Profile) -> list[tuple[Action, str]]:
    """What a scaled run always does, however few faults it draws: lose the shared
    database, and restart every app one replica at a time while orders flow."""
    if profile.replicas == 1:
        return []
    return [(Action.KILL, "postgres"), (Action.ROLL, ROLL_TARGET)]


def parse_kind(label: str, profile: topology.Profile = topology.SINGLE) -> tuple[Action, str]:
    """`kill payment-dapr` or `stop payment` (a fault's label) as a fault kind."""
    action, _, target = label.strip().partition(" ")
    for kind in fault_kinds(profile):
        if (kind[0].value, kind[1]) == (action, target.strip()):
            return kind
    known = [f"{a.value} {t}" for a, t in fault_kinds(profile)]
    raise ValueError(f"no fault {label!r}; the kinds are {known}")


def schedule(
    count: int,
    seed: int,
    *,
    stop_s: float = STOP_S,
    kinds_wanted: list[tuple[Action, str]] | None = None,
    profile: topology.Profile = topology.SINGLE,
) -> list[Fault]:
    """`count` faults; every kind appears once whenever `count` can hold them all, and
    the profile's required kinds always (when `count` can hold those).

    `kinds_wanted` replaces the drawn kinds by these, in this order (to replay a finding)."""
    rng = random.Random(f"faults:{seed}")
    kinds = fault_kinds(profile)
    required = required_kinds(profile) if count >= len(required_kinds(profile)) else []
    if kinds_wanted:
        chosen = list(kinds_wanted)
    elif count >= len(kinds):
        chosen = kinds + [rng.choice(kinds) for _ in range(count - len(kinds))]
        rng.shuffle(chosen)
    elif required:
        others = [kind for kind in kinds if kind not in required]
        chosen = required + rng.sample(others, count - len(required))
        rng.shuffle(chosen)
    else:
        chosen = rng.sample(kinds, count)
    return [
        Fault(
            action,
            target,
            gap_s=round(rng.uniform(*GAP_S), 1),
            hold_s=(
                stop_s
                if action == Action.STOP
                else 0.0
                if action == Action.ROLL
                else round(rng.uniform(*DOWNTIME_S), 1)
            ),
        )
        for action, target in chosen
    ]


def expected_duration_s(fault: Fault) -> float:
    """A rough guess of how long a fault takes, to pace the load over the schedule."""
    if fault.action == Action.ROLL:
        return fault.gap_s + 15.0 * len(topology.APPS) * 2
    restart = {"kafka": 20.0, "orchestrator": 10.0, "scheduler": 8.0}.get(fault.target, 5.0)
    return fault.gap_s + fault.hold_s + (3.0 if fault.action == Action.STOP else restart)


@dataclass
class FaultRecord:
    label: str
    action: str
    target: str
    gap_s: float
    hold_s: float
    started_at: float = 0.0  # epoch seconds: the signal was sent
    pid: int | None = None
    new_pid: int | None = None
    restored_at: float | None = None  # the process is back (healthy, or resumed)
    fleet_healthy_at: float | None = None  # every process of the fleet answers again
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def _process_gone(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it was our child (restarted by us)
    return state.start_ticks(pid) is None


class FaultInjector:
    def __init__(
        self,
        specs: list[ProcessSpec],
        *,
        say: Callable[[str], None],
        settle_timeout_s: float = 180.0,
    ) -> None:
        self._specs = specs
        self._by_name = {spec.name: spec for spec in specs}
        self._replicas = 1 + max(
            (app.replica for app in topology.replicas(topology.Profile(topology.MAX_REPLICAS))
             if app.name in self._by_name),
            default=0,
        )  # fmt: skip
        self._say = say
        self._settle_timeout_s = settle_timeout_s
        self._down: set[str] = set()  # killed and not yet restarted
        self._paused: dict[str, int] = {}  # SIGSTOPped: name -> pid

    def apply(self, fault: Fault) -> FaultRecord:
        record = FaultRecord(
            fault.label, fault.action.value, fault.target, fault.gap_s, fault.hold_s
        )
        if fault.target not in self._by_name and fault.action != Action.ROLL:
            record.error = f"no process named {fault.target} in the fleet"
            return record
        try:
            if fault.action == Action.KILL:
                self._kill(fault, record)
            elif fault.action == Action.ROLL:
                self._roll(record)
            else:
                self._stop(fault, record)
        except supervisor.FleetError as error:
            record.error = str(error).splitlines()[0]
        record.fleet_healthy_at = self.wait_fleet_healthy(self._settle_timeout_s)
        if record.fleet_healthy_at is None:
            unhealthy = [s.spec.name for s in supervisor.status(self._specs) if not s.healthy]
            record.notes.append(
                f"fleet not healthy after {self._settle_timeout_s:.0f}s: {unhealthy}"
            )
        return record

    def _kill(self, fault: Fault, record: FaultRecord) -> None:
        spec = self._by_name[fault.target]
        pid = state.alive_pid(spec.name)
        record.pid = pid
        record.started_at = time.time()
        if pid is None:
            record.notes.append("was not running; only restarted")
        else:
            self._down.add(spec.name)
            # The keeper would restart it at once; this fault keeps it down for hold_s.
            state.hold(spec.name, fault.hold_s + 60.0)
            signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while not _process_gone(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(fault.hold_s)
        self._restart(spec)
        record.new_pid = state.alive_pid(spec.name)
        record.restored_at = time.time()

    def _stop(self, fault: Fault, record: FaultRecord) -> None:
        pid = state.alive_pid(fault.target)
        record.pid = pid
        record.started_at = time.time()
        if pid is None:
            record.notes.append("was not running; restarted instead of paused")
            self._restart(self._by_name[fault.target])
        else:
            os.kill(pid, signal.SIGSTOP)
            self._paused[fault.target] = pid
            try:
                time.sleep(fault.hold_s)
            finally:
                self._resume(fault.target)
        record.new_pid = state.alive_pid(fault.target)
        record.restored_at = time.time()

    def _roll(self, record: FaultRecord) -> None:
        """Every app, replica by replica: its sidecar and app stopped as `fleet down` stops
        them (SIGTERM, drained), started again, healthy, before the next replica goes."""
        record.started_at = time.time()
        for app in topology.APPS:
            for replica in range(self._replicas):
                instance = app.instance(replica)
                pair = [self._by_name[instance.name], self._by_name[instance.sidecar_name]]
                for spec in pair:
                    state.hold(spec.name, 120.0)
                supervisor.down(pair, announce=False)
                supervisor.up(pair, announce=False)
                for spec in pair:
                    state.release(spec.name)
                record.notes.append(f"{instance.name} restarted")
        record.restored_at = time.time()

    def _resume(self, name: str) -> None:
        pid = self._paused.pop(name, None)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def _restart(self, spec: ProcessSpec) -> None:
        """`supervisor.up([spec])`, once its ports are free; retried a few times."""
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(map(ports.is_bindable, spec.ports)):
                time.sleep(0.2)
            try:
                supervisor.up([spec], announce=False)
                self._down.discard(spec.name)
                state.release(spec.name)
                return
            except supervisor.FleetError as error:
                if attempt == RESTART_ATTEMPTS:
                    raise
                self._say(f"  ! restart of {spec.name} failed ({error}); retrying")
                time.sleep(2.0 * attempt)

    def wait_fleet_healthy(self, timeout_s: float) -> float | None:
        """When every process answers its health check again (None on timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if all(s.healthy for s in supervisor.status(self._specs)):
                return time.time()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)

    def restart(self, names: list[str]) -> None:
        """Stops (SIGTERM, as `fleet down` does) and restarts these processes, in order."""
        specs = [self._by_name[name] for name in names]
        for spec in specs:
            supervisor.down([spec], announce=False)
        supervisor.up(specs, announce=False)

    def restore(self) -> list[str]:
        """Resumes every paused process and restarts every killed one; once the whole fleet
        is healthy, confirms it with `supervisor.up(specs)`. Returns what is still unhealthy.

        `supervisor.up(specs)` stops the *whole* fleet when any process fails its health
        check, so on a fleet that is not healthy (a process this run never touched may be
        sick) it is not called: only our own processes are restarted, one by one."""
        for name in list(self._paused):
            self._resume(name)
        for name in sorted(self._down):
            try:
                self._restart(self._by_name[name])
            except supervisor.FleetError as error:
                self._say(f"  ! could not restart {name}: {error}")
        if self.wait_fleet_healthy(self._settle_timeout_s) is None:
            unhealthy = [s.spec.name for s in supervisor.status(self._specs) if not s.healthy]
            self._say(f"  ! the fleet is not healthy: {unhealthy}; not calling up(specs)")
            return unhealthy
        supervisor.up(self._specs, announce=False)
        return []


def ensure_healthy_fleet(specs: list[ProcessSpec], timeout_s: float = 120.0) -> None:
    """Starts a fleet that is entirely down; otherwise waits for it to be healthy, and
    refuses (RuntimeError) to run faults on a fleet that is not."""
    if all(status.pid is None for status in supervisor.status(specs)):
        supervisor.up(specs, announce=False)
        return
    deadline = time.monotonic() + timeout_s
    while True:
        unhealthy = [s.spec.name for s in supervisor.status(specs) if not s.healthy]
        if not unhealthy:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fleet is not healthy before the run: {unhealthy}")
        time.sleep(1.0)
