"""Order use cases shared by the intake subscription and the HTTP API."""

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from dapr.ext.workflow import DaprWorkflowClient, WorkflowState, WorkflowStatus

from contracts.api import OrderView
from contracts.bulk import BulkOrderRequest
from contracts.commands import Catalog, Method
from contracts.orders import OrderProgress, OrderRequest, OrderResult, OrderStatus
from orchestrator import instances
from orchestrator.activities.invoke import invoke
from orchestrator.readmodel import ReadModel
from orchestrator.workflow_api import WorkflowAlreadyExists, start_workflow
from orchestrator.workflows.inputs import BulkWorkflowInput, OrderPolicy, OrderWorkflowInput

logger = logging.getLogger(__name__)
ORDER_WORKFLOW = "order_workflow"


def get_state(workflows: DaprWorkflowClient, order_id: str) -> WorkflowState | None:
    # Dapr 1.18 can answer a read that races a workflow's own save with a transient
    # "missing from state store" error; a second read sees the saved state.
    for attempt in range(5):
        try:
            return workflows.get_workflow_state(instances.current(order_id), fetch_payloads=True)
        except Exception as error:  # the SDK raises bare gRPC errors
            text = str(error)
            if "not found" in text.lower() or "NOT_FOUND" in text:
                return None
            if "transient" not in text or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


def start_order(
    workflows: DaprWorkflowClient,
    order: OrderRequest,
    trace_id: str | None,
    policy: OrderPolicy,
    read_model: ReadModel,
) -> bool:
    """Starts the order's workflow and lists it as started; False when one already exists
    for this order id."""
    if get_state(workflows, order.order_id) is not None:
        return False
    workflow_input = OrderWorkflowInput(order=order, trace_id=trace_id, policy=policy)
    raw_input = workflow_input.model_dump(mode="json")
    try:
        start_workflow(ORDER_WORKFLOW, order.order_id, raw_input)
    except WorkflowAlreadyExists:  # a concurrent duplicate lost the race to create
        return False
    read_model.keep_input(order.order_id, json.dumps(raw_input))
    read_model.note_started(order.order_id, order.customer_id, trace_id, datetime.now(UTC))
    logger.info("order workflow started", extra={"order_id": order.order_id, "trace_id": trace_id})
    return True


_FAILED_STATES = {WorkflowStatus.FAILED, WorkflowStatus.TERMINATED}


def order_view(workflows: DaprWorkflowClient, order_id: str) -> OrderView | None:
    state = get_state(workflows, order_id)
    if state is None:
        return None
    progress = (
        OrderProgress.model_validate_json(state.serialized_custom_status)
        if state.serialized_custom_status
        else OrderProgress(status=OrderStatus.PENDING)
    )
    ordered = (
        OrderWorkflowInput.model_validate_json(state.serialized_input).order
        if state.serialized_input
        else None
    )
    view = OrderView(
        order_id=order_id,
        customer_id=ordered.customer_id if ordered else None,
        status=progress.status,
        step=progress.step,
        history=progress.history,
        failure_reason=progress.failure_reason,
        trace_id=progress.trace_id,
        total=progress.total,
        created_at=state.created_at,
        updated_at=state.last_updated_at,
    )
    if state.runtime_status == WorkflowStatus.PENDING:
        view.status = OrderStatus.PENDING
    elif state.runtime_status == WorkflowStatus.COMPLETED and state.serialized_output:
        result = OrderResult.model_validate_json(state.serialized_output)
        view.status, view.failure_reason = result.status, result.failure_reason
        view.total = result.total if result.total is not None else view.total
    elif state.runtime_status in _FAILED_STATES:
        view.status = OrderStatus.FAILED
        details = state.failure_details
        view.failure_reason = details.message if details else state.runtime_status.name.lower()
    return view


class SkuCatalog:
    """Known SKUs for intake validation, refreshed from inventory whenever a SKU is missing.

    Concurrent misses share one refresh, but only one that began after the miss was seen,
    so a SKU added just before its first order is never reported unknown.
    """

    def __init__(self, fetch: Callable[[], set[str]]) -> None:
        self._fetch = fetch
        self._known: set[str] = set()
        self._refresh_began = -1.0
        self._lock = threading.Lock()

    def unknown(self, skus: list[str]) -> list[str]:
        missing = [sku for sku in skus if sku not in self._known]
        if missing:
            seen_at = time.monotonic()
            with self._lock:
                if self._refresh_began < seen_at:
                    began = time.monotonic()
                    self._known = self._fetch()
                    self._refresh_began = began
            missing = [sku for sku in skus if sku not in self._known]
        return missing


def fetch_catalog_skus() -> set[str]:
    catalog = Catalog.model_validate(invoke("inventory", Method.CATALOG, {}))
    return {item.sku for item in catalog.items}


BULK_WORKFLOW = "bulk_orders"


def start_bulk(
    workflows: DaprWorkflowClient,
    bulk: BulkOrderRequest,
    trace_id: str | None,
    policy: OrderPolicy,
    concurrency: int,
) -> bool:
    """Starts the bulk's parent workflow; False when this bulk id already exists."""
    if get_state(workflows, bulk.bulk_id) is not None:
        return False
    workflow_input = BulkWorkflowInput(
        bulk_id=bulk.bulk_id,
        orders=bulk.orders,
        policy=policy,
        concurrency=concurrency,
        trace_id=trace_id,
    )
    try:
        start_workflow(BULK_WORKFLOW, bulk.bulk_id, workflow_input.model_dump(mode="json"))
    except WorkflowAlreadyExists:  # a concurrent duplicate lost the race to create
        return False
    logger.info("bulk of %d orders started", len(bulk.orders), extra={"order_id": bulk.bulk_id})
    return True
