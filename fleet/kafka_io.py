"""Direct Kafka clients (kafka-python) for the CLI and tests: publish orders, read topics."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from contracts.topics import ORDER_REQUESTS, STRUCTURED_MODE_HEADERS
from fleet.kafka_acls import READER_GROUP_PREFIX
from fleet.kafka_auth import client_options
from fleet.topology import ZIPKIN_URL

ORDER_REQUESTED_TYPE = "com.orderfleet.order.requested.v1"
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def producer() -> KafkaProducer:
    """A producer of orders: the principal `producer`, which may write order-requests only."""
    return KafkaProducer(
        **client_options("producer"),
        acks="all",
        max_request_size=MAX_REQUEST_BYTES,
        client_id="fleet-cli",
    )


def order_cloudevent(order: dict[str, Any], traceparent: str | None = None) -> bytes:
    """A structured CloudEvent carrying an order, as a well-behaved producer sends it."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "/fleet/cli",
        "type": ORDER_REQUESTED_TYPE,
        "subject": order.get("order_id"),
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": order,
    }
    if traceparent:
        event["traceparent"] = traceparent
    return json.dumps(event).encode()


def publish_order(order: dict[str, Any], *, as_cloudevent: bool = True) -> None:
    """Publishes in a producer span, whose context the CloudEvent carries to the fleet."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    from observability.tracing import configure_tracing, current_traceparent, span

    configure_tracing("fleet-cli", default_endpoint=f"{ZIPKIN_URL}/api/v2/spans")
    with span("publish order", kind=SpanKind.PRODUCER, order_id=order.get("order_id")):
        _send(order, as_cloudevent, current_traceparent())
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]


def _send(order: dict[str, Any], as_cloudevent: bool, traceparent: str | None) -> None:
    body = order_cloudevent(order, traceparent) if as_cloudevent else json.dumps(order).encode()
    key = str(order.get("order_id", "")).encode() or None
    client = producer()
    try:
        headers = STRUCTURED_MODE_HEADERS if as_cloudevent else None
        client.send(ORDER_REQUESTS, value=body, key=key, headers=headers).get(timeout=30)
    finally:
        client.close()


def consume(
    topic: str, *, from_beginning: bool, group: str | None = None, timeout_ms: int = 1000
) -> Iterator[Any]:
    """Yields records forever (or until the caller stops); None on each idle poll.

    Reads as the principal `reader`, whose consumer groups must start with `reader-`."""
    if group is not None and not group.startswith(READER_GROUP_PREFIX):
        group = READER_GROUP_PREFIX + group
    consumer = KafkaConsumer(
        topic,
        **client_options("reader"),
        group_id=group,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=group is not None,
        fetch_max_bytes=MAX_REQUEST_BYTES * 2,
        max_partition_fetch_bytes=MAX_REQUEST_BYTES * 2,
        client_id="fleet-cli",
    )
    try:
        while True:
            batch = consumer.poll(timeout_ms=timeout_ms)
            if not batch:
                yield None
            for records in batch.values():
                yield from records
    finally:
        consumer.close()
