"""Brings the fleet up in stages, waits on real health checks, and tears it down cleanly."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleet.console import say
from fleet.paths import log_dir
from fleet.provision.errors import tail
from fleet.runner import ports, reserved_ports, state
from fleet.runner.signals import signal_group
from fleet.runner.specs import ProcessSpec

STOP_GRACE_S = 15.0
PORT_RELEASE_S = 10.0


class FleetError(RuntimeError):
    """The fleet could not be brought up; the message names the process and its log."""


@dataclass(frozen=True)
class ProcessStatus:
    spec: ProcessSpec
    pid: int | None
    healthy: bool

    @property
    def state(self) -> str:
        if self.pid is None:
            return "down"
        return "healthy" if self.healthy else "unhealthy"


def log_path(name: str) -> Path:
    return log_dir() / f"{name}.log"


def _launch(spec: ProcessSpec) -> int:
    if spec.prepare:
        spec.prepare()
    log = log_path(spec.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {spec.name}\n".encode())
        out.flush()
        # A new session makes the process its own group leader, so `down` can stop it
        # and anything it spawned with one signal, and Ctrl-C on `make run` reaches
        # only the runner, which then stops the fleet in order.
        process = subprocess.Popen(
            list(spec.argv),
            cwd=spec.cwd,
            env={**os.environ, **spec.env, **(spec.late_env() if spec.late_env else {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state.record(spec.name, process.pid)
    return process.pid


# How long a port held by a connection (not a listener) may take to free itself.
TRANSIENT_HOLD_S = 20.0


def _port_conflicts(specs: Iterable[ProcessSpec]) -> list[str]:
    conflicts = []
    for spec in specs:
        for port in spec.ports:
            if ports.is_bindable(port):
                continue
            held_by = ports.holder(port)
            if held_by is None and ports.wait_bindable(port, TRANSIENT_HOLD_S):
                continue
            held_by = held_by or (
                f"a connection using it as its local port (still there after "
                f"{TRANSIENT_HOLD_S:g} s; `ss -tanp | grep :{port}` shows it)"
            )
            conflicts.append(f"port {port} (needed by {spec.name}) is in use by {held_by}")
    return conflicts


def _death_report(spec: ProcessSpec) -> str:
    log = log_path(spec.name)
    return f"{spec.name} exited during start-up. Last lines of {log}:\n{tail(log, 25)}"


# The fleet's ports lie in the kernel's ephemeral range: a client connection can take one
# as its local port between our check and the process's bind. Such a start is retried.
PORT_TAKEN = "address already in use"
START_ATTEMPTS = 3


def _lost_a_port_race(spec: ProcessSpec, attempts: int) -> bool:
    if attempts >= START_ATTEMPTS or PORT_TAKEN not in tail(log_path(spec.name), 25).lower():
        return False
    return all(ports.wait_bindable(port, TRANSIENT_HOLD_S) for port in spec.ports)


def _wait_healthy(specs: list[ProcessSpec], announce: bool) -> None:
    deadline = {spec.name: time.monotonic() + spec.start_timeout_s for spec in specs}
    pending = {spec.name: spec for spec in specs}
    attempts = dict.fromkeys(pending, 1)
    while pending:
        for name, spec in list(pending.items()):
            if state.alive_pid(name) is None:
                if _lost_a_port_race(spec, attempts[name]):
                    if announce:
                        say(f"  … {name} lost a port to a passing connection; starting it again")
                    attempts[name] += 1
                    _launch(spec)
                    continue
                raise FleetError(_death_report(spec))
            if spec.health():
                del pending[name]
                if announce:
                    say(f"  ✓ {name} healthy")
            elif time.monotonic() > deadline[name]:
                raise FleetError(
                    f"{name} did not become healthy within {spec.start_timeout_s:.0f}s. "
                    f"Last lines of {log_path(name)}:\n{tail(log_path(name), 25)}"
                )
        if pending:
            time.sleep(0.2)


def up(specs: list[ProcessSpec], *, announce: bool = True) -> list[str]:
    """Starts whatever is not running, stage by stage; returns the names it started.

    On any failure it stops the whole fleet, so nothing is left half-started.
    """
    started: list[str] = []
    reserved_ports.reserve(port for spec in specs if spec.fixed_ports for port in spec.ports)
    with state.exclusive():
        try:
            for stage in sorted({spec.stage for spec in specs}):
                members = [spec for spec in specs if spec.stage == stage]
                to_start = [spec for spec in members if state.alive_pid(spec.name) is None]
                conflicts = _port_conflicts(to_start)
                if conflicts:
                    raise FleetError("cannot start the fleet:\n  " + "\n  ".join(conflicts))
                for spec in to_start:
                    if announce:
                        say(f"  … starting {spec.name}")
                    _launch(spec)
                    started.append(spec.name)
                _wait_healthy(members, announce)
        except BaseException:
            _stop_all(specs, announce=announce)
            raise
    return started


def _wait_gone(pids: dict[str, int], timeout_s: float) -> dict[str, int]:
    """Waits for the pids to exit; returns those still alive at the deadline."""
    deadline = time.monotonic() + timeout_s
    remaining = dict(pids)
    while remaining and time.monotonic() < deadline:
        for name, pid in list(remaining.items()):
            _reap(pid)
            if state.start_ticks(pid) is None:
                del remaining[name]
        if remaining:
            time.sleep(0.1)
    return remaining


def _reap(pid: int) -> None:
    """Collects our own exited children so they do not linger as zombies."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _stop_stage(specs: list[ProcessSpec], announce: bool) -> None:
    pids = {spec.name: pid for spec in specs if (pid := state.alive_pid(spec.name)) is not None}
    for pid in pids.values():
        signal_group(pid, signal.SIGTERM)
    stubborn = _wait_gone(pids, STOP_GRACE_S)
    for name, pid in stubborn.items():
        if announce:
            say(f"  ! {name} ignored SIGTERM for {STOP_GRACE_S:.0f}s; killing it")
        signal_group(pid, signal.SIGKILL)
    _wait_gone(stubborn, 5.0)
    for spec in specs:
        # The group may hold children that outlived the leader; make sure none remain.
        if spec.name in pids:
            signal_group(pids[spec.name], signal.SIGKILL)
        state.forget(spec.name)
        if announce and spec.name in pids:
            say(f"  ■ {spec.name} stopped")


def _wait_ports_released(specs: list[ProcessSpec]) -> list[int]:
    deadline = time.monotonic() + PORT_RELEASE_S
    busy = [port for spec in specs for port in spec.ports if ports.is_listening(port)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.1)
        busy = [port for port in busy if ports.is_listening(port)]
    return busy


def _stop_all(specs: list[ProcessSpec], *, announce: bool) -> list[int]:
    # Apps and sidecars first (they drain work and flush spans), infrastructure last.
    for stage in sorted({spec.stage for spec in specs}, reverse=True):
        _stop_stage([spec for spec in specs if spec.stage == stage], announce)
    return _wait_ports_released(specs)


def down(specs: list[ProcessSpec], *, announce: bool = True) -> list[int]:
    """Stops every fleet process; returns ports still bound afterwards (normally none)."""
    with state.exclusive():
        return _stop_all(specs, announce=announce)


def status(specs: list[ProcessSpec]) -> list[ProcessStatus]:
    result = []
    for spec in specs:
        pid = state.alive_pid(spec.name)
        result.append(ProcessStatus(spec, pid, pid is not None and spec.health()))
    return result


def reap_children() -> None:
    """Collects any exited child of this process (the foreground runner's children)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
