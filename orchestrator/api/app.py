"""The public HTTP API. Endpoints are thin: validate, then call a use case or a service."""

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from dapr.ext.workflow import WorkflowStatus
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind

from contracts.api import (
    BulkPlaced,
    BulkProgressView,
    BulkView,
    CatalogItemSet,
    OrderList,
    OrderPlaced,
    OrderView,
    PaymentsView,
)
from contracts.approvals import (
    APPROVAL_DECISION_TYPE,
    CANCEL_EVENT,
    ApprovalDecision,
    ApprovalRequest,
    CancelRequest,
)
from contracts.bulk import BulkOrderRequest, BulkResult
from contracts.commands import (
    Catalog,
    CatalogItem,
    Ledger,
    Method,
    OrderRef,
    SkuRef,
    UpsertItem,
)
from contracts.diagnostics import DOCTOR_WORKFLOW, DoctorReport, Probe
from contracts.notifications import HISTORY_METHOD, CustomerRef, NotificationHistory
from contracts.orders import TERMINAL_STATUSES, OrderRequest, OrderStatus, Step
from contracts.roles import Role
from contracts.topics import ORDER_APPROVALS, PUBSUB, STRUCTURED_MODE_METADATA
from observability.tracing import context_from, current_trace_id, span
from orchestrator.activities.invoke import invoke
from orchestrator.api.order_events import order_events_router
from orchestrator.auth import Principal, TokenVerifier, role_guard
from orchestrator.console import install_console
from orchestrator.deps import Deps
from orchestrator.guards import MAX_API_BODY_BYTES, limit_body_size
from orchestrator.http_telemetry import TELEMETRY
from orchestrator.orders import get_state, order_view, start_bulk, start_order
from orchestrator.workflow_api import raise_event

DOCTOR_TIMEOUT_S = 60
# While the shipment is being created a cancel still wins (it cancels that shipment too).
SHIPPED_STEPS = {Step.DELIVER, Step.COMPLETE}


def _unknown_sku_errors(
    order: OrderRequest, unknown: list[str], at: tuple[str | int, ...] = ("body",)
) -> list[dict[str, Any]]:
    return [
        {
            "type": "unknown_sku",
            "loc": (*at, "items", index, "sku"),
            "msg": f"unknown SKU {line.sku}",
            "input": line.sku,
        }
        for index, line in enumerate(order.items)
        if line.sku in unknown
    ]


# The watchdog heals a broken sidecar count within a minute or two (worker_watchdog.py);
# still unseen after this long, the app itself is restarted by the liveness probe.
STALLED_FOR_GOOD_S = 300.0


def _own_customer(principal: Principal, customer_id: str | None) -> None:
    """A client acts for one customer: its token's subject."""
    if not principal.may(Role.OPERATOR) and customer_id != principal.subject:
        raise HTTPException(403, f"a client token may act for customer {principal.subject} only")


def _visible(principal: Principal, customer_id: str | None) -> bool:
    return principal.may(Role.OPERATOR) or customer_id == principal.subject


def build_api(deps: Deps, verifier: TokenVerifier) -> FastAPI:
    api = FastAPI(
        title="Order fleet",
        description="Durable, event-driven order processing on Dapr workflows.",
        version="0.1.0",
        telemetry=TELEMETRY,
    )
    limit_body_size(api, MAX_API_BODY_BYTES)
    needs = role_guard(verifier)
    client, operator, admin = needs(Role.CLIENT), needs(Role.OPERATOR), needs(Role.ADMIN)

    @api.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        ready = deps.is_ready()
        body = {"ready": ready, "workflow_worker": deps.worker_status()}
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/livez", tags=["operations"])
    def livez() -> JSONResponse:
        """Alive unless the workflow worker has gone unseen by its sidecar for longer than
        the watchdog's healing takes: a liveness probe then restarts the app."""
        status = deps.worker_status()
        unseen = float(str(status.get("unseen_by_sidecar_s", 0.0)))
        alive = unseen < STALLED_FOR_GOOD_S
        return JSONResponse({"alive": alive, "workflow_worker": status}, 200 if alive else 503)

    @api.post("/orders", status_code=202, tags=["orders"])
    def place_order(
        order: OrderRequest, request: Request, who: Principal = Depends(client)
    ) -> OrderPlaced:
        """Starts the order's workflow (idempotent per order id). Prices come from the catalog."""
        _own_customer(who, order.customer_id)
        unknown = deps.catalog.unknown([line.sku for line in order.items])
        if unknown:
            raise RequestValidationError(_unknown_sku_errors(order, unknown))
        with span(
            "place order",
            parent=context_from(request.headers),
            kind=SpanKind.SERVER,
            order_id=order.order_id,
        ):
            started = start_order(
                deps.workflows(), order, current_trace_id(), deps.policy, deps.read_model
            )
        return OrderPlaced(
            order_id=order.order_id,
            status_url=f"/orders/{order.order_id}",
            duplicate=not started,
        )

    @api.get("/orders/{order_id}", tags=["orders"])
    def get_order(order_id: str, who: Principal = Depends(client)) -> OrderView:
        view = order_view(deps.workflows(), order_id)
        # Another customer's order is not there, as far as a client can tell.
        if view is None or not _visible(who, view.customer_id):
            raise HTTPException(404, f"no order {order_id}")
        return view

    @api.get("/orders", tags=["orders"])
    def list_orders(
        status: OrderStatus | None = None,
        limit: int = Query(100, ge=1, le=1000),
        who: Principal = Depends(client),
    ) -> OrderList:
        """From the read model projected from `order-events` (eventually consistent); a
        client sees its own orders only."""
        customer = None if who.may(Role.OPERATOR) else who.subject
        rows = deps.read_model.list(status.value if status else None, limit, customer=customer)
        return OrderList(orders=rows)

    @api.get("/orders/{order_id}/payments", tags=["orders"])
    def get_payments(order_id: str, who: Principal = Depends(client)) -> PaymentsView:
        if not who.may(Role.OPERATOR):
            view = order_view(deps.workflows(), order_id)
            if view is None or not _visible(who, view.customer_id):
                raise HTTPException(404, f"no order {order_id}")
        ledger = Ledger.model_validate(
            invoke("payment", Method.LEDGER, OrderRef(order_id=order_id))
        )
        return PaymentsView(order_id=order_id, entries=ledger.entries, net=ledger.net)

    @api.get("/catalog", tags=["catalog"], dependencies=[Depends(client)])
    def get_catalog() -> Catalog:
        return Catalog.model_validate(invoke("inventory", Method.CATALOG, {}))

    @api.get("/catalog/{sku}", tags=["catalog"], dependencies=[Depends(client)])
    def get_catalog_item(sku: str) -> CatalogItem:
        try:
            ref = SkuRef(sku=sku)
        except ValueError as error:
            raise HTTPException(422, f"invalid SKU {sku!r}") from error
        if deps.catalog.unknown([ref.sku]):
            raise HTTPException(404, f"no SKU {sku}")
        return CatalogItem.model_validate(invoke("inventory", Method.CATALOG_ITEM, ref))

    @api.put("/catalog/{sku}", tags=["catalog"], dependencies=[Depends(operator)])
    def set_catalog_item(sku: str, item: CatalogItemSet) -> CatalogItem:
        """Creates or overwrites one item: restocking, or a SKU of one's own for a test."""
        try:
            upsert = UpsertItem(sku=sku, **item.model_dump())
        except ValueError as error:
            raise HTTPException(422, f"invalid SKU {sku!r}") from error
        return CatalogItem.model_validate(invoke("inventory", Method.UPSERT_ITEM, upsert))

    @api.post("/orders/bulk", status_code=202, tags=["orders"])
    def place_bulk(bulk: BulkOrderRequest, who: Principal = Depends(client)) -> BulkPlaced:
        """Runs every order as a child workflow, at most BULK_CONCURRENCY at a time."""
        for order in bulk.orders:
            _own_customer(who, order.customer_id)
        skus = sorted({line.sku for order in bulk.orders for line in order.items})
        unknown = deps.catalog.unknown(skus)
        if unknown:
            raise RequestValidationError(
                [
                    error
                    for o, order in enumerate(bulk.orders)
                    for error in _unknown_sku_errors(order, unknown, ("body", "orders", o))
                ]
            )
        with span("place bulk", kind=SpanKind.SERVER, order_id=bulk.bulk_id):
            started = start_bulk(
                deps.workflows(), bulk, current_trace_id(), deps.policy, deps.bulk_concurrency
            )
        return BulkPlaced(
            bulk_id=bulk.bulk_id, status_url=f"/orders/bulk/{bulk.bulk_id}", duplicate=not started
        )

    @api.get("/orders/bulk/{bulk_id}", tags=["orders"], dependencies=[Depends(operator)])
    def get_bulk(bulk_id: str) -> BulkView:
        state = get_state(deps.workflows(), bulk_id)
        if state is None:
            raise HTTPException(404, f"no bulk {bulk_id}")
        progress = (
            BulkProgressView.model_validate_json(state.serialized_custom_status)
            if state.serialized_custom_status
            else None
        )
        result = (
            BulkResult.model_validate_json(state.serialized_output)
            if state.runtime_status == WorkflowStatus.COMPLETED and state.serialized_output
            else None
        )
        return BulkView(
            bulk_id=bulk_id,
            runtime_status=state.runtime_status.name,
            progress=progress,
            results=result.results if result else None,
        )

    @api.post("/orders/{order_id}/approval", status_code=202, tags=["approvals"])
    def decide(
        order_id: str, request: ApprovalRequest, who: Principal = Depends(operator)
    ) -> dict[str, str]:
        """Publishes the decision to `order-approvals`, where the orchestrator acts on it.
        The approver it names is the signed-in identity."""
        decision = ApprovalDecision(order_id=order_id, approver=who.subject, **request.model_dump())
        deps.dapr().publish_event(
            PUBSUB,
            ORDER_APPROVALS,
            data=decision.model_dump_json(),
            data_content_type="application/json",
            publish_metadata={
                **STRUCTURED_MODE_METADATA,
                "cloudevent.type": APPROVAL_DECISION_TYPE,
                "partitionKey": order_id,
            },
        )
        return {"order_id": order_id, "published_to": ORDER_APPROVALS, "approver": who.subject}

    @api.post(
        "/orders/{order_id}/cancel",
        status_code=202,
        tags=["orders"],
        dependencies=[Depends(operator)],
    )
    def cancel(order_id: str, request: CancelRequest | None = None) -> dict[str, str]:
        """Cancels through the saga's compensations; refused once the order has shipped."""
        view = order_view(deps.workflows(), order_id)
        if view is None:
            raise HTTPException(404, f"no order {order_id}")
        if view.status.is_terminal:
            raise HTTPException(409, f"order already finished ({view.status.value})")
        if view.step in SHIPPED_STEPS:
            raise HTTPException(409, "order already shipped; it can no longer be cancelled")
        reason = (request or CancelRequest()).reason
        raise_event(order_id, CANCEL_EVENT, {"reason": reason})
        return {"order_id": order_id, "status": "cancel requested"}

    @api.get("/customers/{customer_id}/notifications", tags=["customers"])
    def customer_notifications(
        customer_id: str, who: Principal = Depends(client)
    ) -> NotificationHistory:
        _own_customer(who, customer_id)
        ref = CustomerRef(customer_id=customer_id)
        return NotificationHistory.model_validate(invoke("notifications", HISTORY_METHOD, ref))

    @api.delete("/orders", tags=["operations"], dependencies=[Depends(admin)])
    def purge(older_than_s: float = Query(gt=0)) -> dict[str, Any]:
        """Purges the workflow state of orders that finished more than `older_than_s` ago."""
        cutoff = (datetime.now(UTC) - timedelta(seconds=older_than_s)).isoformat()
        finished = deps.read_model.finished_before(cutoff, [s.value for s in TERMINAL_STATUSES])
        purged, failed = [], []
        for order_id in finished:
            try:
                if deps.workflows().purge_workflow(order_id, recursive=True) is not False:
                    purged.append(order_id)
            except grpc.RpcError as error:
                # One instance the engine cannot purge now must not keep the rest: it is
                # reported, stays listed, and the next purge tries it again.
                logging.getLogger(__name__).warning(
                    "could not purge %s: %s %s",
                    order_id,
                    error.code(),
                    error.details(),
                    extra={"order_id": order_id},
                )
                failed.append(order_id)
        deps.read_model.forget(purged)
        return {"purged": len(purged), "order_ids": purged, "failed": failed}

    @api.get("/me", tags=["operations"])
    def me(who: Principal = Depends(client)) -> dict[str, str]:
        """Who the token signs in as, and with which role (the console shows it)."""
        return {"subject": who.subject, "role": who.role.value}

    @api.post("/diagnostics/doctor", tags=["operations"], dependencies=[Depends(operator)])
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

    @api.exception_handler(grpc.RpcError)
    async def sidecar_unavailable(request: Any, error: grpc.RpcError) -> JSONResponse:
        # The sidecar or its workflow engine could not take the call now (busy store,
        # restarting): a transient fault. Every write here is idempotent, so say retry.
        import logging

        logging.getLogger(__name__).warning(
            "the sidecar refused %s: %s", request.url.path, error.code()
        )
        return JSONResponse(
            {"detail": "the workflow engine is busy or restarting; retry the same request"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @api.exception_handler(Exception)
    async def internal_error(request: Any, error: Exception) -> JSONResponse:
        # Never leak a stack trace; the log has it with the request path.
        import logging

        logging.getLogger(__name__).exception("unhandled error on %s", request.url.path)
        return JSONResponse(
            {"detail": "internal error", "at": datetime.now(UTC).isoformat()}, status_code=500
        )

    api.include_router(order_events_router(deps.read_model, client))
    install_console(api)  # the operator console at `/`, reading the endpoints above
    return api
