"""Stock use cases of an order: quote, reserve one line, release, commit.

A line record `line:{order_id}:{sku}` remembers what happened to each (order, SKU), so
every call is idempotent. Every write of a line record of an existing item also writes
the item under its ETag, in the same transaction: that serialises all writers of one SKU,
so two orders never take the same last unit and a reserve never slips past a release.
"""

import logging
from decimal import Decimal
from functools import partial

from contracts.commands import (
    CommitResult,
    OrderSkus,
    Quote,
    QuotedLine,
    QuoteRequest,
    ReleaseResult,
    ReservationOutcome,
    ReserveRequest,
    ReserveResult,
)
from services.inventory.catalog import item_key, read_item
from services.inventory.domain import Item, Line, LineStatus, line_total, money
from services.state import KeyValueStore, Write, retry_on_conflict

logger = logging.getLogger(__name__)


def line_key(order_id: str, sku: str) -> str:
    return f"line:{order_id}:{sku}"


class Inventory:
    def __init__(self, store: KeyValueStore) -> None:
        self._store = store

    def quote(self, request: QuoteRequest) -> Quote:
        lines: list[QuotedLine] = []
        unknown: list[str] = []
        for line in request.items:
            item, _ = read_item(self._store, line.sku)
            if item is None:
                unknown.append(line.sku)
                continue
            lines.append(
                QuotedLine(
                    sku=item.sku,
                    name=item.name,
                    quantity=line.quantity,
                    unit_price=item.price,
                    line_total=line_total(item.price, line.quantity),
                )
            )
        if unknown:
            reason = f"unknown SKU {', '.join(dict.fromkeys(unknown))}"
            return Quote(order_id=request.order_id, ok=False, reason=reason)
        total = money(sum((line.line_total for line in lines), Decimal(0)))
        return Quote(order_id=request.order_id, ok=True, lines=lines, total=total)

    def reserve(self, request: ReserveRequest) -> ReserveResult:
        return retry_on_conflict(partial(self._reserve_once, request))

    def release(self, request: OrderSkus) -> ReleaseResult:
        released = {
            sku: retry_on_conflict(partial(self._release_once, request.order_id, sku))
            for sku in dict.fromkeys(request.skus)
        }
        return ReleaseResult(order_id=request.order_id, released=released)

    def commit(self, request: OrderSkus) -> CommitResult:
        committed = {
            sku: retry_on_conflict(partial(self._commit_once, request.order_id, sku))
            for sku in dict.fromkeys(request.skus)
        }
        return CommitResult(order_id=request.order_id, committed=committed)

    def _reserve_once(self, request: ReserveRequest) -> ReserveResult:
        key = line_key(request.order_id, request.sku)
        raw_line, _ = self._store.get(key)
        if raw_line is not None:
            return _replayed(request, Line.model_validate_json(raw_line))
        item, etag = read_item(self._store, request.sku)
        if item is None:
            return _result(request, ReservationOutcome.UNKNOWN_SKU)
        taken = item.reserve(request.quantity)
        if taken is None:
            # Nothing recorded: a retry after a restock may still succeed.
            return _result(request, ReservationOutcome.INSUFFICIENT_STOCK, item.available)
        line = Line(
            order_id=request.order_id,
            sku=request.sku,
            quantity=request.quantity,
            status=LineStatus.RESERVED,
        )
        self._store.transact(
            [
                Write(item_key(item.sku), taken.model_dump_json(), etag=etag),
                Write(key, line.model_dump_json(), must_not_exist=True),
            ]
        )
        logger.info(
            "reserved %s x %s", request.quantity, request.sku, extra={"order_id": request.order_id}
        )
        return _result(request, ReservationOutcome.RESERVED, taken.available)

    def _release_once(self, order_id: str, sku: str) -> int:
        key = line_key(order_id, sku)
        raw_line, line_etag = self._store.get(key)
        item, item_etag = read_item(self._store, sku)
        if raw_line is None:
            # A tombstone, so that a reserve arriving after its release reserves nothing.
            writes = [
                Write(key, Line.tombstone(order_id, sku).model_dump_json(), must_not_exist=True)
            ]
            if item is not None:
                # Rewritten unchanged: only to bump its ETag under a racing reserve.
                writes.insert(0, Write(item_key(sku), item.model_dump_json(), etag=item_etag))
            self._store.transact(writes)
            return 0
        line = Line.model_validate_json(raw_line)
        if line.status == LineStatus.RELEASED:
            return line.settled_units  # released before: report that release again
        if line.status != LineStatus.RESERVED:
            return 0
        restored, moved = item.release(line.quantity) if item else (None, 0)
        self._close(key, line, line_etag, LineStatus.RELEASED, restored, item_etag, moved)
        logger.info("released %s x %s", moved, sku, extra={"order_id": order_id})
        return moved

    def _commit_once(self, order_id: str, sku: str) -> int:
        key = line_key(order_id, sku)
        raw_line, line_etag = self._store.get(key)
        if raw_line is None:
            return 0
        line = Line.model_validate_json(raw_line)
        if line.status == LineStatus.COMMITTED:
            return line.settled_units
        if line.status != LineStatus.RESERVED:
            return 0
        item, item_etag = read_item(self._store, sku)
        shipped, moved = item.commit(line.quantity) if item else (None, 0)
        self._close(key, line, line_etag, LineStatus.COMMITTED, shipped, item_etag, moved)
        logger.info("committed %s x %s", moved, sku, extra={"order_id": order_id})
        return moved

    def _close(
        self,
        key: str,
        line: Line,
        line_etag: str | None,
        status: LineStatus,
        item: Item | None,
        item_etag: str | None,
        moved: int,
    ) -> None:
        writes = [Write(key, line.moved_to(status, moved).model_dump_json(), etag=line_etag)]
        if item is not None:
            writes.insert(0, Write(item_key(item.sku), item.model_dump_json(), etag=item_etag))
        self._store.transact(writes)


def _result(
    request: ReserveRequest, outcome: ReservationOutcome, available: int | None = None
) -> ReserveResult:
    return ReserveResult(
        order_id=request.order_id,
        sku=request.sku,
        quantity=request.quantity,
        outcome=outcome,
        available=available,
    )


def _replayed(request: ReserveRequest, line: Line) -> ReserveResult:
    """The recorded outcome of an earlier call for the same (order, SKU)."""
    if line.status == LineStatus.RELEASED:
        return _result(request, ReservationOutcome.RELEASED)
    return ReserveResult(
        order_id=request.order_id,
        sku=request.sku,
        quantity=line.quantity,
        outcome=ReservationOutcome.RESERVED,
    )
