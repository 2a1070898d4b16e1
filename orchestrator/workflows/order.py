"""The order workflow: quote → reserve (fan-out) → charge → ship → complete, as a saga.

Deterministic: every side effect is an activity; time comes from the context; logs
only when not replaying. Business outcomes come back as results and end the order;
transient faults are retried by policy, and a step that still fails compensates.
"""

import logging
from collections.abc import Generator
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, TaskFailedError, when_all

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
    Shipment,
    ShipmentState,
)
from contracts.events import (
    OrderAccepted,
    OrderCompensated,
    OrderCompleted,
    OrderRejected,
    PaymentCharged,
    PaymentRefunded,
    ShipmentCancelled,
    ShipmentCreated,
    StockReleased,
    StockReserved,
)
from contracts.orders import OrderResult, OrderStatus, Step
from orchestrator.activities import inventory, payment, shipping
from orchestrator.activities.events import publish_order_event
from orchestrator.workflows.inputs import OrderWorkflowInput
from orchestrator.workflows.policies import STEP_RETRY
from orchestrator.workflows.progress import Progress
from orchestrator.workflows.saga import Compensation, Saga

logger = logging.getLogger(__name__)


class StepFailed(Exception):
    """A step ended the order with a business outcome (not a fault)."""

    def __init__(self, status: OrderStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def order_workflow(ctx: DaprWorkflowContext, raw_input: dict[str, Any]) -> Generator[Any, Any, Any]:
    workflow_input = OrderWorkflowInput.model_validate(raw_input)
    order = workflow_input.order
    progress = Progress(ctx, workflow_input.trace_id)
    saga = Saga()

    def publish(event: dict[str, Any]) -> Any:
        return ctx.call_activity(publish_order_event, input=event, retry_policy=STEP_RETRY)

    def log(message: str, *args: object) -> None:
        if not ctx.is_replaying:
            logger.info(
                message,
                *args,
                extra={"order_id": order.order_id, "trace_id": progress.state.trace_id},
            )

    skus = sorted({line.sku for line in order.items})
    try:
        progress.step(Step.QUOTE)
        quote = Quote.model_validate(
            (
                yield ctx.call_activity(
                    inventory.quote_order,
                    input=QuoteRequest(order_id=order.order_id, items=order.items).model_dump(
                        mode="json"
                    ),
                    retry_policy=STEP_RETRY,
                )
            )
        )
        if not quote.ok or quote.total is None:
            raise StepFailed(OrderStatus.REJECTED, quote.reason or "the order could not be priced")
        progress.set_total(quote.total)
        yield publish(
            OrderAccepted(
                order_id=order.order_id,
                customer_id=order.customer_id,
                lines=quote.lines,
                total=quote.total,
                **progress.event_fields(),
            ).model_dump(mode="json")
        )

        progress.step(Step.RESERVE, f"{len(order.items)} lines")
        release_input = OrderSkus(order_id=order.order_id, skus=skus).model_dump(mode="json")
        saga.push(
            Compensation(
                "release stock",
                inventory.release_stock,
                release_input,
                lambda result: StockReleased(
                    order_id=order.order_id,
                    released=ReleaseResult.model_validate(result).released,
                    **progress.event_fields(OrderStatus.RUNNING),
                ).model_dump(mode="json"),
            )
        )
        reservations = [
            ReserveResult.model_validate(result)
            for result in (
                yield when_all(
                    [
                        ctx.call_activity(
                            inventory.reserve_line,
                            input=ReserveRequest(
                                order_id=order.order_id, sku=line.sku, quantity=line.quantity
                            ).model_dump(mode="json"),
                            retry_policy=STEP_RETRY,
                        )
                        for line in order.items
                    ]
                )
            )
        ]
        short = [r for r in reservations if r.outcome != ReservationOutcome.RESERVED]
        if short:
            reason = "; ".join(
                f"{r.sku}: {r.outcome.value.replace('_', ' ')}"
                + (
                    f" (requested {r.quantity}, available {r.available})"
                    if r.available is not None
                    else ""
                )
                for r in short
            )
            raise StepFailed(OrderStatus.REJECTED, f"stock unavailable: {reason}")
        yield publish(
            StockReserved(
                order_id=order.order_id,
                reserved={r.sku: r.quantity for r in reservations},
                **progress.event_fields(),
            ).model_dump(mode="json")
        )

        progress.step(Step.CHARGE, f"{quote.total} {quote.currency}")
        charge = ChargeResult.model_validate(
            (
                yield ctx.call_activity(
                    payment.charge_payment,
                    input=ChargeRequest(
                        order_id=order.order_id,
                        customer_id=order.customer_id,
                        amount=quote.total,
                        currency=quote.currency,
                        payment_token=order.payment_token,
                    ).model_dump(mode="json"),
                    retry_policy=STEP_RETRY,
                )
            )
        )
        if charge.outcome != ChargeOutcome.CHARGED or charge.charge_id is None:
            raise StepFailed(OrderStatus.COMPENSATED, f"payment declined: {charge.reason}")
        saga.push(
            Compensation(
                "refund payment",
                payment.refund_payment,
                OrderRef(order_id=order.order_id).model_dump(mode="json"),
                lambda result: PaymentRefunded(
                    order_id=order.order_id,
                    amount=RefundResult.model_validate(result).refunded,
                    **progress.event_fields(OrderStatus.RUNNING),
                ).model_dump(mode="json"),
            )
        )
        yield publish(
            PaymentCharged(
                order_id=order.order_id,
                amount=charge.amount,
                charge_id=charge.charge_id,
                **progress.event_fields(),
            ).model_dump(mode="json")
        )

        progress.step(Step.SHIP, order.shipping_address.country)
        shipment = Shipment.model_validate(
            (
                yield ctx.call_activity(
                    shipping.create_shipment,
                    input=CreateShipmentRequest(
                        order_id=order.order_id, address=order.shipping_address, items=order.items
                    ).model_dump(mode="json"),
                    retry_policy=STEP_RETRY,
                )
            )
        )
        if shipment.state == ShipmentState.UNDELIVERABLE or shipment.shipment_id is None:
            raise StepFailed(
                OrderStatus.COMPENSATED, f"shipment failed: {shipment.reason or shipment.state}"
            )
        saga.push(
            Compensation(
                "cancel shipment",
                shipping.cancel_shipment,
                OrderRef(order_id=order.order_id).model_dump(mode="json"),
                lambda _: ShipmentCancelled(
                    order_id=order.order_id, **progress.event_fields(OrderStatus.RUNNING)
                ).model_dump(mode="json"),
            )
        )
        yield publish(
            ShipmentCreated(
                order_id=order.order_id,
                shipment_id=shipment.shipment_id,
                **progress.event_fields(),
            ).model_dump(mode="json")
        )

        yield ctx.call_activity(
            inventory.commit_stock, input=release_input, retry_policy=STEP_RETRY
        )
        progress.step(Step.COMPLETE)
        progress.finish(OrderStatus.COMPLETED)
        yield publish(
            OrderCompleted(
                order_id=order.order_id, total=quote.total, **progress.event_fields()
            ).model_dump(mode="json")
        )
        log("order completed")
        return OrderResult(
            order_id=order.order_id, status=OrderStatus.COMPLETED, total=quote.total
        ).model_dump(mode="json")

    except StepFailed as failure:
        status, reason = failure.status, failure.reason
    except TaskFailedError as fault:
        # A transient fault outlived its retries: undo what was done, and say why.
        status = OrderStatus.COMPENSATED
        reason = f"{progress.state.step} failed after retries: {fault}"

    log("order ending %s: %s", status.value, reason)
    if saga.pending:
        progress.step(Step.COMPENSATE, ", ".join(saga.pending))
        yield from saga.compensate(ctx, publish)
    progress.finish(status, reason)
    final = OrderRejected if status == OrderStatus.REJECTED else OrderCompensated
    yield publish(
        final(order_id=order.order_id, reason=reason, **progress.event_fields()).model_dump(
            mode="json"
        )
    )
    return OrderResult(
        order_id=order.order_id, status=status, total=progress.state.total, failure_reason=reason
    ).model_dump(mode="json")
