"""Integration events on `order-events`: one CloudEvent per step of an order.

Each event's `data` is one of the models below. The CloudEvent `type` is the model's
`type` value, `subject` the order id, and `id` is derived from the order id and step,
so a republished event carries the same id and consumers can drop duplicates.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from contracts.commands import QuotedLine
from contracts.orders import Money, OrderId, OrderStatus

EVENT_SOURCE = "/order-fleet/orchestrator"


class OrderEventType(StrEnum):
    ACCEPTED = "com.orderfleet.order.accepted.v1"
    STOCK_RESERVED = "com.orderfleet.order.stock_reserved.v1"
    PAYMENT_CHARGED = "com.orderfleet.order.payment_charged.v1"
    SHIPMENT_CREATED = "com.orderfleet.order.shipment_created.v1"
    COMPLETED = "com.orderfleet.order.completed.v1"
    REJECTED = "com.orderfleet.order.rejected.v1"
    SHIPMENT_CANCELLED = "com.orderfleet.order.shipment_cancelled.v1"
    PAYMENT_REFUNDED = "com.orderfleet.order.payment_refunded.v1"
    STOCK_RELEASED = "com.orderfleet.order.stock_released.v1"
    COMPENSATED = "com.orderfleet.order.compensated.v1"
    FAILED = "com.orderfleet.order.failed.v1"
    APPROVAL_REQUESTED = "com.orderfleet.order.approval_requested.v1"
    APPROVED = "com.orderfleet.order.approved.v1"
    SHIPPED = "com.orderfleet.order.shipped.v1"
    DELIVERED = "com.orderfleet.order.delivered.v1"
    DELIVERY_OVERDUE = "com.orderfleet.order.delivery_overdue.v1"
    CANCELLED = "com.orderfleet.order.cancelled.v1"


class _OrderEvent(BaseModel):
    order_id: OrderId
    sequence: int = Field(ge=1, description="position of this event in the order's stream")
    occurred_at: datetime
    status: OrderStatus
    trace_id: str | None = None


class OrderAccepted(_OrderEvent):
    type: Literal[OrderEventType.ACCEPTED] = OrderEventType.ACCEPTED
    customer_id: str
    lines: list[QuotedLine]
    total: Money


class StockReserved(_OrderEvent):
    type: Literal[OrderEventType.STOCK_RESERVED] = OrderEventType.STOCK_RESERVED
    reserved: dict[str, int]


class PaymentCharged(_OrderEvent):
    type: Literal[OrderEventType.PAYMENT_CHARGED] = OrderEventType.PAYMENT_CHARGED
    amount: Money
    charge_id: str


class ShipmentCreated(_OrderEvent):
    type: Literal[OrderEventType.SHIPMENT_CREATED] = OrderEventType.SHIPMENT_CREATED
    shipment_id: str


class OrderCompleted(_OrderEvent):
    type: Literal[OrderEventType.COMPLETED] = OrderEventType.COMPLETED
    total: Money


class OrderRejected(_OrderEvent):
    type: Literal[OrderEventType.REJECTED] = OrderEventType.REJECTED
    reason: str


class ShipmentCancelled(_OrderEvent):
    type: Literal[OrderEventType.SHIPMENT_CANCELLED] = OrderEventType.SHIPMENT_CANCELLED


class PaymentRefunded(_OrderEvent):
    type: Literal[OrderEventType.PAYMENT_REFUNDED] = OrderEventType.PAYMENT_REFUNDED
    amount: Money


class StockReleased(_OrderEvent):
    type: Literal[OrderEventType.STOCK_RELEASED] = OrderEventType.STOCK_RELEASED
    released: dict[str, int]


class OrderCompensated(_OrderEvent):
    type: Literal[OrderEventType.COMPENSATED] = OrderEventType.COMPENSATED
    reason: str


class OrderFailed(_OrderEvent):
    type: Literal[OrderEventType.FAILED] = OrderEventType.FAILED
    reason: str


class ApprovalRequested(_OrderEvent):
    type: Literal[OrderEventType.APPROVAL_REQUESTED] = OrderEventType.APPROVAL_REQUESTED
    total: Money
    threshold: Money
    expires_at: datetime


class OrderApproved(_OrderEvent):
    type: Literal[OrderEventType.APPROVED] = OrderEventType.APPROVED
    approver: str
    reason: str | None = None


class OrderShipped(_OrderEvent):
    type: Literal[OrderEventType.SHIPPED] = OrderEventType.SHIPPED
    shipment_id: str


class OrderDelivered(_OrderEvent):
    type: Literal[OrderEventType.DELIVERED] = OrderEventType.DELIVERED
    shipment_id: str


class OrderDeliveryOverdue(_OrderEvent):
    type: Literal[OrderEventType.DELIVERY_OVERDUE] = OrderEventType.DELIVERY_OVERDUE
    reason: str


class OrderCancelled(_OrderEvent):
    type: Literal[OrderEventType.CANCELLED] = OrderEventType.CANCELLED
    reason: str


OrderEvent = Annotated[
    OrderAccepted
    | StockReserved
    | PaymentCharged
    | ShipmentCreated
    | OrderCompleted
    | OrderRejected
    | ShipmentCancelled
    | PaymentRefunded
    | StockReleased
    | OrderCompensated
    | OrderFailed
    | ApprovalRequested
    | OrderApproved
    | OrderShipped
    | OrderDelivered
    | OrderDeliveryOverdue
    | OrderCancelled,
    Field(discriminator="type"),
]
ORDER_EVENT: TypeAdapter[OrderEvent] = TypeAdapter(OrderEvent)

EVENT_MODELS: tuple[type[_OrderEvent], ...] = (
    OrderAccepted,
    StockReserved,
    PaymentCharged,
    ShipmentCreated,
    OrderCompleted,
    OrderRejected,
    ShipmentCancelled,
    PaymentRefunded,
    StockReleased,
    OrderCompensated,
    OrderFailed,
    ApprovalRequested,
    OrderApproved,
    OrderShipped,
    OrderDelivered,
    OrderDeliveryOverdue,
    OrderCancelled,
)


def event_id(order_id: str, sequence: int, event_type: OrderEventType) -> str:
    """Deterministic, so a retried publish of the same step yields the same id."""
    return f"{order_id}:{sequence}:{event_type.value.split('.')[-2]}"
