"""Orders the drill leaves at each wait point, and how it knows they are there.

Each wait point is read from the order's own workflow history (what the engine will
replay) or its API view, never from timing: an approval request with its timeout timer
created; a delivery under way (the order's step is `deliver`); a compensation that has
refunded the charge and waits on the stock's release (inventory is paused meanwhile).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from dapr.ext.workflow._durabletask.internal import protos as pb

from contracts.orders import OrderStatus, Step
from replay.fleet import poll
from replay.scenarios import TERMINAL, Session

WAIT_S = 120.0


class DrillError(Exception):
    """The drill could not set up what it proves (the message says what)."""


@dataclass
class Cohort:
    key: str  # a slug for its order ids
    wait_point: str
    started_on: str  # "baseline" or "current"
    expected: OrderStatus
    orders: list[str] = field(default_factory=list)
    at_upgrade: int = 0  # how many were at their wait point when the orchestrator stopped
    screened: bool | None = None  # the new path's marker expected (None: not checked)


def scheduled(events: list[pb.HistoryEvent], activity: str) -> int:
    return sum(
        1 for e in events if e.HasField("taskScheduled") and e.taskScheduled.name == activity
    )


def completed_ids(events: list[pb.HistoryEvent]) -> set[int]:
    return {e.taskCompleted.taskScheduledId for e in events if e.HasField("taskCompleted")}


def pending(events: list[pb.HistoryEvent], activity: str) -> bool:
    """The activity is scheduled and has not completed: the order waits on it."""
    done = completed_ids(events)
    return any(
        e.HasField("taskScheduled") and e.taskScheduled.name == activity and e.eventId not in done
        for e in events
    )


def wait_all(s: Session, orders: list[str], condition: Callable[[str], bool], what: str) -> None:
    for order_id in orders:
        poll(
            partial(condition, order_id),
            timeout=WAIT_S,
            what=f"{order_id} {what}",
            every=0.1,
        )


def view(s: Session, order_id: str) -> dict[str, Any]:
    return s.fleet.order(order_id) or {"status": "UNKNOWN", "step": None}


def history(s: Session, order_id: str) -> list[pb.HistoryEvent]:
    return s.fleet.history(order_id) or []


def in_delivery(s: Session, order_id: str) -> bool:
    current = view(s, order_id)
    return current.get("step") == Step.DELIVER.value and current["status"] not in TERMINAL


def awaiting_release(s: Session, order_id: str) -> bool:
    events = history(s, order_id)
    return scheduled(events, "refund_payment") > 0 and pending(events, "release_stock")


def awaiting_approval(s: Session, order_id: str) -> bool:
    return bool(view(s, order_id)["status"] == OrderStatus.AWAITING_APPROVAL.value)


def shipping(s: Session, order_id: str) -> bool:
    return scheduled(history(s, order_id), "create_shipment") > 0


def net(s: Session, order_id: str) -> Decimal:
    response = s.fleet.api.get(f"/orders/{order_id}/payments")
    if response.status_code == 404:
        return Decimal("0")
    response.raise_for_status()
    return Decimal(str(response.json()["net"]))
