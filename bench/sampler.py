"""Samples CPU and memory of named processes every second from /proc."""

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic()
    name: str
    pid: int
    cpu_ticks: int  # utime + stime
    rss_kib: int
    threads: int
    state: str = "R"  # /proc/<pid>/stat field 3: T means stopped (SIGSTOP)


@dataclass(frozen=True)
class HostSample:
    t: float
    busy_ticks: int  # every CPU's non-idle time, from /proc/stat
    total_ticks: int


def parse_stat(text: str) -> tuple[str, int, int]:
    """(state, utime, stime) from /proc/<pid>/stat; times in clock ticks."""
    # The command name may hold spaces and parentheses; fields resume after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return fields[0], int(fields[11]), int(fields[12])


def parse_status(text: str) -> tuple[int, int]:
    """(VmRSS in KiB, Threads) from /proc/<pid>/status; 0 for a missing line."""
    rss = threads = 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def parse_host_stat(text: str) -> tuple[int, int]:
    """(busy, total) ticks of all CPUs from /proc/stat's first line."""
    values = [int(v) for v in text.splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


# Servers that do their work in child processes of the one the runner started: their CPU
# and memory are those of the process and its children (PostgreSQL forks a backend per
# connection, and each child calls setsid(), so they do not share its process group).
FORKING_SERVERS = frozenset({"postgres"})


def parent_pid(stat: str) -> int:
    return int(stat[stat.rindex(")") + 2 :].split()[1])  # field 4: ppid


def children(parent: int) -> list[int]:
    """The live processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if parent_pid(stat) == parent:
            found.append(int(entry.name))
    return found


def read_process(name: str, pid: int, now: float) -> Sample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    process_state, utime, stime = parse_stat(stat)
    rss, threads = parse_status(status)
    ticks = utime + stime
    if name in FORKING_SERVERS:
        for member in children(pid):
            try:
                _, m_utime, m_stime = parse_stat(Path(f"/proc/{member}/stat").read_text())
                m_rss, m_threads = parse_status(Path(f"/proc/{member}/status").read_text())
            except OSError:
                continue
            ticks, rss, threads = ticks + m_utime + m_stime, rss + m_rss, threads + m_threads
        # Exited backends' time lives on in the leader's children's times (fields 16, 17).
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[13]) + int(fields[14])
    return Sample(now, name, pid, ticks, rss, threads, process_state)


def read_host(now: float) -> HostSample:
    busy, total = parse_host_stat(Path("/proc/stat").read_text())
    return HostSample(now, busy, total)


@dataclass(frozen=True)
class ProcessFigures:
    cpu_pct: float  # of one core: 200 means two cores fully busy
    rss_mb_mean: float
    rss_mb_max: float
    rss_mb_last: float
    threads_max: int


def figures(samples: Sequence[Sample]) -> ProcessFigures | None:
    """CPU over the span of the samples (of one pid), and its RSS; None for < 2 samples."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    elapsed = last.t - first.t
    cpu = (last.cpu_ticks - first.cpu_ticks) / CLOCK_TICKS / elapsed * 100 if elapsed > 0 else 0.0
    rss = [s.rss_kib / 1024 for s in samples]
    return ProcessFigures(
        cpu_pct=round(cpu, 1),
        rss_mb_mean=round(sum(rss) / len(rss), 1),
        rss_mb_max=round(max(rss), 1),
        rss_mb_last=round(rss[-1], 1),
        threads_max=max(s.threads for s in samples),
    )


def host_cpu_pct(samples: Sequence[HostSample]) -> float | None:
    """Busy share of the whole machine in percent of one core (like `top`'s per-process %)."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    total = last.total_ticks - first.total_ticks
    if total <= 0:
        return None
    cores = os.cpu_count() or 1
    return round((last.busy_ticks - first.busy_ticks) / total * 100 * cores, 1)


def disturbances(samples: Sequence[Sample]) -> dict[str, list[str]]:
    """{"restarted": [...], "stopped": [...], "missing": [...]} over these samples."""
    pids: dict[str, set[int]] = {}
    stopped: set[str] = set()
    last_seen: dict[str, float] = {}
    for sample in samples:
        pids.setdefault(sample.name, set()).add(sample.pid)
        if sample.state == "T":
            stopped.add(sample.name)
        last_seen[sample.name] = sample.t
    end = max(last_seen.values(), default=0.0)
    return {
        "restarted": sorted(name for name, seen in pids.items() if len(seen) > 1),
        "stopped": sorted(stopped),
        # Not sampled in the last 3 s of the span: it died and was not back.
        "missing": sorted(name for name, t in last_seen.items() if end - t > 3.0),
    }


class ProcessSampler:
    """A daemon thread reading /proc every `interval_s` for the processes `targets()` names."""

    def __init__(self, targets: Callable[[], dict[str, int]], interval_s: float = 1.0) -> None:
        self._targets = targets
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self._host: list[HostSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> "ProcessSampler":
        self._sample_once()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _sample_once(self) -> None:
        now = time.monotonic()
        taken = [s for name, pid in self._targets().items() if (s := read_process(name, pid, now))]
        host = read_host(now)
        with self._lock:
            self._samples.extend(taken)
            self._host.append(host)

    def _run(self) -> None:
        next_at = time.monotonic() + self._interval_s
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            self._sample_once()
            next_at += self._interval_s

    def between(self, start: float, end: float) -> tuple[dict[str, list[Sample]], list[HostSample]]:
        """Samples taken in [start, end], by process name (the latest pid of each name)."""
        with self._lock:
            chosen = [s for s in self._samples if start <= s.t <= end]
            host = [h for h in self._host if start <= h.t <= end]
        by_name: dict[str, list[Sample]] = {}
        for sample in chosen:
            series = by_name.setdefault(sample.name, [])
            if series and series[-1].pid != sample.pid:
                series.clear()  # restarted: only the current process's samples mean anything
            series.append(sample)
        return by_name, host

    def disturbances(self, start: float, end: float) -> dict[str, list[str]]:
        """Processes restarted (a new pid), stopped (SIGSTOP) or gone during [start, end]:
        someone else's chaos, which makes the figures of that span meaningless."""
        with self._lock:
            chosen = [s for s in self._samples if start <= s.t <= end]
        return disturbances(chosen)

    def summary(self, start: float, end: float) -> tuple[dict[str, ProcessFigures], float | None]:
        by_name, host = self.between(start, end)
        result = {name: f for name, series in sorted(by_name.items()) if (f := figures(series))}
        return result, host_cpu_pct(host)
