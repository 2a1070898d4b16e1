"""Order intake: turns one raw Kafka message into an order to start or a dead letter.

Pure: no I/O. Accepts a CloudEvent (structured JSON) whose data is the order, or the
plain order JSON. Everything that is not a valid order becomes a dead-letter record
with the reason and the original message, so nothing is lost and no partition blocks.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.bulk import BULK_REQUESTED_TYPE, BulkOrderRequest
from contracts.deadletter import MAX_ORIGINAL_CHARS, DeadLetter, FieldError
from contracts.orders import OrderRequest

MAX_INTAKE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Accepted:
    order: OrderRequest
    traceparent: str | None  # the producer's trace context, when the message carried one


@dataclass(frozen=True)
class AcceptedBulk:
    bulk: BulkOrderRequest
    traceparent: str | None


@dataclass(frozen=True)
class Rejected:
    dead_letter: DeadLetter


def field_errors(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(str(part) for part in issue["loc"]) or "(message)", message=issue["msg"]
        )
        for issue in error.errors()
    ]


def dead_letter_record(
    topic: str, raw: bytes, reason: str, now: datetime, errors: Iterable[FieldError] = (),
    order_id: str | None = None,
) -> DeadLetter:  # fmt: skip
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode(), "base64"
    return DeadLetter(
        topic=topic,
        reason=reason,
        errors=list(errors),
        received_at=now,
        order_id=order_id,
        original=text[:MAX_ORIGINAL_CHARS],
        original_encoding=encoding,
        original_bytes=len(raw),
        original_sha256=hashlib.sha256(raw).hexdigest(),
        truncated=len(text) > MAX_ORIGINAL_CHARS,
    )


def trace_id_of(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def message_payload(message: dict[str, Any]) -> tuple[Any, str | None]:
    """The business part of a message (a CloudEvent's data, or the message itself), and
    the W3C traceparent it carries, if any."""
    if "specversion" in message:
        data: Any = message.get("data")
        if data is None and "data_base64" in message:
            data = json.loads(base64.b64decode(message["data_base64"]))
        elif isinstance(data, str):
            data = json.loads(data)
        traceparent = message.get("traceparent")
        return data, traceparent if trace_id_of(traceparent) else None
    return message, None


def parse(
    raw: bytes, *, topic: str, now: datetime
) -> tuple[dict[str, Any], Any, str | None] | Rejected:
    """The message, its payload and trace id, or a dead letter when it is not usable JSON."""
    if len(raw) > MAX_INTAKE_BYTES:
        reason = f"message of {len(raw)} bytes exceeds the {MAX_INTAKE_BYTES}-byte limit"
        return Rejected(dead_letter_record(topic, raw, reason, now))
    try:
        message = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        return Rejected(dead_letter_record(topic, raw, f"not JSON: {error}", now))
    if not isinstance(message, dict):
        return Rejected(dead_letter_record(topic, raw, "not a JSON object", now))
    try:
        payload, trace_id = message_payload(message)
    except (ValueError, binascii.Error) as error:
        reason = f"CloudEvent data is not JSON: {error}"
        return Rejected(dead_letter_record(topic, raw, reason, now))
    return message, payload, trace_id


def decide(
    raw: bytes,
    *,
    topic: str,
    now: datetime,
    unknown_skus: Callable[[list[str]], list[str]],
    traceparent: str | None = None,
) -> Accepted | AcceptedBulk | Rejected:
    parsed = parse(raw, topic=topic, now=now)
    if isinstance(parsed, Rejected):
        return parsed
    message, payload, message_traceparent = parsed
    trace_context = message_traceparent or traceparent
    if message.get("type") == BULK_REQUESTED_TYPE:
        return _decide_bulk(
            raw, payload, topic=topic, now=now, unknown_skus=unknown_skus, traceparent=trace_context
        )
    order_id = payload.get("order_id") if isinstance(payload, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    try:
        order = OrderRequest.model_validate(payload)
    except ValidationError as error:
        return Rejected(
            dead_letter_record(topic, raw, "invalid order", now, field_errors(error), order_id)
        )
    unknown = unknown_skus([line.sku for line in order.items])
    if unknown:
        errors = [
            FieldError(field=f"items.{index}.sku", message=f"unknown SKU {line.sku}")
            for index, line in enumerate(order.items)
            if line.sku in unknown
        ]
        return Rejected(dead_letter_record(topic, raw, "unknown SKU", now, errors, order.order_id))
    return Accepted(order, trace_context)


def _decide_bulk(
    raw: bytes,
    payload: Any,
    *,
    topic: str,
    now: datetime,
    unknown_skus: Callable[[list[str]], list[str]],
    traceparent: str | None,
) -> AcceptedBulk | Rejected:
    try:
        bulk = BulkOrderRequest.model_validate(payload)
    except ValidationError as error:
        return Rejected(
            dead_letter_record(topic, raw, "invalid bulk order", now, field_errors(error))
        )
    unknown = unknown_skus(sorted({line.sku for order in bulk.orders for line in order.items}))
    if unknown:
        errors = [
            FieldError(field=f"orders.{o}.items.{i}.sku", message=f"unknown SKU {line.sku}")
            for o, order in enumerate(bulk.orders)
            for i, line in enumerate(order.items)
            if line.sku in unknown
        ]
        return Rejected(dead_letter_record(topic, raw, "unknown SKU", now, errors, bulk.bulk_id))
    return AcceptedBulk(bulk, traceparent)
