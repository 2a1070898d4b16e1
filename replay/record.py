"""`make record-histories`: record real workflow histories from a running fleet.

    python -m replay.record [--only completed,bulk] [--fleet-home /path/to/checkout/.fleet]

Places an order for every path of `replay.scenarios` on the running fleet, waits for each
to finish, and fetches the full history of every workflow instance it ran (the order, its
shipment monitor, the bulk's children and theirs) from the orchestrator's sidecar
(durabletask's `GetInstanceHistory`, with the sidecar's API token). They are written to
`tests/unit/histories/<path>/<name>.json`; regenerating them is this same command (each
path's folder is replaced as a whole, so nothing stale survives).

A workflow that continues as new keeps one generation's history at a time: the sidecar
replaces it with the next one's. While the orders run, a watcher polls every instance's
history and keeps each generation as it last saw it; a generation that continued is
therefore recorded as it stood at its last wait (in flight), and the last generation in
full. The fleet is not restarted and its settings are not changed; the recorder creates
its own SKUs (`RPL-<tag>-...`) in the fleet's inventory.
"""

import argparse
import importlib.metadata
import logging
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from dapr.ext.workflow._durabletask.internal import protos as pb

from fleet.console import say, table
from fleet.paths import REPO_ROOT, home_dir
from replay.fleet import Fleet, RecorderError, Target, fleet_commit
from replay.history import RecordedHistory, compact, write
from replay.scenarios import SCENARIOS, Missed, Root, Scenario, Session, Skus

HISTORIES = REPO_ROOT / "tests" / "unit" / "histories"
_SHORT = {"order_workflow": "order", "shipment_monitor": "monitor", "bulk_orders": "bulk"}

logger = logging.getLogger("replay.record")


def _execution(events: Sequence[pb.HistoryEvent]) -> str | None:
    """Which generation a history is: its execution id (a new one per continue-as-new)."""
    for event in events:
        if event.HasField("executionStarted"):
            started = event.executionStarted
            return started.workflowInstance.executionId.value or started.input.value
    return None


def _started_at(events: Sequence[pb.HistoryEvent]) -> float:
    return events[0].timestamp.ToDatetime().timestamp() if events else 0.0


def _children(events: Sequence[pb.HistoryEvent]) -> list[tuple[str, str]]:
    return [
        (e.childWorkflowInstanceCreated.instanceId, e.childWorkflowInstanceCreated.name)
        for e in events
        if e.HasField("childWorkflowInstanceCreated")
    ]


def _done(events: Sequence[pb.HistoryEvent]) -> bool:
    return any(e.HasField("executionCompleted") for e in events)


class Watcher:
    """Polls every instance of interest and keeps each generation's longest history."""

    def __init__(self, fleet: Fleet, every_s: float = 0.2) -> None:
        self._fleet = fleet
        self._every_s = every_s
        self._lock = threading.Lock()
        self._active: set[str] = set()
        self._generations: dict[str, dict[str, list[pb.HistoryEvent]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-watcher", daemon=True)

    def __enter__(self) -> "Watcher":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def watch(self, instance_id: str) -> None:
        with self._lock:
            self._active.add(instance_id)

    def forget(self, instance_id: str) -> None:
        with self._lock:
            self._active.discard(instance_id)

    def keep(self, instance_id: str, events: list[pb.HistoryEvent]) -> None:
        execution = _execution(events)
        if execution is None:
            return
        with self._lock:
            seen = self._generations.setdefault(instance_id, {})
            if len(events) >= len(seen.get(execution, [])):
                seen[execution] = events

    def generations(self, instance_id: str) -> list[list[pb.HistoryEvent]]:
        """Every generation seen, oldest first."""
        with self._lock:
            return sorted(self._generations.get(instance_id, {}).values(), key=_started_at)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            with self._lock:
                active = sorted(self._active)
            for instance_id in active:
                try:
                    events = self._fleet.history(instance_id)
                except Exception as error:  # a busy sidecar: the next poll tries again
                    logger.debug("history of %s: %s", instance_id, error)
                    continue
                if not events:
                    continue
                self.keep(instance_id, events)
                for child, _ in _children(events):
                    self.watch(child)
                if _done(events):
                    self.forget(instance_id)


@dataclass(frozen=True)
class Recording:
    path: str
    histories: list[RecordedHistory]
    attempts: int


def _role(parent_role: str, root_role: str, workflow: str, number: int | None) -> str:
    base = _SHORT.get(workflow, workflow) + (f"-{number}" if number is not None else "")
    return base if parent_role == root_role else f"{parent_role}.{base}"


def collect(
    fleet: Fleet, watcher: Watcher, path: str, root: Root, recorded: dict[str, str]
) -> list[RecordedHistory]:
    """The finished root's history and every descendant's, each generation its own file."""
    out: list[RecordedHistory] = []
    queue = [(root.instance_id, root.role)]
    while queue:
        instance_id, role = queue.pop(0)
        final = fleet.history(instance_id)
        if not final or not _done(final):
            raise RecorderError(f"{instance_id} has not completed; cannot record it yet")
        watcher.keep(instance_id, final)
        generations = watcher.generations(instance_id)
        workflow = next(e.executionStarted.name for e in final if e.HasField("executionStarted"))
        for number, events in enumerate(generations, start=1):
            many = len(generations) > 1
            note = None
            if many and number < len(generations):
                note = (
                    f"generation {number} of {len(generations)} recorded: it continued as new, "
                    "so it is kept as it stood at its last wait (the sidecar replaces a "
                    "generation's history with the next one's)"
                )
            elif many:
                note = f"generation {number} of {len(generations)} recorded: the last, in full"
            out.append(
                RecordedHistory(
                    path=path,
                    name=f"{role}.gen{number}" if many else role,
                    instance_id=instance_id,
                    workflow=workflow,
                    events=tuple(compact(e) for e in events),
                    note=note,
                    recorded=recorded,
                )
            )
        children = [c for events in generations for c in _children(events)]
        counts: dict[str, int] = {}
        for _, name in children:
            counts[name] = counts.get(name, 0) + 1
        seen: dict[str, int] = {}
        for child, name in children:
            seen[name] = seen.get(name, 0) + 1
            nth = seen[name] if counts[name] > 1 else None
            queue.append((child, _role(role, root.role, name, nth)))
    return out


def _record(
    scenario: Scenario, session: Session, watcher: Watcher, recorded: dict[str, str]
) -> Recording:
    misses: list[str] = []
    for attempt in range(1, scenario.attempts + 1):
        order_id = session.order_id(scenario.path, attempt)
        try:
            root = scenario.drive(session, order_id)
        except Missed as missed:
            misses.append(str(missed))
            watcher.forget(order_id)
            continue
        histories = collect(session.fleet, watcher, scenario.path, root, recorded)
        return Recording(scenario.path, histories, attempt)
    raise RecorderError(f"{scenario.path}: missed in all {scenario.attempts} attempts: {misses}")


def _skus(fleet: Fleet, tag: str) -> Skus:
    base = f"RPL-{tag.upper()}"
    return Skus(
        plain=fleet.new_sku(f"{base}-P", stock=1000, price="12.50"),
        expensive=fleet.new_sku(f"{base}-X", stock=100, price="600.00"),
        scarce=fleet.new_sku(f"{base}-S", stock=1, price="12.50"),
        many=tuple(fleet.new_sku(f"{base}-M{n}", stock=100, price="3.00") for n in range(8)),
    )


def record(
    target: Target, scenarios: Sequence[Scenario], out: Path, *, parallel: int = 8
) -> tuple[list[Recording], list[str]]:
    fleet = Fleet(target)
    if not fleet.healthy():
        raise RecorderError(
            f"no healthy fleet at {target.api_url}: start one (make up) or point the "
            "recorder at one (--api, --grpc, --http, --fleet-home)"
        )
    recorded = {
        "fleet_commit": fleet_commit(target.fleet_home),
        "runtime": fleet.runtime_version(),
        "sdk": f"dapr-ext-workflow {importlib.metadata.version('dapr-ext-workflow')}",
    }
    tag = secrets.token_hex(3)
    recordings: list[Recording] = []
    failures: list[str] = []
    with Watcher(fleet) as watcher:
        session = Session(fleet=fleet, tag=tag, skus=_skus(fleet, tag), on_start=watcher.watch)
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            futures = {
                s.path: pool.submit(_record, s, session, watcher, recorded) for s in scenarios
            }
            for path, future in futures.items():
                try:
                    recording = future.result()
                except Exception as error:
                    failures.append(f"{path}: {error}")
                    continue
                folder = out / path
                if folder.exists():
                    shutil.rmtree(folder)
                for history in recording.histories:
                    write(out, history)
                recordings.append(recording)
    fleet.close()
    return recordings, failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replay.record", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", help="comma-separated paths (default: all)")
    parser.add_argument("--out", type=Path, default=HISTORIES, help="where the histories go")
    parser.add_argument(
        "--fleet-home", type=Path, default=home_dir(),
        help="the running fleet's home (its checkout's .fleet): its secrets give the API token",
    )  # fmt: skip
    parser.add_argument("--token", help="the orchestrator sidecar's API token (else read)")
    parser.add_argument("--api", help="the orchestrator's HTTP API (default the topology's)")
    parser.add_argument("--grpc", help="the orchestrator sidecar's gRPC host:port")
    parser.add_argument("--http", help="the orchestrator sidecar's HTTP URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    wanted = [p.strip() for p in args.only.split(",")] if args.only else [s.path for s in SCENARIOS]
    unknown = sorted(set(wanted) - {s.path for s in SCENARIOS})
    if unknown:
        say(f"unknown paths {unknown}; the paths are {[s.path for s in SCENARIOS]}", error=True)
        return 2
    try:
        target = Target.local(args.fleet_home, args.token)
    except RecorderError as error:
        say(str(error), error=True)
        return 2
    overrides = {"api_url": args.api, "sidecar_grpc": args.grpc, "sidecar_http": args.http}
    target = replace(target, **{k: v for k, v in overrides.items() if v})

    began = time.monotonic()
    say(f"recording {len(wanted)} paths on {target.api_url} (sidecar {target.sidecar_grpc})")
    try:
        recordings, failures = record(target, [s for s in SCENARIOS if s.path in wanted], args.out)
    except RecorderError as error:
        say(str(error), error=True)
        return 1
    rows = [
        [r.path, str(len(r.histories)), ", ".join(h.name for h in r.histories),
         str(sum(len(h.events) for h in r.histories)), str(r.attempts)]
        for r in sorted(recordings, key=lambda r: r.path)
    ]  # fmt: skip
    say(table(["PATH", "FILES", "HISTORIES", "EVENTS", "ATTEMPTS"], rows))
    say(f"written to {args.out} in {time.monotonic() - began:.0f}s")
    for failure in failures:
        say(f"FAILED {failure}", error=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
