"""Kernel settings the node needs: set once before it starts, put back when it stops.

The kubelet would set its tunables itself (vm.overcommit_memory, kernel.panic, ...) and
the CNI bridge turns on forwarding; here the node sets them all first, recording the
values it found, so every change is ours and can be undone. With `protectKernelDefaults`
the kubelet then only checks them.

Restoring is careful: a setting goes back only if it still holds the value the node set.
If something else changed it meanwhile, that something now owns it, and it is left (and
reported). Forwarding goes back too, with a warning naming any bridge with ports that
appeared while the node ran: a Docker engine started meanwhile found it on and may rely
on it (this project's own engine runs with --ip-forward=false and does not).
"""

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# What the node needs, and why.
WANTED: dict[str, str] = {
    # Pods reach each other and Services through the host.
    "net.ipv4.ip_forward": "1",
    # Bridged pod-to-pod traffic must pass netfilter, or Service replies skip un-DNAT.
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    # The kubelet's own tunables (pkg/kubelet/cm/container_manager_linux.go).
    "vm.overcommit_memory": "1",
    "vm.panic_on_oom": "0",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
}

# Keys that can be ours to give back only through the rules below.
FORWARDING = "net.ipv4.ip_forward"


def path_of(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def read(key: str) -> str:
    return " ".join(path_of(key).read_text().split())


def write(key: str, value: str) -> None:
    path_of(key).write_text(value + "\n")


@dataclass(frozen=True)
class Change:
    key: str
    before: str
    set_to: str


def plan(wanted: Mapping[str, str], current: Mapping[str, str]) -> list[Change]:
    """The changes to make: only keys whose value differs from what the node wants."""
    return [Change(k, current[k], v) for k, v in wanted.items() if current[k] != v]


def merge_record(recorded: list[Change], fresh: list[Change]) -> list[Change]:
    """A second `up` over a half-stopped node must keep the values found the first time."""
    known = {c.key for c in recorded}
    return recorded + [c for c in fresh if c.key not in known]


@dataclass(frozen=True)
class Restore:
    put_back: list[Change]
    left: list[tuple[Change, str]]  # change, reason
    warnings: list[str]


def plan_restore(
    recorded: list[Change], current: Mapping[str, str], new_bridges: list[str]
) -> Restore:
    put_back: list[Change] = []
    left: list[tuple[Change, str]] = []
    warnings: list[str] = []
    for change in recorded:
        now = current.get(change.key)
        if now is None:
            left.append((change, "no longer exists"))
        elif now == change.before:
            continue  # already back
        elif now != change.set_to:
            left.append((change, f"changed to {now} since the node set it; left as it is"))
        else:
            put_back.append(change)
            if change.key == FORWARDING and new_bridges:
                warnings.append(
                    f"{FORWARDING} is back to {change.before}; {', '.join(new_bridges)} appeared "
                    "while the node ran: if its owner routes through this host, it must turn "
                    "forwarding on again"
                )
    return Restore(put_back, left, warnings)


class Record:
    """The changes made, kept in a file so a later `down` (another process) can undo them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Change]:
        try:
            return [Change(**c) for c in json.loads(self.path.read_text())]
        except (OSError, ValueError):
            return []

    def save(self, changes: list[Change]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps([vars(c) for c in changes], indent=2))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def apply(record: Record, wanted: Mapping[str, str] = WANTED) -> list[Change]:
    current = {key: read(key) for key in wanted}
    changes = plan(wanted, current)
    # Recorded before writing: a crash half-way must not lose an original value.
    record.save(merge_record(record.load(), changes))
    for change in changes:
        write(change.key, change.set_to)
    return changes


def restore(record: Record, new_bridges: Callable[[], list[str]]) -> Restore:
    recorded = record.load()
    current: dict[str, str] = {}
    for change in recorded:
        with contextlib.suppress(OSError):
            current[change.key] = read(change.key)
    outcome = plan_restore(recorded, current, new_bridges())
    for change in outcome.put_back:
        write(change.key, change.before)
    record.clear()
    return outcome
