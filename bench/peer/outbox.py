"""The peer's outbox: what the saga announces, collected and handed out as one batch.

The batch is exactly what the fleet's `Outbox.publish` hands its `publish_outbound`
activity ({"events": [...], "notifications": [...]}), built from the same contracts, so
the same activity publishes it and consumers cannot tell the engines apart. Pure: the
engine supplies the clock.
"""

from datetime import datetime
from typing import Any

from contracts.notifications import Notification, NotificationKind, notification_id
from contracts.orders import OrderStatus
from orchestrator.workflows.outbound import event_fields


class Sequence:
    """Gap-free event numbers and the order's status, as the fleet's Progress keeps them."""

    def __init__(self, order_id: str, trace_id: str | None, first: int = 1) -> None:
        self.order_id = order_id
        self.trace_id = trace_id
        self.status = OrderStatus.RUNNING
        self._next = first

    @property
    def next_sequence(self) -> int:
        return self._next

    def continue_at(self, next_sequence: int) -> None:
        """After the monitor published events of this order, carry on after them."""
        self._next = next_sequence

    def fields(self, at: datetime, status: OrderStatus | None = None) -> dict[str, Any]:
        sequence, self._next = self._next, self._next + 1
        return {
            "order_id": self.order_id,
            **event_fields(at, sequence, status or self.status, self.trace_id),
        }


class Outbox:
    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []

    def event(self, event: Any) -> None:
        self._events.append(event.model_dump(mode="json"))

    def notify(
        self, *, order_id: str, customer_id: str, kind: NotificationKind, message: str, at: datetime
    ) -> None:
        notification = Notification(
            notification_id=notification_id(order_id, kind),
            customer_id=customer_id,
            order_id=order_id,
            kind=kind,
            message=message,
            occurred_at=at,
        )
        self._notifications.append(notification.model_dump(mode="json"))

    def take(self) -> dict[str, Any] | None:
        """The batch collected so far (None when there is nothing to publish), emptied."""
        if not self._events and not self._notifications:
            return None
        batch = {"events": self._events, "notifications": self._notifications}
        self._events, self._notifications = [], []
        return batch
