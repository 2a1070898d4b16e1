"""The order saga's happy path, written once against a small `Engine`, for the peer.

It mirrors orchestrator/workflows/order.py and monitor.py step for step on the path a
bench order takes (one line, tok_visa, DE, below the approval and fraud thresholds):
quote, reserve the lines, publish, charge, create the shipment, publish, commit the stock,
then the delivery watch: looks that sleep until shipping's estimate, ask
(`shipment_status`) and announce `shipped` once, the first INLINE_LOOKS in the order
itself and any later ones in a monitor child workflow that continues as new after each,
then the last publish. Same activities, same requests, same events (contracts/), same retry
policies. Off that path (a rejection, a decline, an undeliverable address, an order that
would wait for approval or screening, a step that failed after its retries) the peer
publishes `order.failed` and stops: it does not compensate, wait for people, or take
cancel requests and nudges, so the bench only ever sends it happy-path orders.

Deterministic by construction: time comes from the engine, everything else from results.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any, Protocol

from bench.peer.outbox import Outbox, Sequence
from contracts.commands import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    CreateShipmentRequest,
    OrderRef,
    OrderSkus,
    Quote,
    QuoteRequest,
    ReservationOutcome,
    ReserveRequest,
    ReserveResult,
    Shipment,
    ShipmentState,
)
from contracts.events import (
    OrderAccepted,
    OrderCompleted,
    OrderDelivered,
    OrderDeliveryOverdue,
    OrderFailed,
    OrderShipped,
    PaymentCharged,
    ShipmentCreated,
    StockReserved,
)
from contracts.notifications import NotificationKind
from contracts.orders import OrderResult, OrderStatus
from orchestrator.activities import events, inventory, payment, shipping
from orchestrator.workflows.inputs import MonitorInput, MonitorResult, OrderWorkflowInput
from orchestrator.workflows.monitor import INLINE_LOOKS, next_look, workflow_time
from orchestrator.workflows.order import _MESSAGES as MESSAGES  # the customer-facing texts

# The fleet's activity registration names (orchestrator/runtime.py registers each function
# under its own name); the peer's worker registers the same functions under the same names.
QUOTE = inventory.quote_order.__name__
RESERVE = inventory.reserve_line.__name__
CHARGE = payment.charge_payment.__name__
CREATE_SHIPMENT = shipping.create_shipment.__name__
COMMIT = inventory.commit_stock.__name__
STATUS = shipping.shipment_status.__name__
PUBLISH = events.publish_outbound.__name__

ON_THE_WAY = frozenset({ShipmentState.IN_TRANSIT, ShipmentState.DELIVERED})
SHIPPED_MESSAGE = "Your order is on its way."  # as monitor.py's _announce_shipped


class StepFailed(Exception):
    """An activity failed after its retries (the engine's own error, translated)."""


class OffHappyPath(Exception):
    """The order left the path the peer mirrors; it ends as failed, with this reason."""


class Engine(Protocol):
    """What the saga needs from a workflow engine."""

    def now(self) -> datetime:
        """The workflow's clock, naive UTC (as Dapr's `current_utc_datetime`)."""
        ...

    async def call(self, activity: str, request: dict[str, Any], *, until_success: bool) -> Any:
        """Runs an activity with the fleet's retry policy for it (STEP_RETRY, or
        COMPENSATION_RETRY for as long as it takes); raises StepFailed when it gives up."""
        ...

    async def sleep_until(self, moment: datetime) -> None: ...

    async def monitor(self, watch: MonitorInput) -> dict[str, Any]:
        """Runs the delivery monitor as a child workflow; returns its MonitorResult."""
        ...


class OrderSaga:
    def __init__(self, engine: Engine, workflow_input: OrderWorkflowInput) -> None:
        self.engine = engine
        self.order = workflow_input.order
        self.policy = workflow_input.policy
        self.sequence = Sequence(self.order.order_id, workflow_input.trace_id)
        self.outbox = Outbox()
        self.skus = sorted({line.sku for line in self.order.items})

    def fields(self, status: OrderStatus | None = None) -> dict[str, Any]:
        return self.sequence.fields(self.engine.now(), status)

    def notify(self, kind: NotificationKind) -> None:
        self.outbox.notify(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            kind=kind,
            message=MESSAGES[kind],
            at=self.engine.now(),
        )

    async def publish(self) -> None:
        batch = self.outbox.take()
        if batch is not None:
            await self.engine.call(PUBLISH, batch, until_success=True)

    async def step(self, activity: str, request: Any) -> Any:
        return await self.engine.call(
            activity, request.model_dump(mode="json"), until_success=False
        )

    async def run(self) -> dict[str, Any]:
        try:
            quote = await self.quote()
            await self.reserve()
            shipment = await self.charge_and_ship(quote)
        except (OffHappyPath, StepFailed) as ended:
            return await self.fail(str(ended))
        await self.publish()
        commit = OrderSkus(order_id=self.order.order_id, skus=self.skus)
        await self.engine.call(COMMIT, commit.model_dump(mode="json"), until_success=True)
        return await self.deliver(quote, shipment)

    async def quote(self) -> Quote:
        request = QuoteRequest(order_id=self.order.order_id, items=self.order.items)
        quote = Quote.model_validate(await self.step(QUOTE, request))
        if not quote.ok or quote.total is None:
            raise OffHappyPath(f"rejected: {quote.reason or 'the order could not be priced'}")
        if quote.total >= min(self.policy.approval_threshold, self.policy.fraud_check_threshold):
            raise OffHappyPath(f"total {quote.total} needs approval or screening")
        self.outbox.event(
            OrderAccepted(
                customer_id=self.order.customer_id,
                lines=quote.lines,
                total=quote.total,
                **self.fields(),
            )
        )
        return quote

    async def reserve(self) -> None:
        requests = [
            ReserveRequest(order_id=self.order.order_id, sku=line.sku, quantity=line.quantity)
            for line in self.order.items
        ]
        replies = await asyncio.gather(*(self.step(RESERVE, request) for request in requests))
        results = [ReserveResult.model_validate(reply) for reply in replies]
        if any(r.outcome != ReservationOutcome.RESERVED for r in results):
            raise OffHappyPath("rejected: stock unavailable")
        self.outbox.event(
            StockReserved(reserved={r.sku: r.quantity for r in results}, **self.fields())
        )
        await self.publish()

    async def charge_and_ship(self, quote: Quote) -> Shipment:
        assert quote.total is not None
        request = ChargeRequest(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            amount=quote.total,
            currency=quote.currency,
            payment_token=self.order.payment_token,
        )
        charge = ChargeResult.model_validate(await self.step(CHARGE, request))
        if charge.outcome != ChargeOutcome.CHARGED or charge.charge_id is None:
            raise OffHappyPath(f"payment declined: {charge.reason}")
        self.outbox.event(
            PaymentCharged(amount=charge.amount, charge_id=charge.charge_id, **self.fields())
        )
        ship = CreateShipmentRequest(
            order_id=self.order.order_id,
            address=self.order.shipping_address,
            items=self.order.items,
        )
        shipment = Shipment.model_validate(await self.step(CREATE_SHIPMENT, ship))
        if shipment.state == ShipmentState.UNDELIVERABLE or shipment.shipment_id is None:
            raise OffHappyPath(f"shipment failed: {shipment.reason or shipment.state}")
        self.outbox.event(ShipmentCreated(shipment_id=shipment.shipment_id, **self.fields()))
        self.notify(NotificationKind.ORDER_CONFIRMED)
        return shipment

    async def deliver(self, quote: Quote, shipment: Shipment) -> dict[str, Any]:
        assert shipment.shipment_id is not None and quote.total is not None
        watch = MonitorInput(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            shipment_id=shipment.shipment_id,
            deadline=self.engine.now() + timedelta(seconds=self.policy.delivery_deadline_s),
            poll_s=self.policy.monitor_poll_s,
            next_sequence=self.sequence.next_sequence,
            trace_id=self.sequence.trace_id,
            look_at=shipment.next_update_at,
        )
        outcome = await self.watch(watch)
        self.sequence.continue_at(outcome.next_sequence)
        if not outcome.delivered:
            reason = (
                f"not delivered within {self.policy.delivery_deadline_s:g}s "
                f"(last seen {outcome.state})"
            )
            self.sequence.status = OrderStatus.DELIVERY_OVERDUE
            self.outbox.event(OrderDeliveryOverdue(reason=reason, **self.fields()))
            await self.publish()
            return _result(self.order.order_id, OrderStatus.DELIVERY_OVERDUE, quote.total, reason)
        self.outbox.event(
            OrderDelivered(shipment_id=shipment.shipment_id, **self.fields(OrderStatus.RUNNING))
        )
        self.notify(NotificationKind.DELIVERED)
        self.sequence.status = OrderStatus.COMPLETED
        self.outbox.event(OrderCompleted(total=quote.total, **self.fields()))
        await self.publish()
        return _result(self.order.order_id, OrderStatus.COMPLETED, quote.total, None)

    async def watch(self, watch: MonitorInput) -> MonitorResult:
        """As the fleet's order (WATCH_IN_ORDER): its first looks itself, then the monitor."""
        for _ in range(INLINE_LOOKS):
            looked = await monitor_generation(self.engine, watch)
            if isinstance(looked, MonitorResult):
                return looked
            watch = looked
        return MonitorResult.model_validate(await self.engine.monitor(watch))

    async def fail(self, reason: str) -> dict[str, Any]:
        self.outbox.take()  # what was not published yet stays unannounced, as a fault would
        self.sequence.status = OrderStatus.FAILED
        self.outbox.event(OrderFailed(reason=f"peer: {reason}", **self.fields()))
        await self.publish()
        return _result(self.order.order_id, OrderStatus.FAILED, None, reason)


async def monitor_generation(engine: Engine, watch: MonitorInput) -> MonitorResult | MonitorInput:
    """One generation of the fleet's shipment monitor: wait for the look, look, announce
    `shipped` once; the result when delivered (or past the deadline), else the input of
    the next generation (the caller continues as new with it)."""
    watch.deadline = workflow_time(watch.deadline)
    watch.look_at = workflow_time(watch.look_at) if watch.look_at is not None else None
    if watch.look_at is not None and watch.look_at > engine.now():
        await engine.sleep_until(watch.look_at)
    watch.polls += 1
    try:
        reply = await engine.call(
            STATUS, OrderRef(order_id=watch.order_id).model_dump(mode="json"), until_success=False
        )
    except StepFailed:
        reply = None  # shipping did not answer: look again later, as the fleet's monitor
    now = engine.now()
    if reply is None:
        if now >= watch.deadline:
            return _done(watch, False, "unknown")
        watch.look_at = next_look(now, None, watch.poll_s, watch.deadline)
        return watch
    shipment = Shipment.model_validate(reply)
    if shipment.state in ON_THE_WAY and not watch.shipped_announced:
        await _announce_shipped(engine, watch)
        now = engine.now()
    if shipment.state == ShipmentState.DELIVERED:
        return _done(watch, True, shipment.state)
    if now >= watch.deadline:
        return _done(watch, False, shipment.state)
    estimate = shipment.next_update_at
    estimate = workflow_time(estimate) if estimate is not None else None
    watch.look_at = next_look(now, estimate, watch.poll_s, watch.deadline)
    return watch


async def _announce_shipped(engine: Engine, watch: MonitorInput) -> None:
    sequence = Sequence(watch.order_id, watch.trace_id, first=watch.next_sequence)
    outbox = Outbox()
    outbox.event(OrderShipped(shipment_id=watch.shipment_id, **sequence.fields(engine.now())))
    outbox.notify(
        order_id=watch.order_id,
        customer_id=watch.customer_id,
        kind=NotificationKind.SHIPPED,
        message=SHIPPED_MESSAGE,
        at=engine.now(),
    )
    batch = outbox.take()
    assert batch is not None
    await engine.call(PUBLISH, batch, until_success=True)
    watch.next_sequence = sequence.next_sequence
    watch.shipped_announced = True


def _done(watch: MonitorInput, delivered: bool, state: str) -> MonitorResult:
    return MonitorResult(
        delivered=delivered, next_sequence=watch.next_sequence, state=state, polls=watch.polls
    )


def _result(order_id: str, status: OrderStatus, total: Any, reason: str | None) -> dict[str, Any]:
    return OrderResult(
        order_id=order_id, status=status, total=total, failure_reason=reason
    ).model_dump(mode="json")
