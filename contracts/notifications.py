"""Customer notifications on the `notifications` topic, and the history the app keeps."""

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, Field

HISTORY_METHOD: Final = "notifications.history"
NOTIFICATION_TYPE_PREFIX: Final = "com.orderfleet.notification."
NOTIFICATION_SOURCE: Final = "/order-fleet/orchestrator"


class NotificationKind(StrEnum):
    APPROVAL_REQUESTED = "approval_requested"
    ORDER_CONFIRMED = "order_confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    @property
    def event_type(self) -> str:
        return f"{NOTIFICATION_TYPE_PREFIX}{self.value}.v1"


class Notification(BaseModel):
    notification_id: str = Field(description="unique per order and kind; the dedup key")
    customer_id: str
    order_id: str
    kind: NotificationKind
    message: str
    occurred_at: datetime


class CustomerRef(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)


class NotificationHistory(BaseModel):
    customer_id: str
    notifications: list[Notification]


def notification_id(order_id: str, kind: NotificationKind) -> str:
    return f"{order_id}:{kind.value}"
