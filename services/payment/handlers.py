"""Payment use cases: screen, charge (idempotent per order), refund the net, show the ledger.

The order's ledger is one key, `ledger:{order_id}`, written under its ETag (or created
only if absent), so concurrent retries of one order see each other's decisions.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from contracts.commands import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    Ledger,
    LedgerEntry,
    LedgerKind,
    OrderRef,
    RefundResult,
    ScreenRequest,
    ScreenResult,
    ScreenVerdict,
)
from services.payment.domain import ZERO, OrderLedger, Step, screen
from services.state import KeyValueStore, Write, retry_on_conflict

logger = logging.getLogger(__name__)


class PaymentProviderUnavailable(RuntimeError):
    """A transient fault: the caller's retry policy should try again."""


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Payments:
    def __init__(
        self,
        store: KeyValueStore,
        *,
        flaky_failures: int = 2,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._flaky_failures = flaky_failures
        self._clock = clock

    def screen(self, request: ScreenRequest) -> ScreenResult:
        """The fraud screening: reads and writes nothing, so every call agrees."""
        reason = screen(request.customer_id, request.amount)
        log = {"order_id": request.order_id}
        if reason is not None:
            logger.info("screening of %s declined: %s", request.amount, reason, extra=log)
            return ScreenResult(
                order_id=request.order_id, verdict=ScreenVerdict.DECLINED, reason=reason
            )
        logger.info("screening of %s clear", request.amount, extra=log)
        return ScreenResult(order_id=request.order_id, verdict=ScreenVerdict.CLEAR)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return retry_on_conflict(lambda: self._charge_once(request))

    def refund(self, request: OrderRef) -> RefundResult:
        return retry_on_conflict(lambda: self._refund_once(request.order_id))

    def ledger(self, request: OrderRef) -> Ledger:
        ledger, _ = self._read(request.order_id)
        entries = [
            LedgerEntry(
                entry_id=e.entry_id,
                order_id=ledger.order_id,
                kind=LedgerKind(e.kind.value),
                amount=e.amount,
                at=e.at,
            )
            for e in ledger.entries
        ]
        return Ledger(order_id=ledger.order_id, entries=entries, net=ledger.net)

    def _charge_once(self, request: ChargeRequest) -> ChargeResult:
        ledger, etag = self._read(request.order_id)
        step, reason = ledger.next_step(request.payment_token, self._flaky_failures)
        log = {"order_id": request.order_id}
        if step == Step.FAIL:
            self._save(ledger.failed_transiently(), etag)
            logger.warning("charge of %s failed transiently (sandbox)", request.amount, extra=log)
            raise PaymentProviderUnavailable(
                "payment provider unavailable (sandbox transient failure), retry"
            )
        if step == Step.DECLINE and reason is not None:
            ledger = ledger.declined_because(reason, request.payment_token)
            self._save(ledger, etag)
            logger.info("charge of %s declined: %s", request.amount, reason, extra=log)
        elif step == Step.CHARGE:
            ledger = ledger.charged(
                _new_id("ch"), request.amount, self._clock(), request.payment_token
            )
            self._save(ledger, etag)
            logger.info("charged %s", request.amount, extra=log)
        return _answer(ledger, request)

    def _refund_once(self, order_id: str) -> RefundResult:
        ledger, etag = self._read(order_id)
        after, refunded = ledger.refunded(_new_id("re"), self._clock())
        if after != ledger:  # a refund entry, or the ledger closing for late charges
            self._save(after, etag)
        if refunded > ZERO:
            logger.info("refunded %s", refunded, extra={"order_id": order_id})
        # The ledger's total, not this call's: a retry whose first answer was lost must
        # report the same refund, never zero.
        return RefundResult(order_id=order_id, refunded=after.refunded_total, net=after.net)

    def _read(self, order_id: str) -> tuple[OrderLedger, str | None]:
        raw, etag = self._store.get(_key(order_id))
        if raw is None:
            return OrderLedger(order_id=order_id), None
        return OrderLedger.model_validate_json(raw), etag

    def _save(self, ledger: OrderLedger, etag: str | None) -> None:
        value = ledger.model_dump_json()
        self._store.transact(
            [Write(_key(ledger.order_id), value, etag=etag, must_not_exist=etag is None)]
        )


def _key(order_id: str) -> str:
    return f"ledger:{order_id}"


def _answer(ledger: OrderLedger, request: ChargeRequest) -> ChargeResult:
    """The order's decision, whichever call made it."""
    charge = ledger.charge
    if charge is not None:
        return ChargeResult(
            order_id=ledger.order_id,
            outcome=ChargeOutcome.CHARGED,
            amount=charge.amount,
            charge_id=charge.entry_id,
        )
    return ChargeResult(
        order_id=ledger.order_id,
        outcome=ChargeOutcome.DECLINED,
        amount=request.amount,
        reason=ledger.declined,
    )
