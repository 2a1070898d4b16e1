"""A benchmark's own processes (the floor's, the peer's): each in a session of its own,
logged, stopped by PID.

Only what this object started is ever signalled (its process groups, by the PIDs it
holds), never anything found by name.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self._running.items() if p.poll() is None}

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {name}\n".encode())
            log.flush()
            self._running[name] = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Until `ready()`, failing at once if one of ours exits meanwhile."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            for name, process in self._running.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited ({process.returncode}) while waiting for {what}; "
                        f"see {self.logs / (name + '.log')}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout_s:.0f}s waiting for {what}")
            time.sleep(0.2)

    def stop(self, name: str, grace_s: float = 15.0) -> None:
        process = self._running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in reversed(list(self._running)):  # the last started first
            self.stop(name)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # start_new_session made the child its group's leader: its pgid is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def lines(path: Path) -> Iterator[str]:
    """A file's lines as they are now; none if it does not exist yet."""
    try:
        with path.open() as handle:
            yield from handle
    except OSError:
        return
