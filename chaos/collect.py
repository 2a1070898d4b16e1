"""Reads what the fleet says happened: workflow views, ledgers, shipments, stock, the
`order-events` and `order-requests.dlq` topics, and the sidecars' retry warnings."""

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition

from chaos.checker import dead_letter_text, event_order_id, terminal_event_missing
from chaos.client import FleetClient
from chaos.model import (
    TERMINAL_STATUSES,
    LedgerEntry,
    LoadPlan,
    Observation,
    OrderObservation,
    SkuObservation,
)
from contracts.topics import ORDER_EVENTS, ORDER_REQUESTS, dead_letter
from fleet.kafka_auth import client_options
from fleet.kafka_io import MAX_REQUEST_BYTES
from fleet.paths import log_dir

Say = Callable[[str], None]


def wait_terminal(
    plan: LoadPlan, client: FleetClient, timeout_s: float, say: Say
) -> tuple[dict[str, str | None], float | None]:
    """Polls the unfinished orders until all are terminal; returns the last status seen of
    each and when the last one finished (None when `timeout_s` ran out first)."""
    statuses: dict[str, str | None] = {o.order_id: None for o in plan.orders}
    pending = set(statuses)
    deadline = time.monotonic() + timeout_s
    next_report = time.monotonic() + 15
    while True:
        for order_id in sorted(pending):
            try:
                view = client.order_view(order_id)
            except Exception as error:  # a read that fails now is retried next round
                say(f"  … reading {order_id} failed: {error!r}")
                continue
            statuses[order_id] = view["status"] if view else None
            if statuses[order_id] in TERMINAL_STATUSES:
                pending.discard(order_id)
        if not pending:
            return statuses, time.time()
        if time.monotonic() > deadline:
            return statuses, None
        if time.monotonic() > next_report:
            waiting = Counter(str(statuses[order_id]) for order_id in pending)
            say(f"  … {len(pending)} orders not terminal yet: {dict(waiting)}")
            next_report = time.monotonic() + 15
        time.sleep(2.0)


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# What an order the API cannot read is listed as: never terminal, so the run fails and
# names it (with the API's answer) instead of stopping before the report.
UNREADABLE = "UNREADABLE"


def observe_order(client: FleetClient, order_id: str) -> OrderObservation:
    try:
        view = client.order_view(order_id)
    except httpx.HTTPStatusError as error:
        if error.response.status_code < 500:
            raise
        view = {"status": UNREADABLE, "failure_reason": error.response.text[:300]}
    ledger = client.ledger(order_id)
    shipment = client.shipment(order_id)
    entries = tuple(
        LedgerEntry(str(e["entry_id"]), str(e["kind"]), Decimal(str(e["amount"])))
        for e in ledger["entries"]
    )
    shipment_state = str(shipment["state"]) if shipment else None
    if view is None:
        return OrderObservation(
            order_id, found=False, ledger=entries, shipment_state=shipment_state
        )
    return OrderObservation(
        order_id,
        found=True,
        status=str(view["status"]),
        step=view.get("step"),
        total=_money(view.get("total")),
        failure_reason=view.get("failure_reason"),
        ledger=entries,
        shipment_state=shipment_state,
    )


class TopicReader:
    """Reads a topic from its beginning, keeping the records `keep` accepts."""

    def __init__(self, topic: str, keep: Callable[[dict[str, Any]], bool]) -> None:
        self._keep = keep
        self._consumer = KafkaConsumer(
            **client_options("reader"),
            enable_auto_commit=False,
            fetch_max_bytes=MAX_REQUEST_BYTES * 2,
            max_partition_fetch_bytes=MAX_REQUEST_BYTES * 2,
            client_id="chaos-checker",
        )
        partitions = self._consumer.partitions_for_topic(topic) or set()
        self._partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        self.records: list[dict[str, Any]] = []
        self.undecodable = 0

    def drain(self, timeout_s: float = 120.0) -> None:
        """Reads up to the topic's current end."""
        if not self._partitions:
            return
        ends = self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + timeout_s
        while any(self._consumer.position(p) < ends[p] for p in self._partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {self._partitions[0].topic} to its end")
            for batch in self._consumer.poll(timeout_ms=500).values():
                for record in batch:
                    try:
                        value = json.loads(record.value)
                    except (UnicodeDecodeError, ValueError):
                        self.undecodable += 1
                        continue
                    if isinstance(value, dict) and self._keep(value):
                        self.records.append(value)

    def close(self) -> None:
        self._consumer.close()


def read_events(
    plan: LoadPlan, statuses: dict[str, str | None], grace_s: float, say: Say
) -> list[dict[str, Any]]:
    """This run's order events; waits up to `grace_s` for terminal orders' last events."""
    ids = {o.order_id for o in plan.orders}
    reader = TopicReader(ORDER_EVENTS, lambda event: event_order_id(event) in ids)
    try:
        deadline = time.monotonic() + grace_s
        while True:
            reader.drain()
            missing = terminal_event_missing(statuses, reader.records)
            if not missing or time.monotonic() > deadline:
                return reader.records
            say(f"  … waiting for the terminal events of {len(missing)} orders")
            time.sleep(3.0)
    finally:
        reader.close()


def read_dead_letters(plan: LoadPlan) -> list[dict[str, Any]]:
    """Records of `order-requests.dlq` that name anything of this run."""
    prefix = plan.prefix.lower()
    reader = TopicReader(
        dead_letter(ORDER_REQUESTS), lambda record: prefix in dead_letter_text(record).lower()
    )
    try:
        reader.drain()
        return reader.records
    finally:
        reader.close()


def observe(
    plan: LoadPlan,
    client: FleetClient,
    statuses: dict[str, str | None],
    say: Say,
    *,
    event_grace_s: float = 60.0,
) -> Observation:
    orders = {o.order_id: observe_order(client, o.order_id) for o in plan.orders}
    stock = []
    for sku in plan.skus:
        item = client.catalog_item(sku.sku)
        stock.append(
            SkuObservation(
                sku.sku,
                sku.stock,
                int(item["available"]),
                int(item["reserved"]),
                int(item["shipped"]),
            )
        )
    final_statuses = {order_id: o.status for order_id, o in orders.items()}
    events = read_events(plan, {**statuses, **final_statuses}, event_grace_s, say)
    return Observation(
        orders=orders,
        stock=tuple(stock),
        events=tuple(events),
        dead_letters=tuple(read_dead_letters(plan)),
    )


# ---- retries the sidecars logged (resiliency policies at work)

_RETRY = re.compile(r'msg="(?:Error processing operation )?(?P<what>.*?)\. Retrying')


@dataclass
class Retries:
    per_sidecar: dict[str, int] = field(default_factory=dict)
    top_operations: list[tuple[str, int]] = field(default_factory=list)


def log_marks() -> dict[str, int]:
    """The current size of every sidecar log, to count what is written after it."""
    return {path.name: path.stat().st_size for path in sorted(log_dir().glob("*-dapr.log"))}


def retries_since(marks: dict[str, int]) -> Retries:
    retries = Retries()
    operations: Counter[str] = Counter()
    for path in sorted(log_dir().glob("*-dapr.log")):
        start = marks.get(path.name, 0)
        with path.open("rb") as log:
            log.seek(start if start <= path.stat().st_size else 0)
            text = log.read().decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if "Retrying" in line]
        retries.per_sidecar[path.name.removesuffix(".log")] = len(lines)
        for line in lines:
            match = _RETRY.search(line)
            operations[(match.group("what") if match else line)[:120]] += 1
    retries.top_operations = operations.most_common(8)
    return retries
