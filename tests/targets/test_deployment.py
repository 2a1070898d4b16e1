"""What must hold wherever the fleet is deployed: the sandbox paths and an approval over
Kafka, one trace across the five apps, sidecars that refuse callers without their token,
and orders that finish with one net charge while the orchestrator and a sidecar crash."""

from decimal import Decimal
from typing import Any

import httpx
import pytest

from contracts.approvals import APPROVAL_DECISION_TYPE
from contracts.topics import ORDER_APPROVALS, ORDER_REQUESTS
from fleet import topology
from fleet.trace_view import fetch_trace
from tests.e2e.fleet_client import api_sku, auth, order, publish, wait_for
from tests.targets.base import Target

ALL_APPS = {app.app_id for app in topology.APPS}
FINAL = {"COMPLETED", "REJECTED", "COMPENSATED", "CANCELLED", "FAILED"}


def _get(api: str, path: str) -> dict[str, Any] | None:
    """None while the deployment cannot answer (a replica restarting): callers poll."""
    try:
        response = httpx.get(f"{api}{path}", headers=auth(), timeout=10)
    except httpx.HTTPError:
        return None
    if response.status_code >= 500 or response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _final(target: Target, order_id: str, timeout: float = 240) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        for api in target.api_urls:  # any replica answers for every order
            view = _get(api, f"/orders/{order_id}")
            if view is not None:
                return view if view["status"] in FINAL else None
        return None

    return wait_for(done, timeout=timeout, what=f"order {order_id} to finish on {target.name}")


def _net(target: Target, order_id: str) -> Decimal:
    view = wait_for(
        lambda: _get(target.api_urls[0], f"/orders/{order_id}/payments"),
        timeout=60,
        what=f"the ledger of {order_id}",
    )
    return Decimal(str(view["net"]))


def _place(payload: dict[str, Any]) -> str:
    publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))  # plain kafka-python
    return str(payload["order_id"])


@pytest.mark.parametrize(
    ("token", "country", "quantity", "status", "net"),
    [
        ("tok_visa", "DE", 1, "COMPLETED", "12.50"),
        ("tok_flaky", "DE", 1, "COMPLETED", "12.50"),
        ("tok_decline", "DE", 1, "COMPENSATED", "0.00"),
        ("tok_visa", "ZZ", 1, "COMPENSATED", "0.00"),
        ("tok_visa", "DE", 50, "REJECTED", "0.00"),
    ],
    ids=["pays", "flaky", "declined", "undeliverable", "beyond-stock"],
)
def test_every_sandbox_path_over_kafka_ends_as_documented(
    target: Target, token: str, country: str, quantity: int, status: str, net: str
) -> None:
    sku = api_sku(stock=5)
    order_id = _place(order(sku=sku, quantity=quantity, token=token, country=country))
    assert _final(target, order_id)["status"] == status
    assert _net(target, order_id) == Decimal(net)


def test_an_approval_over_kafka_completes_a_high_value_order(target: Target) -> None:
    sku = api_sku(stock=2, price="1500.00")
    order_id = _place(order(sku=sku))
    wait_for(
        lambda: (
            (v := _get(target.api_urls[0], f"/orders/{order_id}"))
            and v["status"] == "AWAITING_APPROVAL"
        ),
        timeout=120,
        what=f"{order_id} to wait for approval",
    )
    decision = {
        "specversion": "1.0",
        "id": f"{order_id}:approval",
        "source": "tests/targets",
        "type": APPROVAL_DECISION_TYPE,
        "datacontenttype": "application/json",
        "data": {"order_id": order_id, "approved": True, "approver": "ops@example.com"},
    }
    publish(ORDER_APPROVALS, decision, key=order_id)
    assert _final(target, order_id)["status"] == "COMPLETED"
    assert _net(target, order_id) == Decimal("1500.00")


def test_an_order_is_one_connected_trace_across_the_five_apps(target: Target) -> None:
    order_id = _place(order(sku=api_sku(stock=3)))
    view = _final(target, order_id)
    assert view["status"] == "COMPLETED"

    def connected() -> list[dict[str, Any]] | None:
        spans = fetch_trace(view["trace_id"])
        services = {span.get("localEndpoint", {}).get("serviceName") for span in spans}
        ids = {span["id"] for span in spans}
        orphans = [s for s in spans if s.get("parentId") and s["parentId"] not in ids]
        return spans if services >= ALL_APPS and not orphans else None

    spans = wait_for(connected, timeout=60, what=f"the trace of {order_id} to settle")
    assert [s["name"] for s in spans if not s.get("parentId")] == ["intake order"]


@pytest.mark.parametrize("app_id", sorted(ALL_APPS))
def test_a_sidecar_refuses_a_caller_without_its_api_token(target: Target, app_id: str) -> None:
    assert target.sidecar_status(app_id, with_token=False) == 401
    assert target.sidecar_status(app_id, with_token=True) == 200


def test_orders_in_flight_survive_an_orchestrator_crash_then_a_service_sidecar_crash(
    target: Target,
) -> None:
    sku = api_sku(stock=40)
    placed = [_place(order(sku=sku)) for _ in range(10)]
    target.crash("orchestrator")  # mid-flight: the platform restarts it, nobody else
    placed += [_place(order(sku=sku)) for _ in range(10)]
    target.crash("payment", sidecar=True)
    placed += [_place(order(sku=sku)) for _ in range(5)]
    for order_id in placed:
        assert _final(target, order_id, timeout=420)["status"] == "COMPLETED", order_id
        assert _net(target, order_id) == Decimal("12.50"), f"{order_id}: one net charge"
