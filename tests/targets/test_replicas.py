"""What more than one replica of every app must keep: one answer whichever replica is
asked, and no order lost or charged twice when one replica and its sidecar die."""

from decimal import Decimal

import pytest

from contracts.topics import ORDER_REQUESTS
from tests.e2e.fleet_client import api_sku, order, publish, wait_for
from tests.targets.base import Target
from tests.targets.test_deployment import _final, _get, _net


@pytest.fixture
def replicated(target: Target) -> Target:
    if target.replicas < 2:
        pytest.skip(f"{target.name} runs one replica of each app")
    return target


def test_every_replica_answers_the_same_for_an_order_and_the_lists(replicated: Target) -> None:
    sku = api_sku(stock=5)
    payload = order(sku=sku)
    publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
    order_id = str(payload["order_id"])
    assert _final(replicated, order_id)["status"] == "COMPLETED"

    def same_everywhere() -> list[tuple[object, ...]] | None:
        answers: list[tuple[object, ...]] = []
        for api in replicated.api_urls:
            view = _get(api, f"/orders/{order_id}")
            listed = _get(api, "/orders?status=COMPLETED&limit=1000")
            payments = _get(api, f"/orders/{order_id}/payments")
            if view is None or listed is None or payments is None:
                return None
            ids = sorted(o["order_id"] for o in listed["orders"])
            if order_id not in ids:
                return None  # the projection is eventually consistent: poll
            answers.append((view["status"], view["total"], ids, payments["net"]))
        return answers if all(a == answers[0] for a in answers) else None

    answers = wait_for(same_everywhere, timeout=60, what="every replica to agree")
    assert len(answers) == replicated.replicas


def test_orders_complete_once_when_an_orchestrator_replica_and_its_sidecar_die(
    replicated: Target,
) -> None:
    sku = api_sku(stock=30)
    placed = []
    for burst in range(3):
        batch = [order(sku=sku) for _ in range(8)]
        for payload in batch:
            publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
        placed += [str(p["order_id"]) for p in batch]
        if burst == 0:  # mid-burst: the other replica takes its workflows over
            replicated.crash("orchestrator", replica=1)
            replicated.crash("orchestrator", sidecar=True, replica=1)
    for order_id in placed:
        assert _final(replicated, order_id, timeout=420)["status"] == "COMPLETED", order_id
        assert _net(replicated, order_id) == Decimal("12.50")
