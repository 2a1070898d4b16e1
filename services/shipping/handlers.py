"""Shipping use cases: create (idempotent per order), cancel, status.

One key per order, `shipment:{order_id}`, created only if absent and changed only under
its ETag, so a duplicate create returns the first shipment and a cancel always wins or
loses cleanly against it.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from contracts.commands import CreateShipmentRequest, OrderRef, Shipment, ShipmentState
from services.shipping import domain
from services.state import KeyValueStore, Write, retry_on_conflict

logger = logging.getLogger(__name__)


class UnknownShipment(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _new_shipment_id() -> str:
    return f"shp_{uuid.uuid4().hex[:12]}"


class Shipping:
    def __init__(
        self,
        store: KeyValueStore,
        *,
        step_seconds: float = 2.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._step = step_seconds
        self._clock = clock

    def create(self, request: CreateShipmentRequest) -> Shipment:
        return retry_on_conflict(lambda: self._create_once(request))

    def cancel(self, request: OrderRef) -> Shipment:
        return retry_on_conflict(lambda: self._cancel_once(request.order_id))

    def status(self, request: OrderRef) -> Shipment:
        record, _ = self._read(request.order_id)
        if record is None:
            raise UnknownShipment(f"no shipment for order {request.order_id}")
        return domain.as_of(record, self._clock(), self._step)

    def _create_once(self, request: CreateShipmentRequest) -> Shipment:
        existing, _ = self._read(request.order_id)
        if existing is not None:  # created before, or cancelled before it was created
            return domain.as_of(existing, self._clock(), self._step)
        reason = domain.undeliverable_reason(request.address.country)
        if reason is not None:
            record = Shipment(
                order_id=request.order_id, state=ShipmentState.UNDELIVERABLE, reason=reason
            )
        else:
            record = Shipment(
                order_id=request.order_id,
                state=ShipmentState.LABEL_CREATED,
                shipment_id=_new_shipment_id(),
                created_at=self._clock(),
            )
        self._store.transact(
            [Write(_key(request.order_id), record.model_dump_json(), must_not_exist=True)]
        )
        logger.info("shipment %s", record.state.value, extra={"order_id": request.order_id})
        return domain.as_of(record, self._clock(), self._step)

    def _cancel_once(self, order_id: str) -> Shipment:
        record, etag = self._read(order_id)
        now = self._clock()
        if record is None:
            tombstone = domain.tombstone(order_id)
            self._store.transact(
                [Write(_key(order_id), tombstone.model_dump_json(), must_not_exist=True)]
            )
            logger.info("shipment cancelled before creation", extra={"order_id": order_id})
            return tombstone
        updated = domain.cancelled(record, now, self._step)
        if updated is None:
            return domain.as_of(record, now, self._step)
        self._store.transact([Write(_key(order_id), updated.model_dump_json(), etag=etag)])
        logger.info("shipment cancelled", extra={"order_id": order_id})
        return updated

    def _read(self, order_id: str) -> tuple[Shipment | None, str | None]:
        raw, etag = self._store.get(_key(order_id))
        return (Shipment.model_validate_json(raw), etag) if raw is not None else (None, None)


def _key(order_id: str) -> str:
    return f"shipment:{order_id}"
