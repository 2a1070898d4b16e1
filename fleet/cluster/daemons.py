"""The node's daemons as background processes: start, wait until ready, stop; by pid.

Pids are kept with their start time (fleet.runner.state.start_ticks), so a reused pid is
never taken for a daemon of ours, and `down` works from any later process.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fleet.provision.errors import tail
from fleet.runner.signals import signal_group
from fleet.runner.state import start_ticks

Check = Callable[[], bool]


class NodeError(RuntimeError):
    """The node could not be brought up; the message names the daemon and its log."""


@dataclass(frozen=True)
class Daemon:
    name: str
    argv: tuple[str, ...]
    ready: Check
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 120.0


class Registry:
    """name → (pid, start ticks), in the node's run folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, tuple[int, int]]:
        try:
            return {k: (v[0], v[1]) for k, v in json.loads(self.path.read_text()).items()}
        except (OSError, ValueError):
            return {}

    def _save(self, entries: dict[str, tuple[int, int]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(entries, indent=2))
        temporary.replace(self.path)

    def record(self, name: str, pid: int) -> None:
        ticks = start_ticks(pid)
        if ticks is not None:
            self._save({**self.load(), name: (pid, ticks)})

    def forget(self, name: str) -> None:
        entries = self.load()
        if entries.pop(name, None) is not None:
            self._save(entries)

    def alive(self, name: str) -> int | None:
        entry = self.load().get(name)
        if entry is None:
            return None
        pid, ticks = entry
        return pid if start_ticks(pid) == ticks else None


def start(daemon: Daemon, registry: Registry, log: Path) -> int:
    """Starts the daemon unless it runs already; returns its pid."""
    running = registry.alive(daemon.name)
    if running is not None:
        return running
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {daemon.name}\n".encode())
        out.flush()
        # Its own session: one signal to the group reaches whatever it spawned.
        process = subprocess.Popen(
            list(daemon.argv),
            env={**os.environ, **daemon.env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    registry.record(daemon.name, process.pid)
    return process.pid


def wait_ready(daemon: Daemon, registry: Registry, log: Path) -> float:
    """Polls the daemon's readiness; raises with its log's tail if it dies or times out."""
    began = time.monotonic()
    while True:
        if registry.alive(daemon.name) is None:
            raise NodeError(
                f"{daemon.name} exited while starting. Last lines of {log}:\n{tail(log, 25)}"
            )
        if daemon.ready():
            return time.monotonic() - began
        if time.monotonic() - began > daemon.timeout_s:
            raise NodeError(
                f"{daemon.name} was not ready after {daemon.timeout_s:.0f}s. "
                f"Last lines of {log}:\n{tail(log, 25)}"
            )
        time.sleep(0.25)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _gone(pid: int, ticks: int) -> bool:
    _reap(pid)
    return start_ticks(pid) != ticks


def stop(name: str, registry: Registry, grace_s: float = 20.0) -> bool:
    """SIGTERM to the daemon's group, SIGKILL after the grace; True if it was running."""
    entry = registry.load().get(name)
    if entry is None:
        return False
    pid, ticks = entry
    was_running = not _gone(pid, ticks)
    if was_running:
        signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while not _gone(pid, ticks) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _gone(pid, ticks):
            signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while not _gone(pid, ticks) and time.monotonic() < deadline:
                time.sleep(0.1)
    registry.forget(name)
    return was_running


def processes_mentioning(needle: str) -> list[int]:
    """Pids whose command line contains `needle` (a path only this node uses: its
    containerd socket), e.g. the runc shims that outlive containerd."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def kill_pids(pids: list[int], grace_s: float = 10.0) -> list[int]:
    """SIGTERM, then SIGKILL what remains; returns pids still alive."""
    ticks = {pid: start_ticks(pid) for pid in pids}
    live = [p for p in pids if ticks[p] is not None]
    for pid in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while live and time.monotonic() < deadline:
        live = [p for p in live if start_ticks(p) == ticks[p]]
        time.sleep(0.1)
    for pid in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    return [p for p in live if start_ticks(p) == ticks[p]]
