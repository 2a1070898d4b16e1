"""What workflows announce: order events and customer notifications, published in batches.

An `Outbox` collects what a workflow decided to announce and publishes it with one
activity per flush, instead of one activity per message: each activity costs the
workflow engine a round trip and a history write. Deterministic: the buffer is rebuilt
on replay, and every message carries an id derived from its content (order, sequence,
type), so a batch republished after a crash is a duplicate consumers drop by id.
"""

from collections.abc import Generator
from datetime import datetime
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext

from contracts.notifications import Notification, NotificationKind, notification_id
from contracts.orders import OrderStatus
from orchestrator.activities.events import publish_outbound
from orchestrator.workflows.nudges import Nudges
from orchestrator.workflows.policies import until_success


def event_fields(
    at: datetime, sequence: int, status: OrderStatus, trace_id: str | None
) -> dict[str, Any]:
    return {"sequence": sequence, "occurred_at": at, "status": status, "trace_id": trace_id}


class Outbox:
    def __init__(self, ctx: DaprWorkflowContext, nudges: Nudges | None = None) -> None:
        self._ctx = ctx
        self._nudges = nudges
        self._events: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []

    def event(self, event: dict[str, Any]) -> None:
        self._events.append(event)

    def notify(
        self, *, order_id: str, customer_id: str, kind: NotificationKind, message: str
    ) -> None:
        notification = Notification(
            notification_id=notification_id(order_id, kind),
            customer_id=customer_id,
            order_id=order_id,
            kind=kind,
            message=message,
            occurred_at=self._ctx.current_utc_datetime,
        )
        self._notifications.append(notification.model_dump(mode="json"))

    def publish(self) -> Generator[Any, Any, None]:
        """Publishes everything collected so far, retrying until it lands: a broker
        outage delays an announcement, it never drops one nor fails the order."""
        if not self._events and not self._notifications:
            return
        batch = {"events": self._events, "notifications": self._notifications}
        self._events, self._notifications = [], []
        yield from until_success(self._ctx, publish_outbound, batch, self._nudges)
