"""The order as it crosses process boundaries: intake payload, status and progress."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]

MAX_LINES = 50
MAX_QUANTITY = 1000


class Strict(BaseModel):
    """Boundary models reject unknown fields so that typos fail loudly, not silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderLine(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class ShippingAddress(Strict):
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class OrderRequest(Strict):
    """What producers publish on `order-requests` (or POST to /orders)."""

    order_id: OrderId
    customer_id: CustomerId
    items: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)
    shipping_address: ShippingAddress
    payment_token: str = Field(min_length=1, max_length=100)

    @field_validator("items")
    @classmethod
    def one_line_per_sku(cls, items: list[OrderLine]) -> list[OrderLine]:
        # Reservations are per (order, SKU): two lines of one SKU would reserve only one.
        skus = [line.sku for line in items]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise ValueError(f"each SKU may appear on one line only; repeated: {duplicates}")
        return items


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    COMPENSATED = "COMPENSATED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    DELIVERY_OVERDUE = "DELIVERY_OVERDUE"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.COMPLETED,
        OrderStatus.REJECTED,
        OrderStatus.COMPENSATED,
        OrderStatus.CANCELLED,
        OrderStatus.FAILED,
        OrderStatus.DELIVERY_OVERDUE,
    }
)


class Step(StrEnum):
    VALIDATE = "validate"
    QUOTE = "quote"
    RESERVE = "reserve"
    CHARGE = "charge"
    APPROVAL = "approval"
    SHIP = "ship"
    DELIVER = "deliver"
    COMPLETE = "complete"
    COMPENSATE = "compensate"


class StepRecord(BaseModel):
    step: str
    at: datetime
    detail: str | None = None


class OrderProgress(BaseModel):
    """The workflow's custom status: what `GET /orders/{id}` shows while it runs."""

    status: OrderStatus
    step: str | None = None
    history: list[StepRecord] = Field(default_factory=list)
    total: Money | None = None
    failure_reason: str | None = None
    trace_id: str | None = None


class OrderResult(BaseModel):
    """The order workflow's output."""

    order_id: str
    status: OrderStatus
    total: Money | None = None
    failure_reason: str | None = None
