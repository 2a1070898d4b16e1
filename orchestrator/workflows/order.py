"""The order workflow: quote → reserve (fan-out) → [approval] → [screen] → charge → ship → deliver.

A saga: each step that changes the world pushes its undo; a business outcome, a fault
that outlived its retries, a rejection or a cancel request unwinds them in reverse.
Deterministic: side effects are activities, time comes from the context, and logs are
written only when not replaying. A cancel request is honoured at every step until the
shipment exists; after that the order can only complete or become overdue: the steps
that follow the shipment are retried until they succeed, like compensations, and an
unwinding that finds the shipment already delivered rolls the order forward instead.
"""

import logging
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, TaskFailedError, when_all, when_any

from contracts.approvals import APPROVAL_EVENT, CANCEL_EVENT, ApprovalDecision, CancelRequest
from contracts.commands import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    CreateShipmentRequest,
    OrderRef,
    OrderSkus,
    Quote,
    QuoteRequest,
    RefundResult,
    ReleaseResult,
    ReservationOutcome,
    ReserveRequest,
    ReserveResult,
    ScreenRequest,
    ScreenResult,
    ScreenVerdict,
    Shipment,
    ShipmentState,
)
from contracts.events import (
    ApprovalRequested,
    OrderAccepted,
    OrderApproved,
    OrderCancelled,
    OrderCompensated,
    OrderCompleted,
    OrderDelivered,
    OrderDeliveryOverdue,
    OrderRejected,
    PaymentCharged,
    PaymentRefunded,
    ShipmentCancelled,
    ShipmentCreated,
    StockReleased,
    StockReserved,
)
from contracts.notifications import NotificationKind
from contracts.orders import OrderResult, OrderStatus, Step
from orchestrator.activities import inventory, payment, shipping
from orchestrator.instances import is_recovery
from orchestrator.workflows.inputs import MonitorInput, MonitorResult, OrderWorkflowInput
from orchestrator.workflows.monitor import (
    INLINE_LOOKS,
    look_once,
    monitor_instance_id,
    shipment_monitor,
    watching,
)
from orchestrator.workflows.nudges import Nudges
from orchestrator.workflows.outbound import Outbox
from orchestrator.workflows.patches import FRAUD_CHECK, NUDGE_EVERY_WAIT, WATCH_IN_ORDER
from orchestrator.workflows.policies import COMPENSATION_PAUSE, COMPENSATION_RETRY, STEP_RETRY
from orchestrator.workflows.progress import Progress
from orchestrator.workflows.saga import Compensation, Saga, TooLateToUndo

logger = logging.getLogger(__name__)

_MESSAGES = {
    NotificationKind.APPROVAL_REQUESTED: "Your order awaits approval.",
    NotificationKind.ORDER_CONFIRMED: "Your order is confirmed and being prepared.",
    NotificationKind.CANCELLED: "Your order was cancelled.",
    NotificationKind.REFUNDED: "Your payment was refunded.",
    NotificationKind.DELIVERED: "Your order was delivered.",
}


class OrderEnded(Exception):
    """The order ends here with this status (a business outcome, not a fault)."""

    def __init__(self, status: OrderStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class OrderFlow:
    def __init__(self, ctx: DaprWorkflowContext, workflow_input: OrderWorkflowInput) -> None:
        self.ctx = ctx
        self.order = workflow_input.order
        self.policy = workflow_input.policy
        self.progress = Progress(ctx, workflow_input.trace_id)
        self.saga = Saga()
        # Events and notifications go out in batches (outbox.publish), not one activity
        # each: after reserve, before waiting for approval, after shipment, at the end.
        self.outbox: Outbox
        self.skus = sorted({line.sku for line in self.order.items})
        self.quoted: Quote | None = None
        self.shipment_announced = False
        # Created once: a cancel raised at any time (even before we start) completes it.
        self.cancel = ctx.wait_for_external_event(CANCEL_EVENT)
        # Every wait also wakes on the sweeper's nudge (workflows/nudges.py); orders that
        # started before that patch wake on it only in their steps, as they always did.
        self.nudges = Nudges(ctx)
        self.everywhere = self.nudges if ctx.is_patched(NUDGE_EVERY_WAIT) else None
        # Asked at the start, so an order keeps the path it started on: one that was
        # waiting for its approval when the orchestrator was upgraded replays False here
        # and is charged unscreened, as the code it started on would have charged it.
        self.fraud_check = ctx.is_patched(FRAUD_CHECK)
        self.outbox = Outbox(ctx, self.everywhere)

    # ---- plumbing

    def log(self, message: str, *args: object) -> None:
        if not self.ctx.is_replaying:
            extra = {"order_id": self.order.order_id, "trace_id": self.progress.state.trace_id}
            logger.info(message, *args, extra=extra)

    def call(self, activity: Any, request: Any) -> Any:
        return self.ctx.call_activity(
            activity, input=request.model_dump(mode="json"), retry_policy=STEP_RETRY
        )

    def step(
        self, start: Callable[[], Any], *, cancellable: bool = True, until_success: bool = False
    ) -> Generator[Any, Any, Any]:
        """Runs a step (`start` issues its task) until it ends, unless a cancel request
        arrives first (while `cancellable`). A nudge issues the step again: Dapr 1.18 can
        drop an activity's result when a sidecar dies mid-save, leaving the order waiting
        forever (found by the chaos suite); the sweeper nudges orders that went quiet, and
        every step is idempotent per order, so a second call returns the first outcome.
        With `until_success`, a step that fails after its retries waits and starts over."""
        task = start()
        while True:
            waits = [self.cancel, self.nudges.waiter] if cancellable else [self.nudges.waiter]
            winner = yield when_any([task, *waits])
            if winner is self.cancel:
                request = CancelRequest.model_validate(self.cancel.get_result() or {})
                raise OrderEnded(OrderStatus.CANCELLED, request.reason)
            if winner is not self.nudges.waiter:
                try:
                    return winner.get_result()
                except TaskFailedError:
                    if not until_success:
                        raise
                    self.log("%s failed after retries; trying again", self.progress.state.step)
                    yield self.ctx.create_timer(COMPENSATION_PAUSE)
                    task = start()
                    continue
            self.log("nudged during %s: issuing it again", self.progress.state.step)
            self.nudges.renew()
            task = start()

    def announce(self, event: Any) -> None:
        """Queues the order event for the next `outbox.publish()`."""
        self.outbox.event(event.model_dump(mode="json"))

    def notify(self, kind: NotificationKind) -> None:
        self.outbox.notify(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            kind=kind,
            message=_MESSAGES.get(kind, kind.value.replace("_", " ")),
        )

    def fields(self, status: OrderStatus | None = None) -> dict[str, Any]:
        return {"order_id": self.order.order_id, **self.progress.event_fields(status)}

    # ---- the steps

    def run(self) -> Generator[Any, Any, Any]:
        try:
            quote = yield from self.quote()
            yield from self.reserve()
            if quote.total is not None and quote.total >= self.policy.approval_threshold:
                yield from self.await_approval(quote)
            yield from self.charge(quote)
            shipment = yield from self.ship()
        except OrderEnded as ended:
            status, reason = ended.status, ended.reason
        except TaskFailedError as fault:
            status = OrderStatus.COMPENSATED
            reason = f"{self.progress.state.step} failed after retries: {fault}"
        else:
            return (yield from self.fulfil(quote, shipment))
        try:
            return (yield from self.unwind(status, reason))
        except TooLateToUndo as late:
            # The shipment could not be cancelled: it was delivered. The goods are with the
            # customer, so the order is fulfilled after all; nothing is refunded.
            shipment = Shipment.model_validate(late.result)
            self.log("%s, but shipment is %s: fulfilling the order", reason, shipment.state)
            assert self.quoted is not None  # a shipment exists only after a quote
            return (yield from self.fulfil(self.quoted, shipment))

    def fulfil(self, quote: Quote, shipment: Shipment) -> Generator[Any, Any, Any]:
        """The shipment exists: from here on nothing unwinds the order and a cancel request
        is refused. Each step is retried until it succeeds (a fault only delays it)."""
        if not self.shipment_announced:
            self.announce_shipment(shipment)
        yield from self.outbox.publish()
        commit = OrderSkus(order_id=self.order.order_id, skus=self.skus).model_dump(mode="json")
        yield from self.step(
            lambda: self.ctx.call_activity(
                inventory.commit_stock, input=commit, retry_policy=COMPENSATION_RETRY
            ),
            cancellable=False,
            until_success=True,
        )
        return (yield from self.deliver(quote, shipment))

    def quote(self) -> Generator[Any, Any, Quote]:
        self.progress.step(Step.QUOTE)
        request = QuoteRequest(order_id=self.order.order_id, items=self.order.items)
        quote = Quote.model_validate(
            (yield from self.step(lambda: self.call(inventory.quote_order, request)))
        )
        if not quote.ok or quote.total is None:
            raise OrderEnded(OrderStatus.REJECTED, quote.reason or "the order could not be priced")
        self.progress.set_total(quote.total)
        self.quoted = quote
        self.announce(
            OrderAccepted(
                customer_id=self.order.customer_id,
                lines=quote.lines,
                total=quote.total,
                **self.fields(),
            )
        )
        return quote

    def reserve(self) -> Generator[Any, Any, None]:
        self.progress.step(Step.RESERVE, f"{len(self.order.items)} lines")
        # Pushed before reserving: a reservation in flight when we unwind is released too.
        self.saga.push(
            Compensation(
                "release stock",
                inventory.release_stock,
                OrderSkus(order_id=self.order.order_id, skus=self.skus).model_dump(mode="json"),
                lambda result: StockReleased(
                    released=ReleaseResult.model_validate(result).released,
                    **self.fields(OrderStatus.RUNNING),
                ).model_dump(mode="json"),
            )
        )

        def reserve_every_line() -> Any:
            return when_all(
                [
                    self.call(
                        inventory.reserve_line,
                        ReserveRequest(
                            order_id=self.order.order_id, sku=line.sku, quantity=line.quantity
                        ),
                    )
                    for line in self.order.items
                ]
            )

        results = [
            ReserveResult.model_validate(r) for r in (yield from self.step(reserve_every_line))
        ]
        short = [r for r in results if r.outcome != ReservationOutcome.RESERVED]
        if short:
            raise OrderEnded(
                OrderStatus.REJECTED, "stock unavailable: " + "; ".join(map(_shortfall, short))
            )
        self.announce(StockReserved(reserved={r.sku: r.quantity for r in results}, **self.fields()))
        yield from self.outbox.publish()

    def await_approval(self, quote: Quote) -> Generator[Any, Any, None]:
        assert quote.total is not None
        expires_at = self.ctx.current_utc_datetime + timedelta(
            seconds=self.policy.approval_timeout_s
        )
        self.progress.step(Step.APPROVAL, f"total {quote.total} ≥ {self.policy.approval_threshold}",
                           status=OrderStatus.AWAITING_APPROVAL)  # fmt: skip
        self.announce(
            ApprovalRequested(
                total=quote.total,
                threshold=self.policy.approval_threshold,
                expires_at=expires_at,
                **self.fields(),
            )
        )
        self.notify(NotificationKind.APPROVAL_REQUESTED)
        yield from self.outbox.publish()
        decision_task = self.ctx.wait_for_external_event(APPROVAL_EVENT)
        timeout = self.ctx.create_timer(expires_at)
        while True:
            winner = yield when_any([decision_task, timeout, self.cancel, self.nudges.waiter])
            if winner is not self.nudges.waiter:
                break
            # A durable timer created as the scheduler dies can be lost (Dapr 1.18): the
            # sweeper nudges an order still waiting after its deadline, which then counts
            # as the timeout. A nudge before the deadline changes nothing.
            self.nudges.renew()
            if self.ctx.current_utc_datetime >= expires_at:
                winner = timeout
                break
        if winner is self.cancel:
            request = CancelRequest.model_validate(self.cancel.get_result() or {})
            raise OrderEnded(OrderStatus.CANCELLED, request.reason)
        if winner is timeout:
            raise OrderEnded(
                OrderStatus.CANCELLED,
                f"approval timed out after {self.policy.approval_timeout_s:g}s",
            )
        decision = ApprovalDecision.model_validate(decision_task.get_result())
        if not decision.approved:
            raise OrderEnded(
                OrderStatus.REJECTED,
                f"rejected by {decision.approver}"
                + (f": {decision.reason}" if decision.reason else ""),
            )
        self.progress.set_status(OrderStatus.RUNNING)
        self.announce(
            OrderApproved(approver=decision.approver, reason=decision.reason, **self.fields())
        )

    def screen(self, quote: Quote) -> Generator[Any, Any, None]:
        """The fraud screening of an order at or above the threshold, before its charge.

        Runs ahead of the refund's push: a declined order was never charged, so unwinding
        it only releases the stock. Progress stays on the charge step (with a detail): the
        watch view and the console know the steps they draw, and this is part of paying.
        """
        assert quote.total is not None
        if not self.fraud_check or quote.total < self.policy.fraud_check_threshold:
            return
        self.progress.step(Step.CHARGE, f"fraud screening of {quote.total} {quote.currency}")
        request = ScreenRequest(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            amount=quote.total,
            currency=quote.currency,
            payment_token=self.order.payment_token,
        )
        result = ScreenResult.model_validate(
            (yield from self.step(lambda: self.call(payment.screen_payment, request)))
        )
        if result.verdict != ScreenVerdict.CLEAR:
            if is_recovery(self.ctx.instance_id):
                # A recovery instance (orchestrator/recovery.py) carries on an order whose
                # first instance may have charged it unscreened, before the patch: refund
                # whatever was charged (a refund of nothing changes nothing).
                self.push_refund()
            raise OrderEnded(OrderStatus.REJECTED, f"fraud check: {result.reason}")

    def push_refund(self) -> None:
        self.saga.push(
            Compensation(
                "refund payment",
                payment.refund_payment,
                OrderRef(order_id=self.order.order_id).model_dump(mode="json"),
                lambda result: _refund_event(result, self.fields(OrderStatus.RUNNING)),
                notification=NotificationKind.REFUNDED,
            )
        )

    def charge(self, quote: Quote) -> Generator[Any, Any, ChargeResult]:
        assert quote.total is not None
        yield from self.screen(quote)
        self.progress.step(Step.CHARGE, f"{quote.total} {quote.currency}")
        request = ChargeRequest(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            amount=quote.total,
            currency=quote.currency,
            payment_token=self.order.payment_token,
        )
        # Pushed before charging: a charge in flight when a cancel wins is refunded too.
        self.push_refund()
        charge = ChargeResult.model_validate(
            (yield from self.step(lambda: self.call(payment.charge_payment, request)))
        )
        if charge.outcome != ChargeOutcome.CHARGED or charge.charge_id is None:
            self.saga.pop_if("refund payment")
            raise OrderEnded(OrderStatus.COMPENSATED, f"payment declined: {charge.reason}")
        self.announce(
            PaymentCharged(amount=charge.amount, charge_id=charge.charge_id, **self.fields())
        )
        return charge

    def ship(self) -> Generator[Any, Any, Shipment]:
        self.progress.step(Step.SHIP, self.order.shipping_address.country)
        request = CreateShipmentRequest(
            order_id=self.order.order_id,
            address=self.order.shipping_address,
            items=self.order.items,
        )
        # Pushed before creating: a shipment in flight when a cancel wins is cancelled too
        # (shipping remembers the cancel, so a late create does nothing).
        self.saga.push(
            Compensation(
                "cancel shipment",
                shipping.cancel_shipment,
                OrderRef(order_id=self.order.order_id).model_dump(mode="json"),
                self._cancelled_event,
            )
        )
        shipment = Shipment.model_validate(
            (yield from self.step(lambda: self.call(shipping.create_shipment, request)))
        )
        if shipment.state == ShipmentState.UNDELIVERABLE or shipment.shipment_id is None:
            self.saga.pop_if("cancel shipment")
            raise OrderEnded(
                OrderStatus.COMPENSATED, f"shipment failed: {shipment.reason or shipment.state}"
            )
        self.announce_shipment(shipment)
        return shipment

    def announce_shipment(self, shipment: Shipment) -> None:
        assert shipment.shipment_id is not None
        self.announce(ShipmentCreated(shipment_id=shipment.shipment_id, **self.fields()))
        self.notify(NotificationKind.ORDER_CONFIRMED)
        self.shipment_announced = True

    def _cancelled_event(self, result: Any) -> dict[str, Any] | None:
        """What cancelling the shipment did: cancelled it (announced), found nothing to
        cancel (the country was undeliverable), or came too late (it was delivered)."""
        shipment = Shipment.model_validate(result)
        if shipment.state == ShipmentState.CANCELLED:
            return ShipmentCancelled(**self.fields(OrderStatus.RUNNING)).model_dump(mode="json")
        if shipment.state == ShipmentState.UNDELIVERABLE or shipment.shipment_id is None:
            return None
        raise TooLateToUndo("cancel shipment", result)

    def deliver(self, quote: Quote, shipment: Shipment) -> Generator[Any, Any, Any]:
        assert shipment.shipment_id is not None and quote.total is not None
        self.progress.step(Step.DELIVER, shipment.shipment_id)
        monitor_input = MonitorInput(
            order_id=self.order.order_id,
            customer_id=self.order.customer_id,
            shipment_id=shipment.shipment_id,
            deadline=self.ctx.current_utc_datetime
            + timedelta(seconds=self.policy.delivery_deadline_s),
            poll_s=self.policy.monitor_poll_s,
            next_sequence=self.progress.next_sequence,
            trace_id=self.progress.state.trace_id,
            look_at=shipment.next_update_at,
        )
        if self.ctx.is_patched(WATCH_IN_ORDER):
            outcome = MonitorResult.model_validate((yield from self.watch_here(monitor_input)))
        else:
            outcome = MonitorResult.model_validate((yield from self.watch(monitor_input)))
        self.progress.continue_sequence_at(outcome.next_sequence)
        if outcome.delivered:
            self.announce(
                OrderDelivered(shipment_id=shipment.shipment_id, **self.fields(OrderStatus.RUNNING))
            )
            self.notify(NotificationKind.DELIVERED)
            self.progress.step(Step.COMPLETE)
            self.progress.finish(OrderStatus.COMPLETED)
            self.announce(OrderCompleted(total=quote.total, **self.fields()))
            yield from self.outbox.publish()
            self.log("order completed")
            return _result(self.order.order_id, OrderStatus.COMPLETED, quote.total, None)
        reason = (
            f"not delivered within {self.policy.delivery_deadline_s:g}s (last seen {outcome.state})"
        )
        self.progress.finish(OrderStatus.DELIVERY_OVERDUE, reason)
        self.announce(OrderDeliveryOverdue(reason=reason, **self.fields()))
        yield from self.outbox.publish()
        return _result(self.order.order_id, OrderStatus.DELIVERY_OVERDUE, quote.total, reason)

    def watch_here(self, monitor_input: MonitorInput) -> Generator[Any, Any, Any]:
        """The watch's first looks, in this workflow; the monitor takes over after them."""
        watch = watching(monitor_input.model_dump(mode="json"))
        for _ in range(INLINE_LOOKS):
            done = yield from look_once(self.ctx, watch, self.nudges)
            if done is not None:
                return done
        return (yield from self.watch(watch))

    def watch(self, monitor_input: MonitorInput) -> Generator[Any, Any, Any]:
        """The delivery monitor, as a child workflow; should it ever fail (it catches its
        own faults), a fresh one takes over after a pause: delivery must not unwind."""
        attempt = 1
        while True:
            try:
                return (
                    yield self.ctx.call_child_workflow(
                        shipment_monitor,
                        input=monitor_input.model_dump(mode="json"),
                        instance_id=monitor_instance_id(self.order.order_id, attempt),
                    )
                )
            except TaskFailedError as fault:
                self.log("the delivery monitor failed (%s); starting another", fault)
                yield self.ctx.create_timer(COMPENSATION_PAUSE)
                attempt += 1

    def unwind(self, status: OrderStatus, reason: str) -> Generator[Any, Any, Any]:
        self.log("order ending %s: %s", status.value, reason)
        if self.saga.pending:
            self.progress.step(Step.COMPENSATE, ", ".join(self.saga.pending))
            yield from self.saga.compensate(self.ctx, self.outbox.event, self.notify, self.nudges)
        self.progress.finish(status, reason)
        if status == OrderStatus.REJECTED:
            self.announce(OrderRejected(reason=reason, **self.fields()))
        elif status == OrderStatus.CANCELLED:
            self.announce(OrderCancelled(reason=reason, **self.fields()))
            self.notify(NotificationKind.CANCELLED)
        else:
            self.announce(OrderCompensated(reason=reason, **self.fields()))
        yield from self.outbox.publish()
        return _result(self.order.order_id, status, self.progress.state.total, reason)


def _shortfall(result: ReserveResult) -> str:
    text = f"{result.sku}: {result.outcome.value.replace('_', ' ')}"
    if result.available is not None:
        text += f" (requested {result.quantity}, available {result.available})"
    return text


def _refund_event(result: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return PaymentRefunded(
        amount=RefundResult.model_validate(result).refunded, **fields
    ).model_dump(mode="json")


def _result(order_id: str, status: OrderStatus, total: Any, reason: str | None) -> dict[str, Any]:
    return OrderResult(
        order_id=order_id, status=status, total=total, failure_reason=reason
    ).model_dump(mode="json")


def order_workflow(ctx: DaprWorkflowContext, raw_input: dict[str, Any]) -> Generator[Any, Any, Any]:
    return (yield from OrderFlow(ctx, OrderWorkflowInput.model_validate(raw_input)).run())
