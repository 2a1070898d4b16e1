"""Inventory activities: thin calls into the inventory app, idempotent there per order."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import Method, OrderSkus, QuoteRequest, ReserveRequest
from orchestrator.activities.invoke import invoke

APP_ID = "inventory"


def quote_order(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.QUOTE, QuoteRequest.model_validate(request))


def reserve_line(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.RESERVE, ReserveRequest.model_validate(request))


def release_stock(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.RELEASE, OrderSkus.model_validate(request))


def commit_stock(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.COMMIT, OrderSkus.model_validate(request))
