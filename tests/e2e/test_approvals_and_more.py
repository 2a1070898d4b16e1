"""Approvals, notifications, delivery monitoring, bulk orders and cancel, on the real fleet."""

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from contracts.approvals import APPROVAL_DECISION_TYPE
from contracts.roles import Role
from contracts.topics import NOTIFICATIONS, ORDER_APPROVALS, ORDER_REQUESTS
from fleet import topology
from fleet.paths import log_dir
from fleet.runner.specs import ProcessSpec
from tests.e2e.conftest_processes import paused, restarted_with_env
from tests.e2e.fleet_client import (
    TopicLog,
    auth,
    ledger,
    money,
    new_sku,
    notifications,
    order,
    publish,
    stock,
    wait_for,
    wait_status,
    wait_step,
    wait_terminal,
    workflow_state,
)


def _decision(order_id: str, approved: bool, reason: str | None = None) -> dict[str, Any]:
    """A decision as a CloudEvent, published with plain kafka-python."""
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "/tests/approver",
        "type": APPROVAL_DECISION_TYPE,
        "datacontenttype": "application/json",
        "data": {"order_id": order_id, "approved": approved, "approver": "e2e", "reason": reason},
    }


def _instant(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _high_value(stock_units: int = 5) -> tuple[str, dict[str, Any]]:
    sku = new_sku(stock=stock_units, price="600.00")
    return sku, order(sku=sku, quantity=2)  # 1200.00, above the 1000.00 threshold


def test_a_high_value_order_waits_and_an_approval_over_kafka_completes_it(
    fleet: list[ProcessSpec],
) -> None:
    sku, payload = _high_value()
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    view = wait_status(payload["order_id"], "AWAITING_APPROVAL")
    assert view["step"] == "approval"
    assert stock(sku)["reserved"] == 2

    publish(ORDER_APPROVALS, _decision(payload["order_id"], True), key=payload["order_id"])
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"
    assert money(ledger(payload["order_id"])["net"]) == money("1200.00")
    assert notifications(payload["customer_id"]) == [
        "approval_requested",
        "order_confirmed",
        "shipped",
        "delivered",
    ]


def test_a_rejection_ends_rejected_with_nothing_charged_or_reserved(
    fleet: list[ProcessSpec],
) -> None:
    sku, payload = _high_value()
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    wait_status(payload["order_id"], "AWAITING_APPROVAL")
    response = httpx.post(
        f"{topology.API_URL}/orders/{payload['order_id']}/approval",
        json={"approved": False, "reason": "over budget"},
        headers=auth(Role.OPERATOR, "grace@example.com"),
        timeout=10,
    )
    assert response.status_code == 202
    view = wait_terminal(payload["order_id"])
    assert view["status"] == "REJECTED"
    # The approver is who signed in, not a name in the request.
    assert "over budget" in view["failure_reason"]
    assert "grace@example.com" in view["failure_reason"]
    assert ledger(payload["order_id"])["entries"] == []
    assert (stock(sku)["available"], stock(sku)["reserved"]) == (5, 0)


def test_an_approval_published_before_the_wait_is_honoured(fleet: list[ProcessSpec]) -> None:
    sku, payload = _high_value()
    # One small order first, so intake already knows the SKU and needs no inventory call.
    warm_up = order(sku=sku)
    publish(ORDER_REQUESTS, warm_up, key=warm_up["order_id"])
    assert wait_terminal(warm_up["order_id"])["status"] == "COMPLETED"

    def delivered() -> bool:
        lines = (log_dir() / "orchestrator.log").read_text().splitlines()
        return any(
            "approval decision delivered" in line and payload["order_id"] in line for line in lines
        )

    with paused("inventory"):  # the workflow cannot get past its first step
        publish(ORDER_REQUESTS, payload, key=payload["order_id"])
        wait_step(payload["order_id"], "quote")
        publish(ORDER_APPROVALS, _decision(payload["order_id"], True), key=payload["order_id"])
        wait_for(delivered, timeout=30, what="the early decision to reach the workflow")
        assert wait_step(payload["order_id"], "quote")["status"] == "RUNNING"
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"


def test_duplicate_and_unknown_approvals_are_dead_lettered(
    fleet: list[ProcessSpec], approval_dead_letters: TopicLog
) -> None:
    _, payload = _high_value()
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    wait_status(payload["order_id"], "AWAITING_APPROVAL")
    publish(ORDER_APPROVALS, _decision(payload["order_id"], True), key=payload["order_id"])
    publish(ORDER_APPROVALS, _decision(payload["order_id"], False), key=payload["order_id"])
    unknown = f"nope-{uuid.uuid4().hex}"
    publish(ORDER_APPROVALS, _decision(unknown, True), key=unknown)

    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"

    def reasons(order_id: str) -> list[str]:
        return [r["data"]["reason"] for r in approval_dead_letters.for_subject(order_id)]

    assert wait_for(lambda: reasons(unknown), timeout=30, what="unknown order dead letter") == [
        f"unknown order {unknown}"
    ]
    assert wait_for(
        lambda: reasons(payload["order_id"]), timeout=30, what="duplicate dead letter"
    ) == ["order already decided"]


def test_an_undecided_order_is_cancelled_at_its_timeout_and_released(
    fleet: list[ProcessSpec],
) -> None:
    with restarted_with_env(fleet, "orchestrator", APPROVAL_TIMEOUT_S="4"):
        sku, payload = _high_value()
        publish(ORDER_REQUESTS, payload, key=payload["order_id"])
        view = wait_terminal(payload["order_id"])
    assert view["status"] == "CANCELLED"
    assert "timed out" in view["failure_reason"]
    assert (stock(sku)["available"], stock(sku)["reserved"]) == (5, 0)
    assert notifications(payload["customer_id"])[-1] == "cancelled"


def test_a_redelivered_notification_is_not_recorded_twice(fleet: list[ProcessSpec]) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku)
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"
    expected = ["order_confirmed", "shipped", "delivered"]
    wait_for(lambda: notifications(payload["customer_id"]) == expected, timeout=30, what="history")

    # Redeliver the "shipped" notification exactly as the orchestrator published it.
    redelivered: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"{payload['order_id']}:shipped",
        "source": "/order-fleet/orchestrator",
        "type": "com.orderfleet.notification.shipped.v1",
        "datacontenttype": "application/json",
        "data": {
            "notification_id": f"{payload['order_id']}:shipped",
            "customer_id": payload["customer_id"],
            "order_id": payload["order_id"],
            "kind": "shipped",
            "message": "Your order is on its way.",
            "occurred_at": datetime.now().astimezone().isoformat(),
        },
    }
    marker = {**redelivered, "id": uuid.uuid4().hex}
    marker["data"] = {**redelivered["data"], "notification_id": "marker", "kind": "refunded"}
    publish(NOTIFICATIONS, redelivered, key=payload["customer_id"])
    publish(NOTIFICATIONS, marker, key=payload["customer_id"])  # same partition, after it
    wait_for(
        lambda: notifications(payload["customer_id"])[-1:] == ["refunded"],
        timeout=30,
        what="the marker notification",
    )
    assert notifications(payload["customer_id"]) == [*expected, "refunded"]


def test_a_usual_delivery_is_watched_by_the_order_itself_without_a_monitor(
    fleet: list[ProcessSpec],
) -> None:
    # WATCH_IN_ORDER: a sandbox delivery is over within the order's own looks, so no
    # child monitor starts; the monitor's continue-as-new for longer deliveries is
    # covered by the unit tests and the replay histories.
    payload = order(sku=new_sku(stock=5))
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPLETED"
    steps = [h["step"] for h in view["history"]]
    assert steps.index("deliver") < steps.index("complete")
    with pytest.raises(httpx.HTTPStatusError) as missing:
        workflow_state(f"{payload['order_id']}:monitor")
    assert missing.value.response.status_code == 404


def test_a_bulk_of_twenty_runs_as_children_within_the_concurrency_limit(
    fleet: list[ProcessSpec],
) -> None:
    sku = new_sku(stock=40)
    bulk_id = f"bulk-{uuid.uuid4().hex[:10]}"
    orders = [order(sku=sku) for _ in range(20)]
    response = httpx.post(
        f"{topology.API_URL}/orders/bulk",
        json={"bulk_id": bulk_id, "orders": orders},
        headers=auth(),
        timeout=30,
    )
    assert response.status_code == 202, response.text

    def finished() -> dict[str, Any] | None:
        view = httpx.get(
            f"{topology.API_URL}/orders/bulk/{bulk_id}", headers=auth(), timeout=10
        ).json()
        return view if view["runtime_status"] == "COMPLETED" else None

    view = wait_for(finished, timeout=300, what="the bulk to finish")
    assert [r["order_id"] for r in view["results"]] == [o["order_id"] for o in orders]
    assert {r["status"] for r in view["results"]} == {"COMPLETED"}
    assert stock(sku)["shipped"] == 20

    # Each order ran as its own child workflow. Its lifetime, from its first step to its
    # last, is read from its own history; no more than 5 may ever overlap.
    spans = []
    for child in orders:
        assert workflow_state(child["order_id"])["runtimeStatus"] == "COMPLETED"
        history = wait_terminal(child["order_id"])["history"]
        spans.append((_instant(history[0]["at"]), _instant(history[-1]["at"])))
    # The most children alive at one instant (concurrency peaks when one starts).
    most = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert 1 < most <= 5, (most, sorted(spans))


def test_cancel_before_shipment_refunds_and_releases(fleet: list[ProcessSpec]) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku, quantity=2)
    with paused("shipping"):  # the order is charged and waits at the shipment step
        publish(ORDER_REQUESTS, payload, key=payload["order_id"])
        wait_step(payload["order_id"], "ship")
        response = httpx.post(
            f"{topology.API_URL}/orders/{payload['order_id']}/cancel",
            json={"reason": "customer changed their mind"},
            headers=auth(),
            timeout=10,
        )
        assert response.status_code == 202, response.text
    view = wait_terminal(payload["order_id"])
    assert view["status"] == "CANCELLED"
    assert view["failure_reason"] == "customer changed their mind"
    entries = ledger(payload["order_id"])
    assert sorted(e["kind"] for e in entries["entries"]) == ["charge", "refund"]
    assert money(entries["net"]) == 0
    item = stock(sku)
    assert (item["available"], item["reserved"], item["shipped"]) == (5, 0, 0)
    assert "refunded" in notifications(payload["customer_id"])


def test_cancel_after_shipment_is_refused(fleet: list[ProcessSpec]) -> None:
    payload = order(sku=new_sku(stock=5))
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"
    response = httpx.post(
        f"{topology.API_URL}/orders/{payload['order_id']}/cancel", headers=auth(), timeout=10
    )
    assert response.status_code == 409
    assert "finished" in response.json()["detail"]


def test_purge_removes_finished_orders_state(fleet: list[ProcessSpec]) -> None:
    payload = order(sku=new_sku(stock=5))
    publish(ORDER_REQUESTS, payload, key=payload["order_id"])
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"

    def listed() -> bool:
        response = httpx.get(
            f"{topology.API_URL}/orders", params={"limit": 1000}, headers=auth(), timeout=10
        )
        return payload["order_id"] in {o["order_id"] for o in response.json()["orders"]}

    wait_for(listed, timeout=30, what="the finished order in the read model")
    response = httpx.delete(
        f"{topology.API_URL}/orders", params={"older_than_s": 0.001}, headers=auth(), timeout=120
    )
    assert response.status_code == 200
    assert payload["order_id"] in response.json()["order_ids"]
    assert (
        httpx.get(
            f"{topology.API_URL}/orders/{payload['order_id']}", headers=auth(), timeout=10
        ).status_code
        == 404
    )
    assert not listed()
