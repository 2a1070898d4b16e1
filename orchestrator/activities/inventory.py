"""Inventory activities: thin calls into the inventory app, idempotent there per order."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import Method, OrderSkus, QuoteRequest, ReserveRequest
from orchestrator.activities.invoke import invoke_async

APP_ID = "inventory"


async def quote_order(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.QUOTE, QuoteRequest.model_validate(request))


async def reserve_line(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.RESERVE, ReserveRequest.model_validate(request))


async def release_stock(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.RELEASE, OrderSkus.model_validate(request))


async def commit_stock(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return await invoke_async(APP_ID, Method.COMMIT, OrderSkus.model_validate(request))
