"""`fleet credentials` on every target: the shape the README promises, and credentials that
work as printed. An order goes in as the `producer` principal, is followed through the API
with the `client` token of its customer, and its events are read as `reader`."""

import json
import subprocess
import sys
import time
from typing import Any

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from contracts.topics import ORDER_EVENTS, ORDER_REQUESTS, STRUCTURED_MODE_HEADERS
from fleet.kafka_io import order_cloudevent
from tests.e2e.fleet_client import api_sku, order, wait_for
from tests.targets.base import Target


def _credentials(target: Target) -> dict[str, Any]:
    printed = subprocess.run(
        [
            sys.executable,
            *("-m", "fleet.cli", "credentials", "--json"),
            *("--target", target.credentials_target),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found: dict[str, Any] = json.loads(printed)
    return found


def _kafka(kafka: dict[str, Any], principal: str) -> dict[str, Any]:
    user = kafka["principals"][principal]
    return {
        "bootstrap_servers": kafka["bootstrap"],
        "security_protocol": kafka["security_protocol"],
        "sasl_mechanism": kafka["sasl_mechanism"],
        "sasl_plain_username": user["username"],
        "sasl_plain_password": user["password"],
    }


def test_credentials_have_the_documented_shape(target: Target) -> None:
    found = _credentials(target)
    assert set(found) == {"api", "kafka"}
    assert set(found["api"]) == {"client", "operator", "admin"}
    assert all(token.count(".") == 2 for token in found["api"].values())  # JWTs
    kafka = found["kafka"]
    assert set(kafka) == {"bootstrap", "security_protocol", "sasl_mechanism", "principals"}
    assert kafka["bootstrap"] == "127.0.0.1:9092"
    assert set(kafka["principals"]) == {"producer", "approver", "reader"}
    for user in kafka["principals"].values():
        assert set(user) == {"username", "password"} and user["password"]


def test_the_printed_credentials_place_and_follow_an_order(target: Target) -> None:
    found = _credentials(target)
    api = target.api_urls[0]
    as_client = {"Authorization": f"Bearer {found['api']['client']}"}
    me = httpx.get(f"{api}/me", headers=as_client, timeout=10).json()
    assert me["role"] == "client"
    payload = order(sku=api_sku(stock=5, api=api), customer_id=me["subject"])

    reader = KafkaConsumer(**_kafka(found["kafka"], "reader"), consumer_timeout_ms=1000)
    try:
        partitions = [
            TopicPartition(ORDER_EVENTS, p) for p in reader.partitions_for_topic(ORDER_EVENTS) or []
        ]
        reader.assign(partitions)
        reader.seek_to_end()
        for partition in partitions:
            reader.position(partition)  # resolve the end now, before the order goes in

        producer = KafkaProducer(**_kafka(found["kafka"], "producer"), acks="all")
        try:
            producer.send(
                ORDER_REQUESTS,
                value=order_cloudevent(payload),
                key=payload["order_id"].encode(),
                headers=STRUCTURED_MODE_HEADERS,
            ).get(timeout=30)
        finally:
            producer.close()

        def completed() -> dict[str, Any] | None:
            response = httpx.get(
                f"{api}/orders/{payload['order_id']}", headers=as_client, timeout=10
            )
            view: dict[str, Any] = response.json() if response.status_code == 200 else {}
            return view if view.get("status") == "COMPLETED" else None

        wait_for(completed, timeout=240, what="the client's order to complete")

        seen: list[str] = []
        deadline = time.monotonic() + 60
        while "com.orderfleet.order.completed.v1" not in seen and time.monotonic() < deadline:
            for record in reader:
                event = json.loads(record.value)
                if event.get("subject") == payload["order_id"] or (
                    event.get("data", {}).get("order_id") == payload["order_id"]
                ):
                    seen.append(event["type"])
        assert "com.orderfleet.order.completed.v1" in seen, seen
    finally:
        reader.close()

    # The same client sees its own orders only.
    listed = httpx.get(f"{api}/orders", headers=as_client, timeout=10).json()["orders"]
    assert {row["customer_id"] for row in listed} <= {me["subject"]}
