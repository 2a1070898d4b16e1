"""Payment rules: one ledger per order, charged at most once, refunded at most the net.

Pure: no I/O; ids and time are passed in. The sandbox tokens behave like a payment
provider's test cards (documented for users in the design notes).

The fraud screening (`screen`) is a sandbox rule set in the same spirit, checked in order:

- a customer id that starts with `fraud-` is declined: "customer on the sandbox fraud list";
- an amount over `SCREEN_LIMIT` (20000.00) is declined: "amount over the screening limit";
- anything else is clear.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

TOK_VISA = "tok_visa"
TOK_DECLINE = "tok_decline"
TOK_FLAKY = "tok_flaky"

FRAUD_LIST_PREFIX = "fraud-"
SCREEN_LIMIT = Decimal("20000.00")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def screen(customer_id: str, amount: Decimal) -> str | None:
    """Why the sandbox screening declines this payment, or None when it is clear.

    A function of its arguments only (no ledger, no clock), so screening is idempotent by
    construction: a retried or repeated screening of one order gives the same verdict.
    """
    if customer_id.startswith(FRAUD_LIST_PREFIX):
        return "customer on the sandbox fraud list"
    if money(amount) > SCREEN_LIMIT:
        return f"amount over the screening limit of {SCREEN_LIMIT}"
    return None


class EntryKind(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    entry_id: str
    kind: EntryKind
    amount: Decimal
    at: datetime


class Step(StrEnum):
    """What a charge request leads to, given the order's ledger."""

    ANSWER = "answer"  # already decided (charged or declined): repeat that answer
    CHARGE = "charge"
    DECLINE = "decline"
    FAIL = "fail"  # the sandbox provider is unavailable this time


class OrderLedger(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    entries: tuple[Entry, ...] = ()
    declined: str | None = None  # the reason, once a charge was declined
    transient_failures: int = 0  # tok_flaky's failed attempts so far
    token_hint: str | None = None  # at most the token's last 4 characters, never the token
    # Set by a refund: a charge that arrives afterwards (a retry still in flight when the
    # order was unwound) is declined instead of taking money that nobody will refund.
    closed: bool = False

    @property
    def charge(self) -> Entry | None:
        return next((e for e in self.entries if e.kind == EntryKind.CHARGE), None)

    @property
    def refunded_total(self) -> Decimal:
        return money(sum((e.amount for e in self.entries if e.kind == EntryKind.REFUND), ZERO))

    @property
    def net(self) -> Decimal:
        signed = (e.amount if e.kind == EntryKind.CHARGE else -e.amount for e in self.entries)
        return money(sum(signed, ZERO))

    def next_step(self, token: str, flaky_failures: int) -> tuple[Step, str | None]:
        """The step and, for a decline, its reason."""
        if self.charge is not None or self.declined is not None:
            return Step.ANSWER, None
        if self.closed:
            return Step.DECLINE, "order closed: it was refunded or cancelled"
        if token == TOK_VISA:
            return Step.CHARGE, None
        if token == TOK_DECLINE:
            return Step.DECLINE, "card declined"
        if token == TOK_FLAKY:
            failing = self.transient_failures < flaky_failures
            return (Step.FAIL if failing else Step.CHARGE), None
        return Step.DECLINE, "unknown payment token"

    def charged(self, entry_id: str, amount: Decimal, at: datetime, token: str) -> "OrderLedger":
        entry = Entry(entry_id=entry_id, kind=EntryKind.CHARGE, amount=money(amount), at=at)
        return self.model_copy(update={"entries": (*self.entries, entry), "token_hint": token[-4:]})

    def declined_because(self, reason: str, token: str) -> "OrderLedger":
        return self.model_copy(update={"declined": reason, "token_hint": token[-4:]})

    def failed_transiently(self) -> "OrderLedger":
        return self.model_copy(update={"transient_failures": self.transient_failures + 1})

    def refunded(self, entry_id: str, at: datetime) -> tuple["OrderLedger", Decimal]:
        """Refunds whatever is still charged, as one entry; nothing when the net is zero."""
        amount = self.net
        if amount <= ZERO:
            return self.model_copy(update={"closed": True}), ZERO
        entry = Entry(entry_id=entry_id, kind=EntryKind.REFUND, amount=amount, at=at)
        return self.model_copy(update={"entries": (*self.entries, entry), "closed": True}), amount
