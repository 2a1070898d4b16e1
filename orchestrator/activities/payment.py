"""Payment activities. The order id is the payment's idempotency key, so retries are safe;
the screening reads and writes nothing, so it is safe to repeat as it is."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import ChargeRequest, Method, OrderRef, ScreenRequest
from orchestrator.activities.invoke import invoke_async

APP_ID = "payment"


async def screen_payment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.SCREEN, ScreenRequest.model_validate(request))


async def charge_payment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.CHARGE, ChargeRequest.model_validate(request))


async def refund_payment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.REFUND, OrderRef.model_validate(request))
