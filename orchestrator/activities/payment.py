"""Payment activities. The order id is the payment's idempotency key, so retries are safe."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import ChargeRequest, Method, OrderRef
from orchestrator.activities.invoke import invoke

APP_ID = "payment"


def charge_payment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.CHARGE, ChargeRequest.model_validate(request))


def refund_payment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.REFUND, OrderRef.model_validate(request))
