"""Builders for what workflows publish: order events and customer notifications."""

from datetime import datetime
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext

from contracts.notifications import Notification, NotificationKind, notification_id
from contracts.orders import OrderStatus
from orchestrator.activities.events import publish_notification, publish_order_event
from orchestrator.workflows.policies import STEP_RETRY


def event_fields(
    at: datetime, sequence: int, status: OrderStatus, trace_id: str | None
) -> dict[str, Any]:
    return {"sequence": sequence, "occurred_at": at, "status": status, "trace_id": trace_id}


def publish_event(ctx: DaprWorkflowContext, event: dict[str, Any]) -> Any:
    return ctx.call_activity(publish_order_event, input=event, retry_policy=STEP_RETRY)


def notify(
    ctx: DaprWorkflowContext,
    *,
    order_id: str,
    customer_id: str,
    kind: NotificationKind,
    message: str,
) -> Any:
    notification = Notification(
        notification_id=notification_id(order_id, kind),
        customer_id=customer_id,
        order_id=order_id,
        kind=kind,
        message=message,
        occurred_at=ctx.current_utc_datetime,
    )
    return ctx.call_activity(
        publish_notification, input=notification.model_dump(mode="json"), retry_policy=STEP_RETRY
    )
