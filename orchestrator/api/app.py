"""The public HTTP API. Endpoints are thin: validate, then call a use case or a service."""

import uuid
from datetime import UTC, datetime
from typing import Any

from dapr.ext.workflow import WorkflowStatus
from fastapi import FastAPI, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from contracts.api import OrderList, OrderPlaced, OrderSummaryView, OrderView, PaymentsView
from contracts.commands import Catalog, CatalogItem, Ledger, Method, OrderRef, SkuRef
from contracts.diagnostics import DOCTOR_WORKFLOW, DoctorReport, Probe
from contracts.orders import OrderRequest, OrderStatus
from orchestrator.activities.invoke import invoke
from orchestrator.deps import Deps
from orchestrator.orders import order_view, start_order

DOCTOR_TIMEOUT_S = 60


def _unknown_sku_error(order: OrderRequest, unknown: list[str]) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "unknown_sku",
                "loc": ("body", "items", index, "sku"),
                "msg": f"unknown SKU {line.sku}",
                "input": line.sku,
            }
            for index, line in enumerate(order.items)
            if line.sku in unknown
        ]
    )


def build_api(deps: Deps) -> FastAPI:
    api = FastAPI(
        title="Order fleet",
        description="Durable, event-driven order processing on Dapr workflows.",
        version="0.1.0",
    )

    @api.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        ready = deps.is_ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @api.post("/orders", status_code=202, tags=["orders"])
    def place_order(order: OrderRequest) -> OrderPlaced:
        """Starts the order's workflow (idempotent per order id). Prices come from the catalog."""
        unknown = deps.catalog.unknown([line.sku for line in order.items])
        if unknown:
            raise _unknown_sku_error(order, unknown)
        started = start_order(deps.workflows(), order, trace_id=None)
        return OrderPlaced(
            order_id=order.order_id,
            status_url=f"/orders/{order.order_id}",
            duplicate=not started,
        )

    @api.get("/orders/{order_id}", tags=["orders"])
    def get_order(order_id: str) -> OrderView:
        view = order_view(deps.workflows(), order_id)
        if view is None:
            raise HTTPException(404, f"no order {order_id}")
        return view

    @api.get("/orders", tags=["orders"])
    def list_orders(
        status: OrderStatus | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> OrderList:
        """From the read model projected from `order-events` (eventually consistent)."""
        rows = deps.read_model.list(status.value if status else None, limit)
        return OrderList(orders=[OrderSummaryView(**vars(row)) for row in rows])

    @api.get("/orders/{order_id}/payments", tags=["orders"])
    def get_payments(order_id: str) -> PaymentsView:
        ledger = Ledger.model_validate(
            invoke("payment", Method.LEDGER, OrderRef(order_id=order_id))
        )
        return PaymentsView(order_id=order_id, entries=ledger.entries, net=ledger.net)

    @api.get("/catalog", tags=["catalog"])
    def get_catalog() -> Catalog:
        return Catalog.model_validate(invoke("inventory", Method.CATALOG, {}))

    @api.get("/catalog/{sku}", tags=["catalog"])
    def get_catalog_item(sku: str) -> CatalogItem:
        try:
            ref = SkuRef(sku=sku)
        except ValueError as error:
            raise HTTPException(422, f"invalid SKU {sku!r}") from error
        if deps.catalog.unknown([ref.sku]):
            raise HTTPException(404, f"no SKU {sku}")
        return CatalogItem.model_validate(invoke("inventory", Method.CATALOG_ITEM, ref))

    @api.post("/diagnostics/doctor", tags=["operations"])
    def doctor() -> DoctorReport:
        """Runs the diagnostic workflow through every hop and reports each one."""
        probe = Probe(probe_id=f"doctor-{uuid.uuid4().hex[:12]}")
        client = deps.workflows()
        client.schedule_new_workflow(
            DOCTOR_WORKFLOW, input=probe.model_dump(), instance_id=probe.probe_id
        )
        state = client.wait_for_workflow_completion(
            probe.probe_id, timeout_in_seconds=DOCTOR_TIMEOUT_S
        )
        if state is None or state.runtime_status != WorkflowStatus.COMPLETED:
            status = state.runtime_status.name if state else "NOT FOUND"
            failure = state.failure_details.message if state and state.failure_details else ""
            raise HTTPException(503, f"diagnostic workflow ended {status} {failure}".strip())
        return DoctorReport.model_validate_json(state.serialized_output or "{}")

    @api.exception_handler(Exception)
    async def internal_error(request: Any, error: Exception) -> JSONResponse:
        # Never leak a stack trace; the log has it with the request path.
        import logging

        logging.getLogger(__name__).exception("unhandled error on %s", request.url.path)
        return JSONResponse(
            {"detail": "internal error", "at": datetime.now(UTC).isoformat()}, status_code=500
        )

    return api
