"""What only Kubernetes does to the fleet: a deleted pod and rolling restarts while orders flow."""

from decimal import Decimal

import pytest

from contracts.topics import ORDER_REQUESTS
from fleet import topology
from tests.e2e.fleet_client import api_sku, order, publish
from tests.targets.base import Target
from tests.targets.k8s import K8sTarget
from tests.targets.test_deployment import _final, _net


@pytest.fixture
def cluster(target: Target) -> K8sTarget:
    if not isinstance(target, K8sTarget):
        pytest.skip(
            f"pod deletion and rollout restarts exist only on Kubernetes; {target.name} has "
            "neither (FLEET_TARGET=k8s runs these)"
        )
    return target


def _burst(sku: str, n: int) -> list[str]:
    batch = [order(sku=sku) for _ in range(n)]
    for payload in batch:
        publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
    return [str(p["order_id"]) for p in batch]


def _all_complete_once(target: Target, placed: list[str]) -> None:
    for order_id in placed:
        assert _final(target, order_id, timeout=600)["status"] == "COMPLETED", order_id
        assert _net(target, order_id) == Decimal("12.50"), f"{order_id}: one net charge"


def test_orders_in_flight_complete_when_the_orchestrator_pod_is_deleted(cluster: K8sTarget) -> None:
    sku = api_sku(stock=30)
    placed = _burst(sku, 10)
    cluster.delete_pod("orchestrator")
    placed += _burst(sku, 10)
    _all_complete_once(cluster, placed)


def test_orders_flow_through_a_rolling_restart_of_every_deployment(cluster: K8sTarget) -> None:
    sku = api_sku(stock=10 * len(topology.APPS) + 10)
    placed = _burst(sku, 5)
    for app in topology.APPS:
        placed += _burst(sku, 5)
        cluster.rollout_restart(app.app_id)
    placed += _burst(sku, 5)
    _all_complete_once(cluster, placed)
