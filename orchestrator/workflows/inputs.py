"""Inputs and outputs of the orchestrator's workflows (internal to the orchestrator).

Settings that shape an order's path travel in its input, because workflow code must not
read the environment: a replay would see today's values, not the ones the order began with.
"""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from contracts.orders import Money, OrderRequest


class OrderPolicy(BaseModel):
    approval_threshold: Money = Decimal("1000.00")
    approval_timeout_s: float = 24 * 3600
    # At or above it the payment is screened for fraud before the charge (patches.FRAUD_CHECK).
    # Orders that started before the field existed read this default: their path is decided
    # by the patch, not by it.
    fraud_check_threshold: Money = Decimal("500.00")
    delivery_deadline_s: float = 600
    monitor_poll_s: float = 1.0


class OrderWorkflowInput(BaseModel):
    order: OrderRequest
    trace_id: str | None = None
    policy: OrderPolicy = OrderPolicy()


class MonitorInput(BaseModel):
    order_id: str
    customer_id: str
    shipment_id: str
    deadline: datetime
    poll_s: float
    next_sequence: int
    trace_id: str | None = None
    shipped_announced: bool = False
    polls: int = 0  # generations so far; each look continues as new with a fresh history
    look_at: datetime | None = None  # when to look at the shipment next (None: now)


class MonitorResult(BaseModel):
    delivered: bool
    next_sequence: int
    state: str
    polls: int = 0


class BulkWorkflowInput(BaseModel):
    bulk_id: str
    orders: list[OrderRequest]
    policy: OrderPolicy = OrderPolicy()
    concurrency: int = 5
    trace_id: str | None = None


class BulkProgress(BaseModel):
    total: int
    finished: int
    running: int
    max_running: int
