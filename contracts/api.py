"""Responses of the orchestrator's public HTTP API (also read by the `fleet` CLI)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from contracts.commands import LedgerEntry
from contracts.orders import Money, OrderResult, OrderStatus, StepRecord


class OrderPlaced(BaseModel):
    order_id: str
    status_url: str
    duplicate: bool = Field(description="true when this order id was already known")


class OrderView(BaseModel):
    order_id: str
    customer_id: str | None = None
    status: OrderStatus
    step: str | None = None
    history: list[StepRecord] = Field(default_factory=list)
    failure_reason: str | None = None
    trace_id: str | None = None
    total: Money | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class OrderSummaryView(BaseModel):
    order_id: str
    status: str
    last_event: str
    customer_id: str | None
    total: str | None
    reason: str | None
    trace_id: str | None
    created_at: datetime
    updated_at: datetime


class OrderList(BaseModel):
    orders: list[OrderSummaryView]


class StoredEventView(BaseModel):
    id: str = Field(description="the CloudEvent id: <order>:<sequence>:<kind>")
    sequence: int
    type: str
    data: dict[str, Any] = Field(description="the CloudEvent's data, as applied")


class OrderEvents(BaseModel):
    """An order's events from the read model (eventually consistent, like `GET /orders`)."""

    order_id: str
    customer_id: str | None
    events: list[StoredEventView]


class PaymentsView(BaseModel):
    order_id: str
    entries: list[LedgerEntry]
    net: Money


class BulkPlaced(BaseModel):
    bulk_id: str
    status_url: str
    duplicate: bool


class BulkProgressView(BaseModel):
    total: int
    finished: int
    running: int
    max_running: int


class BulkView(BaseModel):
    bulk_id: str
    runtime_status: str
    progress: BulkProgressView | None = None
    results: list[OrderResult] | None = None


class CatalogItemSet(BaseModel):
    """`PUT /catalog/{sku}`: an operator sets an item's name, price and stock (all of its
    units available again)."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=200)
    price: Money = Field(gt=0)
    stock: int = Field(ge=0)
