"""Approval decisions on `order-approvals`, and the workflow event they become."""

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from contracts.orders import OrderId

APPROVAL_DECISION_TYPE: Final = "com.orderfleet.order.approval_decided.v1"
APPROVAL_EVENT: Final = "approval_decision"
CANCEL_EVENT: Final = "cancel_request"


class ApprovalDecision(BaseModel):
    """What approvers publish (the `data` of a CloudEvent, or plain JSON)."""

    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    approved: bool
    approver: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class ApprovalRequest(BaseModel):
    """Body of `POST /orders/{id}/approval`. The approver is the signed-in identity, never a
    field of the request (one sent is refused as an extra field)."""

    model_config = ConfigDict(extra="forbid")

    approved: bool
    reason: str | None = Field(default=None, max_length=500)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="cancelled by request", max_length=500)
