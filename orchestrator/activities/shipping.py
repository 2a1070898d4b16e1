"""Shipping activities, idempotent per order in the shipping app."""

from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.commands import CreateShipmentRequest, Method, OrderRef
from orchestrator.activities.invoke import invoke

APP_ID = "shipping"


def create_shipment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.CREATE_SHIPMENT, CreateShipmentRequest.model_validate(request))


def cancel_shipment(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.CANCEL_SHIPMENT, OrderRef.model_validate(request))


def shipment_status(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    return invoke(APP_ID, Method.SHIPMENT_STATUS, OrderRef.model_validate(request))
