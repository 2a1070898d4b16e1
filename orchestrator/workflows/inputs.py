"""Inputs of the orchestrator's workflows (internal to the orchestrator)."""

from pydantic import BaseModel

from contracts.orders import OrderRequest


class OrderWorkflowInput(BaseModel):
    order: OrderRequest
    trace_id: str | None = None
