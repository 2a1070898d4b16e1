"""The shipment monitor: a child workflow polling shipping on durable timers.

It announces `shipped` and `delivered` for its order (continuing the order's event
sequence), and ends when delivered or past its deadline. Each poll continues as new,
so the history stays bounded however long delivery takes.
"""

from collections.abc import Generator
from datetime import timedelta
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, when_any

from contracts.commands import OrderRef, Shipment, ShipmentState
from contracts.events import OrderDelivered, OrderShipped
from contracts.notifications import NotificationKind
from contracts.orders import OrderStatus
from orchestrator.activities.shipping import shipment_status
from orchestrator.workflows.inputs import MonitorInput, MonitorResult
from orchestrator.workflows.outbound import event_fields, notify, publish_event
from orchestrator.workflows.policies import STEP_RETRY

_ON_THE_WAY = {ShipmentState.IN_TRANSIT, ShipmentState.DELIVERED}
NUDGE_EVENT = "nudge"


def monitor_instance_id(order_id: str) -> str:
    return f"{order_id}:monitor"


def shipment_monitor(
    ctx: DaprWorkflowContext, raw_input: dict[str, Any]
) -> Generator[Any, Any, Any]:
    watch = MonitorInput.model_validate(raw_input)
    watch.polls += 1
    shipment = Shipment.model_validate(
        (
            yield ctx.call_activity(
                shipment_status,
                input=OrderRef(order_id=watch.order_id).model_dump(mode="json"),
                retry_policy=STEP_RETRY,
            )
        )
    )

    def announce(
        event_type: Any, kind: NotificationKind, message: str
    ) -> Generator[Any, Any, None]:
        fields = event_fields(
            ctx.current_utc_datetime, watch.next_sequence, OrderStatus.RUNNING, watch.trace_id
        )
        event = event_type(order_id=watch.order_id, shipment_id=watch.shipment_id, **fields)
        yield publish_event(ctx, event.model_dump(mode="json"))
        watch.next_sequence += 1
        yield notify(
            ctx, order_id=watch.order_id, customer_id=watch.customer_id, kind=kind, message=message
        )

    if shipment.state in _ON_THE_WAY and not watch.shipped_announced:
        yield from announce(OrderShipped, NotificationKind.SHIPPED, "Your order is on its way.")
        watch.shipped_announced = True
    if shipment.state == ShipmentState.DELIVERED:
        yield from announce(OrderDelivered, NotificationKind.DELIVERED, "Your order was delivered.")
        return _done(watch, True, shipment.state)
    if ctx.current_utc_datetime >= watch.deadline:
        return _done(watch, False, shipment.state)
    # A nudge also wakes the monitor: a durable timer created while the scheduler dies can
    # be lost, and the orchestrator's sweeper nudges monitors that went quiet (timer_sweeper).
    yield when_any(
        [
            ctx.create_timer(timedelta(seconds=watch.poll_s)),
            ctx.wait_for_external_event(NUDGE_EVENT),
        ]
    )
    ctx.continue_as_new(watch.model_dump(mode="json"))
    return None


def _done(watch: MonitorInput, delivered: bool, state: ShipmentState) -> dict[str, Any]:
    return MonitorResult(
        delivered=delivered, next_sequence=watch.next_sequence, state=state.value, polls=watch.polls
    ).model_dump(mode="json")
