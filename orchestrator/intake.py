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

from contracts.deadletter import MAX_ORIGINAL_CHARS, DeadLetter, FieldError
from contracts.orders import OrderRequest

MAX_INTAKE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Accepted:
    order: OrderRequest
    trace_id: str | None


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


def _dead_letter(
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


def _order_payload(message: dict[str, Any]) -> tuple[Any, str | None]:
    """The order part of a message, and the trace id it carries, if any."""
    if "specversion" in message:
        data: Any = message.get("data")
        if data is None and "data_base64" in message:
            data = json.loads(base64.b64decode(message["data_base64"]))
        elif isinstance(data, str):
            data = json.loads(data)
        return data, trace_id_of(message.get("traceparent"))
    return message, None


def decide(
    raw: bytes,
    *,
    topic: str,
    now: datetime,
    unknown_skus: Callable[[list[str]], list[str]],
    traceparent: str | None = None,
) -> Accepted | Rejected:
    if len(raw) > MAX_INTAKE_BYTES:
        return Rejected(
            _dead_letter(
                topic,
                raw,
                f"message of {len(raw)} bytes exceeds the {MAX_INTAKE_BYTES}-byte limit",
                now,
            )
        )
    try:
        message = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        return Rejected(_dead_letter(topic, raw, f"not JSON: {error}", now))
    if not isinstance(message, dict):
        return Rejected(_dead_letter(topic, raw, "not a JSON object", now))
    try:
        payload, trace_id = _order_payload(message)
    except (ValueError, binascii.Error) as error:
        return Rejected(_dead_letter(topic, raw, f"CloudEvent data is not JSON: {error}", now))
    order_id = payload.get("order_id") if isinstance(payload, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    try:
        order = OrderRequest.model_validate(payload)
    except ValidationError as error:
        return Rejected(
            _dead_letter(topic, raw, "invalid order", now, field_errors(error), order_id)
        )
    unknown = unknown_skus([line.sku for line in order.items])
    if unknown:
        errors = [
            FieldError(field=f"items.{index}.sku", message=f"unknown SKU {line.sku}")
            for index, line in enumerate(order.items)
            if line.sku in unknown
        ]
        return Rejected(_dead_letter(topic, raw, "unknown SKU", now, errors, order.order_id))
    return Accepted(order, trace_id or trace_id_of(traceparent))
