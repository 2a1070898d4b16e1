"""Remembers which pid runs which fleet process, robust to pid reuse."""

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from fleet.paths import run_dir


@dataclass(frozen=True)
class Started:
    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22: tells a live pid from a reused one


def _state_file() -> Path:
    return run_dir() / "processes.json"


def start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; fields resume after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def load() -> dict[str, Started]:
    try:
        raw = json.loads(_state_file().read_text())
    except (OSError, ValueError):
        return {}
    return {name: Started(**entry) for name, entry in raw.items()}


def save(processes: dict[str, Started]) -> None:
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({k: asdict(v) for k, v in processes.items()}, indent=2))
    temporary.replace(path)


def record(name: str, pid: int) -> None:
    processes = load()
    ticks = start_ticks(pid)
    if ticks is not None:
        processes[name] = Started(pid, ticks)
        save(processes)


def forget(name: str) -> None:
    processes = load()
    if processes.pop(name, None) is not None:
        save(processes)


def alive_pid(name: str) -> int | None:
    entry = load().get(name)
    if entry is None:
        return None
    return entry.pid if start_ticks(entry.pid) == entry.start_ticks else None


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """Serialises `up` and `down` between concurrent callers (two terminals, tests)."""
    lock_path = run_dir() / "lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---- holds: a process killed on purpose (a chaos fault, a test) that the keeper leaves down


def _holds_file() -> Path:
    return run_dir() / "holds.json"


def _load_holds() -> dict[str, float]:
    try:
        raw = json.loads(_holds_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(name): float(until) for name, until in raw.items()}


def hold(name: str, seconds: float) -> None:
    """Asks the keeper not to restart `name` for `seconds` (whoever killed it restarts it)."""
    holds = _load_holds()
    holds[name] = time.time() + seconds
    path = _holds_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(holds))
    temporary.replace(path)


def release(name: str) -> None:
    holds = _load_holds()
    if holds.pop(name, None) is not None:
        _holds_file().write_text(json.dumps(holds))


def held(name: str) -> bool:
    return _load_holds().get(name, 0.0) > time.time()
