"""The order saga's acceptance, end to end on the real fleet."""

import functools
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from kafka import KafkaProducer

from contracts.topics import ORDER_REQUESTS, STRUCTURED_CLOUDEVENT
from fleet import topology
from fleet.kafka_io import MAX_REQUEST_BYTES
from fleet.runner.specs import ProcessSpec
from tests.e2e.fleet_client import (
    TopicLog,
    auth,
    kafka_options,
    ledger,
    money,
    new_sku,
    order,
    stock,
    wait_for,
    wait_terminal,
)

HAPPY_EVENTS = [
    "accepted",
    "stock_reserved",
    "payment_charged",
    "shipment_created",
    "shipped",
    "delivered",
    "completed",
]


def _producer() -> KafkaProducer:
    return KafkaProducer(**kafka_options("producer"), max_request_size=MAX_REQUEST_BYTES)


def _publish(*messages: bytes, key: str | None = None) -> None:
    producer = _producer()
    for message in messages:
        producer.send(ORDER_REQUESTS, value=message, key=key.encode() if key else None)
    producer.flush(timeout=30)
    producer.close()


def _publish_order(payload: dict[str, Any]) -> None:
    _publish(json.dumps(payload).encode(), key=payload["order_id"])


def _kinds(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["type"]).split(".")[-2] for e in events]


def _events_until(log: TopicLog, order_id: str, last: str) -> list[dict[str, Any]]:
    return wait_for(
        lambda: (
            events if (events := log.for_subject(order_id)) and _kinds(events)[-1] == last else None
        ),
        timeout=30,
        what=f"{last} event of {order_id}",
    )


def test_an_order_from_a_plain_kafka_producer_completes_with_its_events_in_order(
    fleet: list[ProcessSpec], order_events: TopicLog
) -> None:
    sku = new_sku(stock=10)
    payload = order(sku=sku, quantity=3)
    _publish_order(payload)

    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPLETED", view
    assert money(view["total"]) == money("37.50")
    steps = [h["step"] for h in view["history"]]
    assert steps == ["quote", "reserve", "charge", "ship", "deliver", "complete", "completed"]

    events = _events_until(order_events, payload["order_id"], "completed")
    assert _kinds(events) == HAPPY_EVENTS
    assert [e["data"]["sequence"] for e in events] == list(range(1, 8))
    assert len({e["id"] for e in events}) == len(events)
    assert all(e["subject"] == payload["order_id"] for e in events)
    # Structured mode, as the CloudEvents Kafka binding requires strict consumers to see it.
    assert {order_events.content_type(e["id"]) for e in events} == {STRUCTURED_CLOUDEVENT}

    item = stock(sku)
    assert (item["available"], item["reserved"], item["shipped"]) == (7, 0, 3)
    payments = ledger(payload["order_id"])
    assert [e["kind"] for e in payments["entries"]] == ["charge"]
    assert money(payments["net"]) == money("37.50")


def test_a_declined_card_compensates_and_restores_stock_without_a_charge(
    fleet: list[ProcessSpec],
) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku, quantity=2, token="tok_decline")
    _publish_order(payload)

    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPENSATED"
    assert "declined" in view["failure_reason"]
    item = stock(sku)
    assert (item["available"], item["reserved"]) == (5, 0)
    payments = ledger(payload["order_id"])
    assert payments["entries"] == []
    assert money(payments["net"]) == 0


def test_an_undeliverable_country_refunds_the_one_charge_and_restores_stock(
    fleet: list[ProcessSpec], order_events: TopicLog
) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku, quantity=1, country="ZZ")
    _publish_order(payload)

    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPENSATED"
    payments = ledger(payload["order_id"])
    kinds = [e["kind"] for e in payments["entries"]]
    assert sorted(kinds) == ["charge", "refund"]
    amounts = {e["kind"]: money(e["amount"]) for e in payments["entries"]}
    assert amounts["charge"] == amounts["refund"] == money("12.50")
    assert money(payments["net"]) == 0
    item = stock(sku)
    assert (item["available"], item["reserved"], item["shipped"]) == (5, 0, 0)
    events = _events_until(order_events, payload["order_id"], "compensated")
    assert _kinds(events) == [
        "accepted", "stock_reserved", "payment_charged", "payment_refunded", "stock_released",
        "compensated",
    ]  # fmt: skip


def test_a_flaky_card_completes_with_exactly_one_net_charge(fleet: list[ProcessSpec]) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku, token="tok_flaky")
    _publish_order(payload)

    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPLETED", view
    payments = ledger(payload["order_id"])
    assert [e["kind"] for e in payments["entries"]] == ["charge"]
    assert money(payments["net"]) == money("12.50")


def test_a_quantity_beyond_stock_is_rejected_with_no_reservation_left(
    fleet: list[ProcessSpec],
) -> None:
    sku = new_sku(stock=3)
    payload = order(sku=sku, quantity=4)
    _publish_order(payload)

    view = wait_terminal(payload["order_id"])
    assert view["status"] == "REJECTED"
    assert sku in view["failure_reason"]
    item = stock(sku)
    assert (item["available"], item["reserved"]) == (3, 0)
    assert ledger(payload["order_id"])["entries"] == []


def test_fifty_concurrent_orders_for_twenty_units_never_oversell(fleet: list[ProcessSpec]) -> None:
    sku = new_sku(stock=20)
    payloads = [order(sku=sku) for _ in range(50)]
    producer = _producer()
    for payload in payloads:
        producer.send(
            ORDER_REQUESTS, value=json.dumps(payload).encode(), key=payload["order_id"].encode()
        )
    producer.flush(timeout=30)
    producer.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        views = list(pool.map(lambda p: wait_terminal(p["order_id"], timeout=240), payloads))
    statuses = [v["status"] for v in views]
    assert statuses.count("COMPLETED") == 20
    assert statuses.count("REJECTED") == 30
    item = stock(sku)
    assert (item["available"], item["reserved"], item["shipped"]) == (0, 0, 20)


def test_the_same_order_id_published_twice_runs_one_workflow_and_charges_once(
    fleet: list[ProcessSpec], order_events: TopicLog
) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku)
    _publish(json.dumps(payload).encode(), json.dumps(payload).encode(), key=payload["order_id"])

    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"
    assert [e["kind"] for e in ledger(payload["order_id"])["entries"]] == ["charge"]
    events = _events_until(order_events, payload["order_id"], "completed")
    assert _kinds(events) == HAPPY_EVENTS
    assert stock(sku)["shipped"] == 1


def test_malformed_messages_are_dead_lettered_with_a_reason_and_valid_orders_still_complete(
    fleet: list[ProcessSpec], dead_letters: TopicLog
) -> None:
    sku = new_sku(stock=10)
    marker = uuid.uuid4().hex
    missing = order(sku=sku, customer_id=f"missing-{marker}")
    del missing["shipping_address"]
    negative = order(sku=sku, customer_id=f"negative-{marker}", quantity=-1)
    unknown = order(sku="NO-SUCH-SKU", customer_id=f"unknown-{marker}")
    huge = order(sku=sku, customer_id=f"huge-{marker}" + "x" * (5 * 1024 * 1024))
    before, after = order(sku=sku), order(sku=sku)

    _publish(
        json.dumps(before).encode(),
        f"not json {marker}".encode(),
        json.dumps(missing).encode(),
        json.dumps(negative).encode(),
        json.dumps(unknown).encode(),
        json.dumps(huge).encode(),
        json.dumps(after).encode(),
    )

    def dead(fragment: str) -> list[dict[str, Any]]:
        return dead_letters.matching(
            lambda r: fragment in r.get("data", {}).get("original", "")[:200]
        )

    expectations = {
        f"not json {marker}": "not JSON",
        f"missing-{marker}": "invalid order",
        f"negative-{marker}": "invalid order",
        f"unknown-{marker}": "unknown SKU",
        f"huge-{marker}": "exceeds",
    }
    for fragment, reason in expectations.items():
        [record] = wait_for(
            functools.partial(dead, fragment), timeout=60, what=f"dead letter {fragment[:20]}"
        )
        assert reason in record["data"]["reason"], record["data"]["reason"]
        assert dead_letters.content_type(record["id"]) == STRUCTURED_CLOUDEVENT
    fields = {e["field"] for r in dead(f"missing-{marker}") for e in r["data"]["errors"]}
    assert fields == {"shipping_address"}
    fields = {e["field"] for r in dead(f"negative-{marker}") for e in r["data"]["errors"]}
    assert fields == {"items.0.quantity"}
    assert dead(f"huge-{marker}")[0]["data"]["original_bytes"] > 5 * 1024 * 1024

    for payload in (before, after):
        assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"


def test_the_api_accepts_orders_and_explains_bad_ones(fleet: list[ProcessSpec]) -> None:
    sku = new_sku(stock=5)
    payload = order(sku=sku, quantity=2)
    response = httpx.post(f"{topology.API_URL}/orders", json=payload, headers=auth(), timeout=30)
    assert response.status_code == 202, response.text
    assert response.json()["status_url"] == f"/orders/{payload['order_id']}"
    assert wait_terminal(payload["order_id"])["status"] == "COMPLETED"

    again = httpx.post(f"{topology.API_URL}/orders", json=payload, headers=auth(), timeout=30)
    assert again.status_code == 202 and again.json()["duplicate"] is True

    bad = order(sku="NO-SUCH-SKU", quantity=0)
    response = httpx.post(f"{topology.API_URL}/orders", json=bad, headers=auth(), timeout=30)
    assert response.status_code == 422
    locations = [tuple(error["loc"]) for error in response.json()["detail"]]
    assert ("body", "items", 0, "quantity") in locations

    unknown = order(sku="NO-SUCH-SKU")
    response = httpx.post(f"{topology.API_URL}/orders", json=unknown, headers=auth(), timeout=30)
    assert response.status_code == 422
    assert [tuple(e["loc"]) for e in response.json()["detail"]] == [("body", "items", 0, "sku")]

    def listed() -> bool:
        response = httpx.get(
            f"{topology.API_URL}/orders", params={"status": "COMPLETED"}, headers=auth(), timeout=10
        )
        return payload["order_id"] in {o["order_id"] for o in response.json()["orders"]}

    wait_for(listed, timeout=30, what="the order in the read model")
    catalog = httpx.get(f"{topology.API_URL}/catalog", headers=auth(), timeout=10).json()["items"]
    assert sku in {item["sku"] for item in catalog}
    assert (
        httpx.get(f"{topology.API_URL}/catalog/NO-SUCH", headers=auth(), timeout=10).status_code
        == 404
    )
    assert (
        httpx.get(
            f"{topology.API_URL}/orders/nope-{uuid.uuid4().hex}", headers=auth(), timeout=10
        ).status_code
        == 404
    )
