"""The orders read model: a projection of `order-events` for listing orders by status.

The workflow engine cannot list instances, so the orchestrator keeps this projection: an
embedded sqlite file with one replica, one PostgreSQL database shared by every replica in
the scaled profile (orchestrator/readmodel_db.py). Applying an event is idempotent (event
ids, whichever replica receives it) and order-safe (sequence numbers). It also keeps each
applied event as it arrived, so an order's events can be shown without a Kafka consumer
(the operator console reads them).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.api import OrderSummaryView
from contracts.events import OrderEvent, OrderEventType
from contracts.orders import OrderStatus
from orchestrator.readmodel_db import Cursor, Database, open_database

# `last_event` of an order whose workflow has started but announced nothing yet.
STARTED = "started"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    last_event TEXT NOT NULL,
    last_sequence INTEGER NOT NULL,
    customer_id TEXT,
    total TEXT,
    reason TEXT,
    trace_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, updated_at);
CREATE TABLE IF NOT EXISTS applied_events (event_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_order ON events (order_id, sequence);
CREATE TABLE IF NOT EXISTS recoveries (
    order_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    attempt INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS order_inputs (
    order_id TEXT PRIMARY KEY,
    workflow_input TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approval_decisions (
    order_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    approved INTEGER NOT NULL
);
"""


_UPSERT = """
INSERT INTO orders (order_id, status, last_event, last_sequence,
    customer_id, total, reason, trace_id, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (order_id) DO UPDATE SET
    status = CASE WHEN excluded.last_sequence > orders.last_sequence
        THEN excluded.status ELSE orders.status END,
    last_event = CASE WHEN excluded.last_sequence > orders.last_sequence
        THEN excluded.last_event ELSE orders.last_event END,
    updated_at = CASE WHEN excluded.last_sequence > orders.last_sequence
        THEN excluded.updated_at ELSE orders.updated_at END,
    last_sequence = {greatest}(orders.last_sequence, excluded.last_sequence),
    customer_id = COALESCE(orders.customer_id, excluded.customer_id),
    total = COALESCE(excluded.total, orders.total),
    reason = COALESCE(excluded.reason, orders.reason),
    trace_id = COALESCE(orders.trace_id, excluded.trace_id),
    created_at = {least}(orders.created_at, excluded.created_at)
"""

_SUMMARY = (
    "SELECT order_id, status, last_event, customer_id, total, reason, trace_id,"
    " created_at, updated_at FROM orders"
)


_SUMMARY_FIELDS = (
    "order_id",
    "status",
    "last_event",
    "customer_id",
    "total",
    "reason",
    "trace_id",
    "created_at",
    "updated_at",
)


def _summary(row: tuple[object, ...]) -> OrderSummaryView:
    return OrderSummaryView.model_validate(dict(zip(_SUMMARY_FIELDS, row, strict=True)))


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    sequence: int
    type: str
    data: str  # the event's JSON, exactly as it was applied


class ReadModel:
    def __init__(self, location: Path | str) -> None:
        self._db: Database = open_database(str(location), _SCHEMA)
        dialect = self._db.dialect
        self._upsert = _UPSERT.format(greatest=dialect.greatest, least=dialect.least)
        self._expires_at = dialect.json_text.format(column="e.data", key="expires_at")

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self._db.run(lambda cursor: cursor.execute(sql, params).rows)

    def lead(self, name: str) -> bool:
        """Whether this replica runs the fleet-wide job `name` (the sweeper): always with
        one replica; with several, whichever holds the database's lease for it."""
        return self._db.lead(name)

    def apply(self, event_id: str, event: OrderEvent) -> bool:
        """Returns False when this event was already applied (a redelivery)."""
        return self.apply_many([(event_id, event)]) == 1

    def apply_many(self, events: Sequence[tuple[str, OrderEvent]]) -> int:
        """Applies a batch in one transaction; returns how many were new (not redeliveries)."""
        # In one order of rows everywhere, so that two replicas never deadlock on a batch.
        ordered = sorted(events, key=lambda item: (item[1].order_id, item[1].sequence))
        return self._db.run(lambda cursor: sum(self._apply_one(cursor, *item) for item in ordered))

    def _apply_one(self, cursor: Cursor, event_id: str, event: OrderEvent) -> bool:
        inserted = cursor.execute(
            "INSERT INTO applied_events (event_id) VALUES (?) ON CONFLICT DO NOTHING", (event_id,)
        ).rowcount
        if not inserted:
            return False
        at = event.occurred_at.isoformat()
        total = getattr(event, "total", None)
        cursor.execute(
            self._upsert,
            (
                event.order_id,
                event.status.value,
                event.type.value,
                event.sequence,
                getattr(event, "customer_id", None),
                str(total) if total is not None else None,
                getattr(event, "reason", None),
                event.trace_id,
                at,
                at,
            ),
        )
        cursor.execute(
            "INSERT INTO events (event_id, order_id, sequence, type, data) VALUES (?, ?, ?, ?, ?)",
            (event_id, event.order_id, event.sequence, event.type.value, event.model_dump_json()),
        )
        return True

    def note_started(
        self, order_id: str, customer_id: str, trace_id: str | None, at: datetime
    ) -> None:
        """Lists an order from the moment its workflow starts, before its first event (which
        comes after the stock is reserved), so that the sweeper can nudge it if an early step
        is lost. Its first event (sequence 1) supersedes this row; a late call changes nothing."""
        stamp = at.astimezone(UTC).replace(tzinfo=None).isoformat()  # as the workflow's clock
        self._db.run(
            lambda cursor: cursor.execute(
                "INSERT INTO orders (order_id, status, last_event, last_sequence,"
                " customer_id, trace_id, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (order_id, OrderStatus.PENDING.value, STARTED, customer_id, trace_id, stamp, stamp),
            )
        )

    def keep_input(self, order_id: str, workflow_input: str) -> None:
        """The input the order's workflow started with: what a recovery instance starts
        from when the runtime can no longer load the first instance at all."""
        self._db.run(
            lambda cursor: cursor.execute(
                "INSERT INTO order_inputs (order_id, workflow_input) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (order_id, workflow_input),
            )
        )

    def started_input(self, order_id: str) -> str | None:
        rows = self._rows("SELECT workflow_input FROM order_inputs WHERE order_id = ?", (order_id,))
        return str(rows[0][0]) if rows else None

    def awaiting_approval(self) -> list[tuple[str, datetime]]:
        """(order id, approval deadline) of every order waiting for a decision."""
        rows = self._rows(
            f"SELECT o.order_id, {self._expires_at} FROM orders o"
            " JOIN events e ON e.order_id = o.order_id AND e.type = ? WHERE o.status = ?",
            (OrderEventType.APPROVAL_REQUESTED.value, OrderStatus.AWAITING_APPROVAL.value),
        )
        return [(order_id, datetime.fromisoformat(at)) for order_id, at in rows if at]

    def record_decision(self, order_id: str, event_id: str, approved: bool) -> bool:
        """True for the order's first decision, or a redelivery of that same decision."""

        def decide(cursor: Cursor) -> bool:
            cursor.execute(
                "INSERT INTO approval_decisions (order_id, event_id, approved)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (order_id, event_id, int(approved)),
            )
            rows = cursor.execute(
                "SELECT event_id FROM approval_decisions WHERE order_id = ?", (order_id,)
            ).rows
            return bool(rows and rows[0][0] == event_id)

        return self._db.run(decide)

    def recovery(self, order_id: str) -> tuple[str, int] | None:
        """(instance id, attempt) of the order's latest recovery instance, if any."""
        rows = self._rows(
            "SELECT instance_id, attempt FROM recoveries WHERE order_id = ?", (order_id,)
        )
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def recovery_instance(self, order_id: str) -> str | None:
        found = self.recovery(order_id)
        return found[0] if found else None

    def record_recovery(self, order_id: str, instance_id: str, attempt: int) -> None:
        self._db.run(
            lambda cursor: cursor.execute(
                "INSERT INTO recoveries (order_id, instance_id, attempt) VALUES (?, ?, ?)"
                " ON CONFLICT (order_id) DO UPDATE SET instance_id = excluded.instance_id,"
                " attempt = excluded.attempt",
                (order_id, instance_id, attempt),
            )
        )

    def forget(self, order_ids: list[str]) -> None:
        """Removes purged orders from the projection."""

        def delete(cursor: Cursor) -> None:
            for order_id in order_ids:
                cursor.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))
                cursor.execute("DELETE FROM events WHERE order_id = ?", (order_id,))
                cursor.execute("DELETE FROM order_inputs WHERE order_id = ?", (order_id,))

        self._db.run(delete)

    def finished_before(self, cutoff: str, statuses: list[str]) -> list[str]:
        marks = ",".join("?" for _ in statuses)
        rows = self._rows(
            f"SELECT order_id FROM orders WHERE updated_at < ? AND status IN ({marks})",
            (cutoff, *statuses),
        )
        return [row[0] for row in rows]

    def finished_between(self, start: str, end: str, statuses: list[str]) -> list[str]:
        """Orders in one of `statuses` whose last event is in [start, end)."""
        marks = ",".join("?" for _ in statuses)
        rows = self._rows(
            f"SELECT order_id FROM orders WHERE status IN ({marks})"
            " AND updated_at >= ? AND updated_at < ?",
            (*statuses, start, end),
        )
        return [row[0] for row in rows]

    def get(self, order_id: str) -> OrderSummaryView | None:
        rows = self._rows(f"{_SUMMARY} WHERE order_id = ?", (order_id,))
        return _summary(rows[0]) if rows else None

    def events(self, order_id: str) -> list[StoredEvent]:
        """The order's events in sequence order (a redelivered event is stored once)."""
        rows = self._rows(
            "SELECT event_id, sequence, type, data FROM events"
            " WHERE order_id = ? ORDER BY sequence, event_id",
            (order_id,),
        )
        return [StoredEvent(*row) for row in rows]

    def list(
        self, status: str | None = None, limit: int = 100, *, customer: str | None = None
    ) -> list[OrderSummaryView]:
        conditions, params = [], []
        if status:
            conditions.append("status = ?")
            params.append(status)
        if customer:
            conditions.append("customer_id = ?")
            params.append(customer)
        query = _SUMMARY + (" WHERE " + " AND ".join(conditions) if conditions else "")
        query += " ORDER BY updated_at DESC, order_id LIMIT ?"
        return [_summary(row) for row in self._rows(query, (*params, limit))]
