"""Shipping rules: where we cannot ship, and how a shipment moves on with time.

Pure: no I/O; the clock is passed in. Only the states a person or a rule decides are
stored (label created, cancelled, undeliverable); in-transit and delivered are derived
from `created_at`, so a status read never has to write.
"""

from datetime import datetime, timedelta

from contracts.commands import Shipment, ShipmentState

UNDELIVERABLE_COUNTRIES = frozenset({"ZZ"})
_SETTLED = frozenset({ShipmentState.CANCELLED, ShipmentState.UNDELIVERABLE})


def undeliverable_reason(country: str) -> str | None:
    return f"cannot ship to country {country}" if country in UNDELIVERABLE_COUNTRIES else None


def state_at(created_at: datetime, now: datetime, step_seconds: float) -> ShipmentState:
    """LABEL_CREATED for the first step, IN_TRANSIT for the second, then DELIVERED."""
    elapsed = now - created_at
    step = timedelta(seconds=step_seconds)
    if elapsed < step:
        return ShipmentState.LABEL_CREATED
    if elapsed < 2 * step:
        return ShipmentState.IN_TRANSIT
    return ShipmentState.DELIVERED


def next_update_at(
    created_at: datetime, state: ShipmentState, step_seconds: float
) -> datetime | None:
    """When a shipment in `state` moves on; None once it is delivered."""
    steps_done = {ShipmentState.LABEL_CREATED: 1, ShipmentState.IN_TRANSIT: 2}.get(state)
    return None if steps_done is None else created_at + steps_done * timedelta(seconds=step_seconds)


def as_of(record: Shipment, now: datetime, step_seconds: float) -> Shipment:
    """The stored record as it stands at `now`, with when it will change next."""
    if record.state in _SETTLED or record.created_at is None:
        return record.model_copy(update={"next_update_at": None})
    state = state_at(record.created_at, now, step_seconds)
    return record.model_copy(
        update={
            "state": state,
            "next_update_at": next_update_at(record.created_at, state, step_seconds),
        }
    )


def cancelled(record: Shipment, now: datetime, step_seconds: float) -> Shipment | None:
    """The record cancelled, or None when there is nothing to change: it was delivered
    (too late), already cancelled, or never shipped (undeliverable)."""
    current = as_of(record, now, step_seconds)
    if current.state in _SETTLED or current.state == ShipmentState.DELIVERED:
        return None
    return record.model_copy(update={"state": ShipmentState.CANCELLED})


def tombstone(order_id: str) -> Shipment:
    """Cancelled before it was created: a late create must not ship it."""
    return Shipment(
        order_id=order_id,
        state=ShipmentState.CANCELLED,
        reason="cancelled before a shipment was created",
    )
