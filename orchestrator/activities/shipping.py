"""Shipping activities, idempotent per order in the shipping app."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import CreateShipmentRequest, Method, OrderRef
from orchestrator.activities.invoke import invoke_async

APP_ID = "shipping"


async def create_shipment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(
        APP_ID, Method.CREATE_SHIPMENT, CreateShipmentRequest.model_validate(request)
    )


async def cancel_shipment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.CANCEL_SHIPMENT, OrderRef.model_validate(request))


async def shipment_status(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.SHIPMENT_STATUS, OrderRef.model_validate(request))
