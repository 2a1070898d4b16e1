"""Plain data shared by the load, the faults, the collector and the checker (no I/O)."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

TERMINAL_STATUSES = frozenset(
    {"COMPLETED", "REJECTED", "COMPENSATED", "CANCELLED", "FAILED", "DELIVERY_OVERDUE"}
)
# Orders that took the customer's money and shipped the goods.
SHIPPED_STATUSES = frozenset({"COMPLETED", "DELIVERY_OVERDUE"})
# Orders that must leave no money taken and nothing shipped.
UNWOUND_STATUSES = frozenset({"COMPENSATED", "REJECTED", "CANCELLED"})
# The event kind (from `com.orderfleet.order.<kind>.v1`) that ends each terminal status.
TERMINAL_EVENT_KIND = {
    "COMPLETED": "completed",
    "REJECTED": "rejected",
    "COMPENSATED": "compensated",
    "CANCELLED": "cancelled",
    "FAILED": "failed",
    "DELIVERY_OVERDUE": "delivery_overdue",
}
TERMINAL_EVENT_KINDS = frozenset(TERMINAL_EVENT_KIND.values())


class Behaviour(StrEnum):
    """What an order of the load is meant to exercise (the sandbox's test cards)."""

    PAYS = "pays"  # tok_visa, regular SKUs
    FLAKY = "flaky"  # tok_flaky: fails transiently, then pays once
    DECLINED = "declined"  # tok_decline: the saga releases the stock
    UNDELIVERABLE = "undeliverable"  # country ZZ: charged, then refunded and released
    OVER_STOCK = "over_stock"  # more units than the scarce SKU ever had
    SCARCE = "scarce"  # one unit of the scarce SKU: some win it, the rest are rejected


# What each behaviour should end as on a healthy fleet. Under faults a step may also
# exhaust its retries and unwind (COMPENSATED); that is reported, not an invariant.
EXPECTED_STATUSES: dict[Behaviour, frozenset[str]] = {
    Behaviour.PAYS: frozenset({"COMPLETED"}),
    Behaviour.FLAKY: frozenset({"COMPLETED"}),
    Behaviour.DECLINED: frozenset({"COMPENSATED"}),
    Behaviour.UNDELIVERABLE: frozenset({"COMPENSATED"}),
    Behaviour.OVER_STOCK: frozenset({"REJECTED"}),
    Behaviour.SCARCE: frozenset({"COMPLETED", "REJECTED"}),
}


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class SkuPlan:
    sku: str
    name: str
    price: Decimal
    stock: int


@dataclass(frozen=True)
class PlannedOrder:
    order_id: str
    customer_id: str
    behaviour: Behaviour
    lines: tuple[Line, ...]
    token: str
    country: str
    total: Decimal
    as_cloudevent: bool

    def payload(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "items": [{"sku": line.sku, "quantity": line.quantity} for line in self.lines],
            "shipping_address": {
                "name": "Chaos Monkey",
                "line1": "1 Fault Line",
                "city": "Lisbon",
                "postal_code": "1100-148",
                "country": self.country,
            },
            "payment_token": self.token,
        }


@dataclass(frozen=True)
class MalformedInput:
    """A message sent on purpose to be dead-lettered; `marker` is unique text inside it."""

    marker: str
    kind: str
    raw: bytes
    expected_reason: str


@dataclass(frozen=True)
class Message:
    """One publish of the load: an order (maybe again, as the duplicate) or a malformed one."""

    kind: str  # "order", "duplicate" or "malformed"
    ref: str  # the order id, or the malformed input's marker


@dataclass(frozen=True)
class LoadPlan:
    run_id: str
    seed: int
    skus: tuple[SkuPlan, ...]
    orders: tuple[PlannedOrder, ...]
    malformed: tuple[MalformedInput, ...]
    duplicate_of: str
    messages: tuple[Message, ...]

    @property
    def prefix(self) -> str:
        """Every id of this run (orders, customers, markers) starts with it."""
        return f"chaos-{self.run_id}-"

    def order(self, order_id: str) -> PlannedOrder:
        return next(o for o in self.orders if o.order_id == order_id)


@dataclass(frozen=True)
class LedgerEntry:
    entry_id: str
    kind: str  # "charge" or "refund"
    amount: Decimal


@dataclass(frozen=True)
class OrderObservation:
    """One order as the fleet reports it at the end: workflow view, ledger, shipment."""

    order_id: str
    found: bool
    status: str | None = None
    step: str | None = None
    total: Decimal | None = None
    failure_reason: str | None = None
    ledger: tuple[LedgerEntry, ...] = ()
    shipment_state: str | None = None  # None when shipping has no shipment for the order


@dataclass(frozen=True)
class SkuObservation:
    sku: str
    initial: int
    available: int
    reserved: int
    shipped: int


@dataclass(frozen=True)
class Observation:
    orders: dict[str, OrderObservation]
    stock: tuple[SkuObservation, ...]
    events: tuple[dict[str, Any], ...]  # CloudEvents from order-events with this run's subjects
    dead_letters: tuple[dict[str, Any], ...]  # records of order-requests.dlq naming this run
