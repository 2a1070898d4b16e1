"""Who was sent when, and what became of it: the ledger and the two ways it learns.

Times are `time.monotonic()` (CLOCK_MONOTONIC: one clock for every process of the
machine), so the floor worker's timestamps compare with the bench's send times.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from contracts.events import OrderEventType
from contracts.topics import ORDER_EVENTS, ORDER_REQUESTS, dead_letter
from fleet.kafka_auth import client_options

DONE = "completed"  # the milestone that ends an order (or a floor workflow) well
SYNC = "sync"  # the last synchronous step: shipment_created (or the floor's matching activity)

# What an order event means for the bench; anything else is ignored.
FLEET_MILESTONES = {
    OrderEventType.COMPLETED.value: DONE,
    OrderEventType.SHIPMENT_CREATED.value: SYNC,
}
FLEET_FAILURES = {
    OrderEventType.REJECTED.value: "rejected",
    OrderEventType.COMPENSATED.value: "compensated",
    OrderEventType.CANCELLED.value: "cancelled",
    OrderEventType.FAILED.value: "failed",
    OrderEventType.DELIVERY_OVERDUE.value: "delivery_overdue",
}


@dataclass
class Entry:
    key: str
    step: int
    scheduled: float
    sent: float | None = None
    milestones: dict[str, float] = field(default_factory=dict)
    failure: str | None = None
    failed_at: float | None = None

    def latency(self, milestone: str) -> float | None:
        at = self.milestones.get(milestone)
        return None if at is None else at - self.scheduled

    def resolved(self) -> bool:
        return DONE in self.milestones or self.failure is not None


class Ledger:
    """Thread-safe record of every order (or floor workflow) of one phase."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self.unmatched = 0  # events for keys we did not send (other engineers' orders)

    def register(self, key: str, step: int, scheduled: float) -> None:
        with self._lock:
            self._entries[key] = Entry(key, step, scheduled)

    def sent(self, key: str, at: float) -> None:
        with self._lock:
            self._entries[key].sent = at

    def mark(self, key: str, milestone: str, at: float) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.unmatched += 1
            elif milestone not in entry.milestones:  # at-least-once: the first one counts
                entry.milestones[milestone] = at

    def fail(self, key: str, reason: str, at: float) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.failure is None and DONE not in entry.milestones:
                entry.failure, entry.failed_at = reason, at

    def entries(self, step: int | None = None) -> list[Entry]:
        with self._lock:
            chosen = [e for e in self._entries.values() if step is None or e.step == step]
            return [
                Entry(
                    e.key, e.step, e.scheduled, e.sent, dict(e.milestones), e.failure, e.failed_at
                )
                for e in chosen
            ]

    def unresolved(self, step: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for e in self._entries.values()
                if (step is None or e.step == step) and not e.resolved()
            )

    def counts(self, step: int) -> tuple[int, int]:
        """(registered, resolved) for one step, without copying entries."""
        with self._lock:
            chosen = [e for e in self._entries.values() if e.step == step]
            return len(chosen), sum(1 for e in chosen if e.resolved())

    def done_times(self) -> list[float]:
        with self._lock:
            return [e.milestones[DONE] for e in self._entries.values() if DONE in e.milestones]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def classify_order_event(value: dict[str, Any]) -> tuple[str, str, bool] | None:
    """(order id, milestone or failure reason, is_failure) for an event the bench cares about."""
    event_type = value.get("type")
    subject = value.get("subject")
    if not isinstance(subject, str) or not isinstance(event_type, str):
        return None
    if event_type in FLEET_MILESTONES:
        return subject, FLEET_MILESTONES[event_type], False
    if event_type in FLEET_FAILURES:
        return subject, FLEET_FAILURES[event_type], True
    return None


def classify_dead_letter(value: dict[str, Any]) -> tuple[str, str] | None:
    """(order id, reason) of a dead-letter record naming an order."""
    data = value.get("data") if "specversion" in value else value
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("order_id"), str):
        return None
    return data["order_id"], f"dead-lettered: {data.get('reason', '?')}"


class KafkaTracker:
    """Follows `order-events` (and the intake's dead letters) from their current end.

    All partitions are assigned and their end offsets resolved before `start` returns,
    so nothing published after that is missed. The receive time is taken when `poll`
    returns the record: that is the end of an order's end-to-end latency.
    """

    def __init__(self, ledger: Ledger, prefix: str) -> None:
        self._ledger = ledger
        self._prefix = prefix
        self._consumer = KafkaConsumer(
            **client_options("reader"),
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=100,
            # Back on its feet within a second when the broker restarts (default: up to 30 s).
            reconnect_backoff_max_ms=1000,
            client_id="bench-tracker",
        )
        self._events_topic = ORDER_EVENTS
        self._dlq_topic = dead_letter(ORDER_REQUESTS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-tracker", daemon=True)
        self.records = 0

    def _partitions(self, topic: str, wait_s: float) -> list[TopicPartition]:
        deadline = time.monotonic() + wait_s
        while True:
            found = self._consumer.partitions_for_topic(topic)
            if found:
                return [TopicPartition(topic, p) for p in sorted(found)]
            if time.monotonic() > deadline:
                return []
            time.sleep(0.2)

    def start(self) -> "KafkaTracker":
        assigned = self._partitions(self._events_topic, 30)
        if not assigned:
            raise RuntimeError(f"topic {self._events_topic} has no partitions; is Kafka up?")
        assigned += self._partitions(self._dlq_topic, 2)  # absent until a first dead letter
        self._consumer.assign(assigned)
        self._consumer.seek_to_end(*assigned)
        for partition in assigned:
            self._consumer.position(partition)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._consumer.poll(timeout_ms=200)
            received = time.monotonic()
            for partition, records in batch.items():
                dead_letters = partition.topic == self._dlq_topic
                for record in records:
                    self.records += 1
                    self._handle(record.value, received, dead_letters)

    def _handle(self, raw: bytes, received: float, dead_letters: bool) -> None:
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, dict):
            return
        if dead_letters:
            found = classify_dead_letter(value)
            if found and found[0].startswith(self._prefix):
                self._ledger.fail(found[0], found[1], received)
            return
        event = classify_order_event(value)
        if event is None or not event[0].startswith(self._prefix):
            return
        key, what, is_failure = event
        if is_failure:
            self._ledger.fail(key, what, received)
        else:
            self._ledger.mark(key, what, received)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()


def parse_floor_line(line: str) -> tuple[str, str, float] | None:
    """'<instance>\\t<milestone>\\t<monotonic seconds>' as the floor worker writes it."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 3:
        return None
    try:
        return parts[0], parts[1], float(parts[2])
    except ValueError:
        return None


class FileTracker:
    """Tails the floor worker's completion file into the ledger."""

    def __init__(self, ledger: Ledger, path: Path, on_other: Callable[[str], None] | None = None):
        self._ledger = ledger
        self._path = path
        self._on_other = on_other
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-floor-tracker", daemon=True)

    def start(self) -> "FileTracker":
        self._path.touch()
        self._thread.start()
        return self

    def _run(self) -> None:
        with self._path.open() as handle:
            pending = ""
            while not self._stop.is_set():
                chunk = handle.readline()
                if not chunk:
                    self._stop.wait(0.05)
                    continue
                pending += chunk
                if not pending.endswith("\n"):
                    continue  # a line still being written
                parsed = parse_floor_line(pending)
                pending = ""
                if parsed is None:
                    continue
                key, milestone, at = parsed
                if milestone in (DONE, SYNC):
                    self._ledger.mark(key, milestone, at)
                elif self._on_other:
                    self._on_other(milestone)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
