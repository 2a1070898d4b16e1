"""Requests and replies of the service methods the orchestrator's activities invoke.

Business outcomes (out of stock, declined, undeliverable) are replies, not errors: only
transient faults raise, so retry policies never repeat a business decision.
"""

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, Field

from contracts.orders import MAX_QUANTITY, Money, OrderId, OrderLine, ShippingAddress, Sku


class Method:
    """Service invocation method names, `<app>.<verb>` style."""

    QUOTE: Final = "inventory.quote"
    RESERVE: Final = "inventory.reserve"
    RELEASE: Final = "inventory.release"
    COMMIT: Final = "inventory.commit"
    CATALOG: Final = "inventory.catalog"
    CATALOG_ITEM: Final = "inventory.catalog_item"
    RESET: Final = "inventory.reset"
    UPSERT_ITEM: Final = "inventory.upsert_item"
    SCREEN: Final = "payment.screen"
    CHARGE: Final = "payment.charge"
    REFUND: Final = "payment.refund"
    LEDGER: Final = "payment.ledger"
    CREATE_SHIPMENT: Final = "shipping.create"
    CANCEL_SHIPMENT: Final = "shipping.cancel"
    SHIPMENT_STATUS: Final = "shipping.status"


# ---- inventory


class QuoteRequest(BaseModel):
    order_id: OrderId
    items: list[OrderLine]


class QuotedLine(BaseModel):
    sku: Sku
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class Quote(BaseModel):
    order_id: OrderId
    ok: bool
    lines: list[QuotedLine] = Field(default_factory=list)
    total: Money | None = None
    currency: str = "EUR"
    reason: str | None = None  # set when ok is False (unknown SKU)


class ReserveRequest(BaseModel):
    order_id: OrderId
    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class ReservationOutcome(StrEnum):
    RESERVED = "reserved"
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_SKU = "unknown_sku"
    RELEASED = "released"  # the order's lines were already released; nothing reserved


class ReserveResult(BaseModel):
    order_id: OrderId
    sku: Sku
    quantity: int
    outcome: ReservationOutcome
    available: int | None = None


class OrderRef(BaseModel):
    """A request that names only the order (release, commit, refund, cancel, status, ledger)."""

    order_id: OrderId


class OrderSkus(BaseModel):
    """Release or commit: the order and the SKUs its lines named."""

    order_id: OrderId
    skus: list[Sku] = Field(min_length=1)


class ReleaseResult(BaseModel):
    order_id: OrderId
    # sku -> units of this order returned to stock, from its line records: the same on
    # every retry (0 for a line that never held a reservation).
    released: dict[str, int]


class CommitResult(BaseModel):
    order_id: OrderId
    committed: dict[str, int]


class CatalogItem(BaseModel):
    sku: Sku
    name: str
    price: Money
    available: int
    reserved: int
    shipped: int


class Catalog(BaseModel):
    items: list[CatalogItem]


class SkuRef(BaseModel):
    sku: Sku


class UpsertItem(BaseModel):
    """Admin: create or overwrite one catalog item (used by tests and operators)."""

    sku: Sku
    name: str = Field(min_length=1, max_length=200)
    price: Money = Field(gt=0)
    stock: int = Field(ge=0)


# ---- payment


class PaymentDetails(BaseModel):
    order_id: OrderId
    customer_id: str
    amount: Money = Field(gt=0)
    currency: str = "EUR"
    payment_token: str


class ScreenRequest(PaymentDetails):
    """A fraud screening ahead of the charge: the same facts the charge will carry."""


class ScreenVerdict(StrEnum):
    CLEAR = "clear"
    DECLINED = "declined"


class ScreenResult(BaseModel):
    order_id: OrderId
    verdict: ScreenVerdict
    reason: str | None = None  # set when the verdict is DECLINED


class ChargeRequest(PaymentDetails):
    pass


class ChargeOutcome(StrEnum):
    CHARGED = "charged"
    DECLINED = "declined"


class ChargeResult(BaseModel):
    order_id: OrderId
    outcome: ChargeOutcome
    amount: Money
    charge_id: str | None = None
    reason: str | None = None


class RefundResult(BaseModel):
    order_id: OrderId
    # Everything refunded to the order so far, from its ledger: the same on every retry
    # (zero when it was never charged).
    refunded: Money
    net: Money


class LedgerKind(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"


class LedgerEntry(BaseModel):
    entry_id: str
    order_id: OrderId
    kind: LedgerKind
    amount: Money
    at: datetime


class Ledger(BaseModel):
    order_id: OrderId
    entries: list[LedgerEntry]
    net: Money


# ---- shipping


class CreateShipmentRequest(BaseModel):
    order_id: OrderId
    address: ShippingAddress
    items: list[OrderLine]


class ShipmentState(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    UNDELIVERABLE = "undeliverable"


class Shipment(BaseModel):
    order_id: OrderId
    state: ShipmentState
    shipment_id: str | None = None
    created_at: datetime | None = None
    reason: str | None = None
    # When the carrier expects the state to change next (None when it is final): watchers
    # look again then instead of polling blind.
    next_update_at: datetime | None = None


class ServiceError(BaseModel):
    """What a service answers when the request itself is invalid."""

    error: str
    details: list[dict[str, object]] = Field(default_factory=list)
