"""Kafka's principals and ACLs hold wherever the fleet is deployed (fleet/kafka_acls.py):
no anonymous client and no wrong password gets in, each principal writes only its own
topics (the broker itself refuses the rest), a decision from anyone but `approver` never
reaches an order, and the events read with the CloudEvents SDK's Kafka protocol binding.

Each test fails if its rule is removed: the refusals are asserted as the broker's own
errors (TopicAuthorizationFailedError, GroupAuthorizationFailedError, a refused login),
and the positive half of each test shows the same client does get through where allowed.
"""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cloudevents.kafka import KafkaMessage, from_binary, from_structured
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from contracts.approvals import APPROVAL_DECISION_TYPE
from contracts.events import OrderEventType
from contracts.topics import (
    NOTIFICATIONS,
    ORDER_APPROVALS,
    ORDER_EVENTS,
    ORDER_REQUESTS,
    STRUCTURED_CLOUDEVENT,
    dead_letter,
)
from fleet.kafka_acls import PRODUCT_TOPICS, READER_GROUP_PREFIX
from tests.e2e.fleet_client import TopicLog, api_sku, auth, order, publish, wait_for
from tests.targets.base import Target

REFUSED_LOGIN_S = 5.0  # kafka-python retries a refused login silently until its deadline


def _get(target: Target, path: str) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{target.api_urls[0]}{path}", headers=auth(), timeout=10)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body


def _status(target: Target, order_id: str) -> str | None:
    view = _get(target, f"/orders/{order_id}")
    return None if view is None else str(view["status"])


def _wait_status(target: Target, order_id: str, status: str, timeout: float = 240) -> None:
    wait_for(
        lambda: _status(target, order_id) == status,
        timeout=timeout,
        what=f"{order_id} to be {status} on {target.name}",
    )


def _producer(options: dict[str, Any]) -> KafkaProducer:
    # Not idempotent: an idempotent producer asks for a producer id first, which a
    # principal with no write anywhere is refused (ClusterAuthorization) before any topic
    # is asked; this way the broker's answer is about the topic itself.
    return KafkaProducer(**options, enable_idempotence=False, max_block_ms=15000, retries=0)


def _write(options: dict[str, Any], topic: str, value: dict[str, Any]) -> None:
    producer = _producer(options)
    try:
        producer.send(topic, value=json.dumps(value).encode()).get(timeout=15)
    finally:
        producer.close(timeout=5)


def _login(options: dict[str, Any]) -> list[str]:
    admin = KafkaAdminClient(
        **options, bootstrap_timeout_ms=int(REFUSED_LOGIN_S * 1000), request_timeout_ms=5000
    )
    try:
        return sorted(admin.list_topics())
    finally:
        admin.close()


def _probe_order() -> dict[str, Any]:
    # Never valid (no items): whatever gets written is dead-lettered, never run.
    return {"order_id": f"acl-{uuid.uuid4().hex[:12]}", "probe": True}


# ---- who gets in


def test_a_client_without_credentials_is_refused(target: Target) -> None:
    anonymous = {"bootstrap_servers": target.kafka_options("reader")["bootstrap_servers"]}
    with pytest.raises(KafkaError):
        _login(anonymous)
    assert ORDER_EVENTS in _login(target.kafka_options("reader"))  # the same broker, logged in


def test_a_wrong_password_is_refused_and_the_fleet_keeps_working(target: Target) -> None:
    for principal in ("producer", "fleet", "admin"):
        wrong = {**target.kafka_options(principal), "sasl_plain_password": "not-the-password"}
        with pytest.raises(KafkaError):
            _login(wrong)
    sku = api_sku(stock=2, api=target.api_urls[0])
    payload = order(sku=sku)
    publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
    _wait_status(target, str(payload["order_id"]), "COMPLETED")


# ---- who may write what


def test_producer_writes_order_requests_and_nothing_else(target: Target) -> None:
    producer = target.kafka_options("producer")
    _write(producer, ORDER_REQUESTS, _probe_order())  # allowed (dead-lettered: not an order)
    for topic in (ORDER_APPROVALS, ORDER_EVENTS, NOTIFICATIONS):
        with pytest.raises(TopicAuthorizationFailedError):
            _write(producer, topic, _probe_order())


def test_approver_writes_order_approvals_and_not_order_requests(target: Target) -> None:
    approver = target.kafka_options("approver")
    with pytest.raises(TopicAuthorizationFailedError):
        _write(approver, ORDER_REQUESTS, _probe_order())
    with pytest.raises(TopicAuthorizationFailedError):
        _write(approver, ORDER_EVENTS, _probe_order())


def test_reader_writes_nothing(target: Target) -> None:
    reader = target.kafka_options("reader")
    for topic in (*PRODUCT_TOPICS, dead_letter(ORDER_REQUESTS)):
        with pytest.raises(TopicAuthorizationFailedError):
            _write(reader, topic, _probe_order())


# ---- who may read what


def test_reader_reads_order_events_in_a_group_of_its_own_and_cannot_join_the_fleets(
    target: Target,
) -> None:
    events = TopicLog(ORDER_EVENTS)  # as reader (tests/e2e/fleet_client.py reader_of)
    try:
        sku = api_sku(stock=2, api=target.api_urls[0])
        payload = order(sku=sku)
        order_id = str(payload["order_id"])
        publish(ORDER_REQUESTS, payload, key=order_id)
        wait_for(lambda: events.for_subject(order_id), timeout=120, what=f"events of {order_id}")
    finally:
        events.close()

    reader = target.kafka_options("reader")
    own = KafkaConsumer(
        ORDER_EVENTS, **reader, group_id=f"{READER_GROUP_PREFIX}{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", consumer_timeout_ms=10000,
    )  # fmt: skip
    try:
        assert next(iter(own), None) is not None, "reader reads order-events in its own group"
    finally:
        own.close()
    fleets = KafkaConsumer(
        ORDER_EVENTS, **reader, group_id="orchestrator", consumer_timeout_ms=5000
    )  # the orchestrator sidecar's group: joining it would steal its partitions
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            list(fleets)
    finally:
        fleets.close()
    for topic in (ORDER_REQUESTS, ORDER_APPROVALS):  # what users send is not the reader's
        consumer = KafkaConsumer(**reader, enable_auto_commit=False)
        try:
            assert not consumer.partitions_for_topic(topic)
            with pytest.raises(TopicAuthorizationFailedError):
                consumer.end_offsets([TopicPartition(topic, 0)])
        finally:
            consumer.close()


# ---- approvals come from approvers


def _decision(order_id: str, approved: bool, approver: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{order_id}:{approver}:{uuid.uuid4().hex[:6]}",
        "source": "tests/targets/acl",
        "type": APPROVAL_DECISION_TYPE,
        "datacontenttype": "application/json",
        "data": {"order_id": order_id, "approved": approved, "approver": approver},
    }


def test_a_decision_from_anyone_but_an_approver_never_reaches_the_order(target: Target) -> None:
    sku = api_sku(stock=2, price="1500.00", api=target.api_urls[0])
    payload = order(sku=sku)
    order_id = str(payload["order_id"])
    publish(ORDER_REQUESTS, payload, key=order_id)
    _wait_status(target, order_id, "AWAITING_APPROVAL", timeout=120)

    for impostor in ("producer", "reader"):
        with pytest.raises(TopicAuthorizationFailedError):
            _write(
                target.kafka_options(impostor),
                ORDER_APPROVALS,
                _decision(order_id, False, f"{impostor}@example.com"),
            )
    time.sleep(5)  # were a decision through, the workflow would act on it within this
    assert _status(target, order_id) == "AWAITING_APPROVAL"

    publish(ORDER_APPROVALS, _decision(order_id, True, "ops@example.com"), key=order_id)
    _wait_status(target, order_id, "COMPLETED")


# ---- the CloudEvents Kafka protocol binding


def _by_binding(record: Any) -> Any:
    """What a strict binding consumer does: the content-type header picks the mode."""
    headers = {name: value for name, value in record.headers or []}
    message = KafkaMessage(headers=headers, key=record.key, value=record.value)
    content_type = headers.get("content-type", b"").decode()
    if content_type.startswith("application/cloudevents"):
        return from_structured(message)
    return from_binary(message)


@pytest.fixture
def binding_logs() -> Iterator[tuple[TopicLog, TopicLog]]:
    events, notifications = TopicLog(ORDER_EVENTS), TopicLog(NOTIFICATIONS)
    yield events, notifications
    events.close()
    notifications.close()


def test_events_and_notifications_read_as_structured_cloudevents_by_the_kafka_binding(
    target: Target, binding_logs: tuple[TopicLog, TopicLog]
) -> None:
    events, notifications = binding_logs
    sku = api_sku(stock=2, api=target.api_urls[0])
    payload = order(sku=sku)
    order_id, customer = str(payload["order_id"]), str(payload["customer_id"])
    publish(ORDER_REQUESTS, payload, key=order_id)
    _wait_status(target, order_id, "COMPLETED")

    def records(log: TopicLog, wanted: str, last: str) -> list[Any] | None:
        # The API can answer COMPLETED before the last event reaches our consumer.
        found = [r for r in list(log.raw) if wanted.encode() in r.value]
        return found if any(last.encode() in r.value for r in found) else None

    ours = wait_for(
        lambda: records(events, order_id, OrderEventType.COMPLETED),
        timeout=60,
        what="the order's events",
    )
    sent = wait_for(
        lambda: records(notifications, customer, "delivered"), timeout=60, what="notifications"
    )
    for record in ours + sent:
        headers = dict(record.headers or [])
        assert headers.get("content-type") == STRUCTURED_CLOUDEVENT.encode(), record.topic
        event = _by_binding(record)
        body = json.loads(record.value)
        assert event["specversion"] == "1.0"
        assert event["id"] == body["id"] and event["type"] == body["type"]
        assert str(event["type"]).startswith("com.orderfleet.")
        assert event.data == body["data"]
    kinds = [str(_by_binding(r)["type"]).split(".")[-2] for r in ours]
    assert kinds[0] == "accepted" and "completed" in kinds, kinds
    assert all(_by_binding(r)["subject"] == order_id for r in ours)
    assert all(json.dumps(_by_binding(r).data).find(customer) >= 0 for r in sent), (
        "each notification names its customer"
    )
