"""Approval decisions from `order-approvals`: validate, match to a waiting order, deliver.

The workflow event is raised only for a known, unfinished order that needs approval and
has not been decided yet; anything else is dead-lettered with the reason. A decision that
arrives before the workflow reaches its wait is buffered by the workflow engine.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from dapr.ext.workflow import DaprWorkflowClient
from pydantic import ValidationError

from contracts.approvals import APPROVAL_EVENT, ApprovalDecision
from orchestrator import intake
from orchestrator.orders import order_view
from orchestrator.readmodel import ReadModel
from orchestrator.workflow_api import raise_event
from orchestrator.workflows.inputs import OrderPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    decision: ApprovalDecision


def _reject(
    topic: str, raw: bytes, reason: str, now: datetime, order_id: str | None
) -> intake.Rejected:
    return intake.Rejected(intake.dead_letter_record(topic, raw, reason, now, order_id=order_id))


def handle_decision(
    raw: bytes,
    *,
    event_id: str,
    topic: str,
    now: datetime,
    workflows: DaprWorkflowClient,
    read_model: ReadModel,
    policy: OrderPolicy,
) -> Delivered | intake.Rejected:
    parsed = intake.parse(raw, topic=topic, now=now)
    if isinstance(parsed, intake.Rejected):
        return parsed
    _, payload, _ = parsed
    try:
        decision = ApprovalDecision.model_validate(payload)
    except ValidationError as error:
        record = intake.dead_letter_record(
            topic, raw, "invalid approval decision", now, intake.field_errors(error)
        )
        return intake.Rejected(record)
    order_id = decision.order_id
    view = order_view(workflows, order_id)
    if view is None:
        return _reject(topic, raw, f"unknown order {order_id}", now, order_id)
    if view.status.is_terminal:
        return _reject(topic, raw, f"order already finished ({view.status.value})", now, order_id)
    if view.total is not None and view.total < policy.approval_threshold:
        return _reject(topic, raw, "order does not require approval", now, order_id)
    first = read_model.record_decision(order_id, event_id, decision.approved)
    if not first:
        return _reject(topic, raw, "order already decided", now, order_id)
    raise_event(order_id, APPROVAL_EVENT, decision.model_dump(mode="json"))
    logger.info(
        "approval decision delivered: %s by %s",
        "approved" if decision.approved else "rejected",
        decision.approver,
        extra={"order_id": order_id},
    )
    return Delivered(decision)
