"""Watching a shipment until it is delivered: the order's first looks, then the monitor.

A look happens when shipping says the shipment will next change (`next_update_at`, the
carrier's estimate), or every `poll_s` when shipping gives no estimate; the first look
that finds it on its way announces `shipped` (event and notification in one publish).
The watch ends when the shipment is delivered or the deadline has passed; the order
announces the delivery with its completion.

The order workflow takes its first `INLINE_LOOKS` looks itself (WATCH_IN_ORDER): a usual
delivery is over by then, without a child workflow's start, completion and generations
(each one more scheduler job and state write). A delivery that takes longer goes on in
the shipment monitor, a child workflow that continues as new after each look, so the
history stays bounded however long delivery takes.
"""

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, TaskFailedError, when_any

from contracts.commands import OrderRef, Shipment, ShipmentState
from contracts.events import OrderShipped
from contracts.notifications import NotificationKind
from contracts.orders import OrderStatus
from orchestrator.activities.shipping import shipment_status
from orchestrator.workflows.inputs import MonitorInput, MonitorResult
from orchestrator.workflows.nudges import NUDGE_EVENT, Nudges
from orchestrator.workflows.outbound import Outbox, event_fields
from orchestrator.workflows.patches import NUDGE_EVERY_WAIT
from orchestrator.workflows.policies import STEP_RETRY

_ON_THE_WAY = {ShipmentState.IN_TRANSIT, ShipmentState.DELIVERED}
# Looking a moment after the estimate absorbs clock skew between the apps; a look that
# still comes too early finds the same estimate and waits at least this long again.
LOOK_MARGIN = timedelta(milliseconds=100)
SHORTEST_WAIT = timedelta(milliseconds=250)
# A sandbox order is delivered on its second look (in transit, then delivered); a third
# and fourth absorb a late estimate before the watch moves to the monitor.
INLINE_LOOKS = 4


def monitor_instance_id(order_id: str, attempt: int = 1) -> str:
    """The order's delivery monitor; a later attempt only if an earlier one failed."""
    return f"{order_id}:monitor" if attempt == 1 else f"{order_id}:monitor:{attempt}"


def workflow_time(moment: datetime) -> datetime:
    """As the workflow's clock tells time: naive UTC (`current_utc_datetime` carries no
    zone, and comparing it with an aware time raises)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def next_look(
    now: datetime, estimate: datetime | None, poll_s: float, deadline: datetime
) -> datetime:
    """When to look at the shipment again: just after shipping's estimate, or a poll
    interval from now without one; never past the deadline, never in a tight loop."""
    look_at = estimate + LOOK_MARGIN if estimate is not None else now + timedelta(seconds=poll_s)
    return max(min(look_at, deadline), now + SHORTEST_WAIT)


def watching(raw_input: dict[str, Any]) -> MonitorInput:
    """The watch as the workflow's clock compares times: naive UTC throughout."""
    watch = MonitorInput.model_validate(raw_input)
    watch.deadline = workflow_time(watch.deadline)
    watch.look_at = workflow_time(watch.look_at) if watch.look_at is not None else None
    return watch


def shipment_monitor(
    ctx: DaprWorkflowContext, raw_input: dict[str, Any]
) -> Generator[Any, Any, Any]:
    watch = watching(raw_input)
    nudges = Nudges(ctx) if ctx.is_patched(NUDGE_EVERY_WAIT) else None
    done = yield from look_once(ctx, watch, nudges)
    if done is not None:
        return done
    ctx.continue_as_new(watch.model_dump(mode="json"))
    return None


def look_once(
    ctx: DaprWorkflowContext, watch: MonitorInput, nudges: Nudges | None
) -> Generator[Any, Any, dict[str, Any] | None]:
    """One look at the shipment, when it is due; announces `shipped` once. Returns the
    watch's MonitorResult once it is over (delivered, or the deadline passed), otherwise
    None with `watch.look_at` set to the next look. With `nudges` (NUDGE_EVERY_WAIT), a
    nudge cuts every wait short; the order workflow runs its first looks itself with
    its own (WATCH_IN_ORDER), the monitor each generation with a new one."""
    if nudges is not None:
        reply = yield from _look_nudgeable(ctx, watch, nudges)
    else:
        reply = yield from _look(ctx, watch)
    now = ctx.current_utc_datetime
    if reply is None:
        if now >= watch.deadline:
            return _done(watch, False, "unknown")
        watch.look_at = next_look(now, None, watch.poll_s, watch.deadline)
        return None
    shipment = Shipment.model_validate(reply)
    if shipment.state in _ON_THE_WAY and not watch.shipped_announced:
        yield from _announce_shipped(ctx, watch, nudges)
        now = ctx.current_utc_datetime
    if shipment.state == ShipmentState.DELIVERED:
        return _done(watch, True, shipment.state)
    if now >= watch.deadline:
        return _done(watch, False, shipment.state)
    estimate = shipment.next_update_at
    estimate = workflow_time(estimate) if estimate is not None else None
    watch.look_at = next_look(now, estimate, watch.poll_s, watch.deadline)
    return None


def _look_nudgeable(
    ctx: DaprWorkflowContext, watch: MonitorInput, nudges: Nudges
) -> Generator[Any, Any, Any]:
    """Waits until the look is due, then asks shipping; a nudge (the sweeper's, when a
    timer or an activity's result was lost) cuts either wait short."""
    if watch.look_at is not None and watch.look_at > ctx.current_utc_datetime:
        woken = yield when_any([ctx.create_timer(watch.look_at), nudges.waiter])
        if woken is nudges.waiter:
            nudges.renew()
    watch.polls += 1
    while True:
        status = _status(ctx, watch)
        winner = yield when_any([status, nudges.waiter])
        if winner is status:
            return _answer(status)
        nudges.renew()  # nudged before shipping answered: its answer may be lost; ask again


def _look(ctx: DaprWorkflowContext, watch: MonitorInput) -> Generator[Any, Any, Any]:
    """Before the NUDGE_EVERY_WAIT patch: only the timer wait wakes on a nudge."""
    if watch.look_at is not None and watch.look_at > ctx.current_utc_datetime:
        yield when_any([ctx.create_timer(watch.look_at), ctx.wait_for_external_event(NUDGE_EVENT)])
    watch.polls += 1
    try:
        return (yield _status(ctx, watch))
    except TaskFailedError:
        return None  # as _answer: look again later


def _status(ctx: DaprWorkflowContext, watch: MonitorInput) -> Any:
    return ctx.call_activity(
        shipment_status,
        input=OrderRef(order_id=watch.order_id).model_dump(mode="json"),
        retry_policy=STEP_RETRY,
    )


def _answer(status: Any) -> Any:
    try:
        return status.get_result()
    except TaskFailedError:
        # Shipping did not answer within the retries. The shipment exists and moves on
        # without us: look again later; failing here would unwind a shipped order.
        return None


def _announce_shipped(
    ctx: DaprWorkflowContext, watch: MonitorInput, nudges: Nudges | None
) -> Generator[Any, Any, None]:
    outbox = Outbox(ctx, nudges)
    fields = event_fields(
        ctx.current_utc_datetime, watch.next_sequence, OrderStatus.RUNNING, watch.trace_id
    )
    event = OrderShipped(order_id=watch.order_id, shipment_id=watch.shipment_id, **fields)
    outbox.event(event.model_dump(mode="json"))
    outbox.notify(
        order_id=watch.order_id,
        customer_id=watch.customer_id,
        kind=NotificationKind.SHIPPED,
        message="Your order is on its way.",
    )
    yield from outbox.publish()
    watch.next_sequence += 1
    watch.shipped_announced = True


def _done(watch: MonitorInput, delivered: bool, state: str) -> dict[str, Any]:
    return MonitorResult(
        delivered=delivered, next_sequence=watch.next_sequence, state=state, polls=watch.polls
    ).model_dump(mode="json")
