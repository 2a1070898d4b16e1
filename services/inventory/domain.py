"""Stock rules: an item's units move between available, reserved and shipped, never lost.

Pure: no I/O. Records are frozen pydantic models so they round-trip through the store.
"""

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

CENT = Decimal("0.01")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    price: Decimal
    available: int = Field(ge=0)
    reserved: int = Field(ge=0)
    shipped: int = Field(ge=0)

    @classmethod
    def stocked(cls, sku: str, name: str, price: Decimal, stock: int) -> "Item":
        return cls(sku=sku, name=name, price=money(price), available=stock, reserved=0, shipped=0)

    def reserve(self, quantity: int) -> "Item | None":
        """The item with `quantity` units set aside, or None when not enough are available."""
        if quantity < 1 or quantity > self.available:
            return None
        return self.model_copy(
            update={"available": self.available - quantity, "reserved": self.reserved + quantity}
        )

    def release(self, quantity: int) -> tuple["Item", int]:
        """Returns reserved units to stock. Clamped to what is reserved, because an admin
        reset or upsert zeroes `reserved` while older reservations are still open."""
        moved = min(quantity, self.reserved)
        item = self.model_copy(
            update={"available": self.available + moved, "reserved": self.reserved - moved}
        )
        return item, moved

    def commit(self, quantity: int) -> tuple["Item", int]:
        """Reserved units leave with a shipment (clamped for the same reason as release)."""
        moved = min(quantity, self.reserved)
        item = self.model_copy(
            update={"reserved": self.reserved - moved, "shipped": self.shipped + moved}
        )
        return item, moved


class LineStatus(StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    COMMITTED = "committed"


class Line(BaseModel):
    """What happened to one order's reservation of one SKU; written once per state."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    sku: str
    quantity: int = Field(ge=0)  # 0 for a tombstone: released before anything was reserved
    status: LineStatus
    # Units that really moved when the line was released or committed (fewer than
    # `quantity` only when an admin reset zeroed the reservations in between).
    moved: int | None = None

    @classmethod
    def tombstone(cls, order_id: str, sku: str) -> "Line":
        return cls(order_id=order_id, sku=sku, quantity=0, status=LineStatus.RELEASED)

    def moved_to(self, status: LineStatus, moved: int) -> "Line":
        return self.model_copy(update={"status": status, "moved": moved})

    @property
    def settled_units(self) -> int:
        """What releasing or committing this line moved (older records: its quantity)."""
        return self.quantity if self.moved is None else self.moved


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return money(unit_price * quantity)
