"""Helpers that drive the running fleet the way users do: Kafka in, HTTP and Kafka out."""

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from contracts.commands import Method
from contracts.roles import Role
from contracts.topics import ORDER_APPROVALS, ORDER_REQUESTS
from fleet import topology
from fleet.api_tokens import TokenSource
from fleet.kafka_acls import DEAD_LETTER_TOPICS
from fleet.kafka_auth import client_options
from fleet.kafka_io import MAX_REQUEST_BYTES
from fleet.secrets import sidecar_headers

T = TypeVar("T")
KafkaOptions = Callable[[str], dict[str, Any]]
# Who writes each topic in these tests, as users would: orders as `producer`, decisions as
# `approver`; anything else (a redelivered notification, a forged event) as the fleet does.
WRITER = {ORDER_REQUESTS: "producer", ORDER_APPROVALS: "approver"}
READABLE_BY_READER = {"order-events", "notifications", *DEAD_LETTER_TOPICS}
_kafka_options: list[KafkaOptions] = [client_options]  # the local fleet's, unless a target says


def use_kafka_options(options: KafkaOptions) -> None:
    """Makes every Kafka client here use `options(principal)` (a deployment target's)."""
    _kafka_options[0] = options


def kafka_options(principal: str) -> dict[str, Any]:
    """kafka-python options for `principal` on the fleet under test."""
    return _kafka_options[0](principal)


def writer_of(topic: str) -> str:
    return WRITER.get(topic, "fleet")


def reader_of(topic: str) -> str:
    return "reader" if topic in READABLE_BY_READER else "fleet"


SIDECAR = f"http://127.0.0.1:{topology.ORCHESTRATOR.dapr_http_port}"


# The local fleet's development issuer; a deployment target points it at its own.
TOKENS = TokenSource()


def auth(role: Role = Role.ADMIN, subject: str | None = None) -> dict[str, str]:
    """The API's Authorization header for a caller with `role` (the tests act as admin)."""
    return TOKENS.headers(role, subject)


def token(role: Role, subject: str | None = None) -> str:
    return TOKENS.token(role, subject)


def use_issuer(signing_key: Callable[[], str]) -> None:
    """Mints the tests' tokens with another deployment's development issuer."""
    global TOKENS
    TOKENS = TokenSource(signing_key)


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Polls until `condition` returns something truthy; fails with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def invoke(app_id: str, method: str, body: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{SIDECAR}/v1.0/invoke/{app_id}/method/{method}",
        json=body,
        headers=sidecar_headers("orchestrator"),
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def new_sku(stock: int, price: str = "12.50") -> str:
    sku = f"T-{uuid.uuid4().hex[:10].upper()}"
    invoke(
        "inventory",
        Method.UPSERT_ITEM,
        {"sku": sku, "name": f"Test {sku}", "price": price, "stock": stock},
    )
    return sku


def api_sku(stock: int, price: str = "12.50", api: str = topology.API_URL) -> str:
    """A SKU of the test's own, through the API (any deployment target has it)."""
    sku = f"T-{uuid.uuid4().hex[:10].upper()}"
    body = {"name": f"Test {sku}", "price": price, "stock": stock}
    deadline = time.monotonic() + 120
    while True:
        response = httpx.put(f"{api}/catalog/{sku}", json=body, headers=auth(), timeout=30)
        # 503 + Retry-After: a sidecar that just started cannot reach inventory yet (the
        # API's documented answer); a client does as told and tries again.
        retry_after = response.headers.get("Retry-After")
        if response.status_code != 503 or retry_after is None or time.monotonic() > deadline:
            break
        time.sleep(float(retry_after))
    response.raise_for_status()
    return sku


def stock(sku: str) -> dict[str, Any]:
    response = httpx.get(f"{topology.API_URL}/catalog/{sku}", headers=auth(), timeout=10)
    response.raise_for_status()
    item: dict[str, Any] = response.json()
    return item


def ledger(order_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{topology.API_URL}/orders/{order_id}/payments", headers=auth(), timeout=10
    )
    response.raise_for_status()
    payments: dict[str, Any] = response.json()
    return payments


def order(
    *, sku: str, quantity: int = 1, token: str = "tok_visa", country: str = "DE", **extra: Any
) -> dict[str, Any]:
    payload = {
        "order_id": f"e2e-{uuid.uuid4().hex[:16]}",
        "customer_id": f"cust-{uuid.uuid4().hex[:6]}",
        "items": [{"sku": sku, "quantity": quantity}],
        "shipping_address": {
            "name": "Grace Hopper",
            "line1": "1 Harbor Way",
            "city": "Hamburg",
            "postal_code": "20095",
            "country": country,
        },
        "payment_token": token,
    }
    payload.update(extra)
    return payload


def get_order(order_id: str) -> dict[str, Any] | None:
    response = httpx.get(f"{topology.API_URL}/orders/{order_id}", headers=auth(), timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    view: dict[str, Any] = response.json()
    return view


TERMINAL = {"COMPLETED", "REJECTED", "COMPENSATED", "CANCELLED", "FAILED"}


def wait_terminal(order_id: str, timeout: float = 90) -> dict[str, Any]:
    last: list[dict[str, Any] | None] = [None]

    def done() -> dict[str, Any] | None:
        last[0] = view = get_order(order_id)
        return view if view and view["status"] in TERMINAL else None

    try:
        return wait_for(done, timeout=timeout, what=f"order {order_id} to finish")
    except AssertionError as stuck:
        # Where it stopped is what a reader of the failure needs first.
        raise AssertionError(f"{stuck}; last seen: {last[0]}") from None


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def ensure_topic(name: str) -> None:
    admin = KafkaAdminClient(**kafka_options("admin"))
    try:
        admin.create_topics([NewTopic(name, num_partitions=4, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


class TopicLog:
    """Collects every record published on a topic from the moment it starts, by key/subject."""

    def __init__(self, topic: str) -> None:
        ensure_topic(topic)
        self._consumer = KafkaConsumer(
            **kafka_options(reader_of(topic)),
            enable_auto_commit=False,
            fetch_max_bytes=MAX_REQUEST_BYTES * 2,
            max_partition_fetch_bytes=MAX_REQUEST_BYTES * 2,
        )
        partitions = wait_for(
            lambda: self._consumer.partitions_for_topic(topic), timeout=30, what=f"{topic} metadata"
        )
        assigned = [TopicPartition(topic, p) for p in partitions]
        self._consumer.assign(assigned)
        self._consumer.seek_to_end(*assigned)
        for partition in assigned:  # resolve the end offsets now, before anything is published
            self._consumer.position(partition)
        self.records: list[dict[str, Any]] = []
        self.raw: list[Any] = []  # the ConsumerRecords themselves (headers, key, value)
        self.by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._content_types: dict[str, str | None] = {}  # record header, by CloudEvent id
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=200).values():
                for record in records:
                    value = json.loads(record.value)
                    headers = {k: v.decode() for k, v in record.headers or []}
                    with self._lock:
                        self.raw.append(record)
                        self.records.append(value)
                        self._content_types[str(value.get("id"))] = headers.get("content-type")
                        subject = value.get("subject") or (value.get("data") or {}).get("order_id")
                        if subject:
                            self.by_subject[subject].append(value)

    def for_subject(self, subject: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.by_subject.get(subject, []))

    def content_type(self, event_id: str) -> str | None:
        """The record's `content-type` header (the CloudEvents Kafka binding's mode)."""
        with self._lock:
            return self._content_types.get(event_id)

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records if predicate(r)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()


def publish(
    topic: str, value: dict[str, Any] | bytes, key: str | None = None, *, as_: str | None = None
) -> None:
    """Publishes like any producer would: plain kafka-python, JSON value, optional key, as
    the principal that writes `topic` (`as_` to choose another)."""
    from kafka import KafkaProducer

    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    producer = KafkaProducer(
        **kafka_options(as_ or writer_of(topic)), max_request_size=MAX_REQUEST_BYTES
    )
    producer.send(topic, value=body, key=key.encode() if key else None)
    producer.flush(timeout=30)
    producer.close()


def wait_status(order_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        view = get_order(order_id)
        return view if view and view["status"] == status else None

    return wait_for(reached, timeout=timeout, what=f"order {order_id} to be {status}")


def wait_step(order_id: str, step: str, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        view = get_order(order_id)
        return view if view and view["step"] == step else None

    return wait_for(reached, timeout=timeout, what=f"order {order_id} at step {step}")


def notifications(customer_id: str) -> list[str]:
    response = httpx.get(
        f"{topology.API_URL}/customers/{customer_id}/notifications", headers=auth(), timeout=10
    )
    response.raise_for_status()
    return [n["kind"] for n in response.json()["notifications"]]


def workflow_state(instance_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{SIDECAR}/v1.0/workflows/dapr/{instance_id}",
        headers=sidecar_headers("orchestrator"),
        timeout=10,
    )
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state
