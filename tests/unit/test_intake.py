import base64
import json
from datetime import UTC, datetime
from typing import Any

from orchestrator import intake

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KNOWN = {"SKU-A", "SKU-B"}


def _order(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "items": [{"sku": "SKU-A", "quantity": 1}],
        "shipping_address": {
            "name": "Ada",
            "line1": "1 Main St",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "payment_token": "tok_visa",
    }
    order.update(overrides)
    return order


def _decide(
    raw: bytes, traceparent: str | None = None
) -> intake.Accepted | intake.AcceptedBulk | intake.Rejected:
    return intake.decide(
        raw,
        topic="order-requests",
        now=NOW,
        unknown_skus=lambda skus: [s for s in skus if s not in KNOWN],
        traceparent=traceparent,
    )


def test_a_plain_json_order_is_accepted() -> None:
    decision = _decide(json.dumps(_order()).encode())
    assert isinstance(decision, intake.Accepted)
    assert decision.order.order_id == "o-1"


def test_a_cloudevent_order_is_accepted_with_its_trace_id() -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "test",
        "type": "com.orderfleet.order.requested.v1",
        "traceparent": f"00-{trace}-b7ad6b7169203331-01",
        "data": _order(),
    }
    decision = _decide(json.dumps(event).encode())
    assert isinstance(decision, intake.Accepted)
    assert decision.traceparent == f"00-{trace}-b7ad6b7169203331-01"


def test_a_cloudevent_with_base64_data_is_accepted() -> None:
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "t",
        "type": "t",
        "data_base64": base64.b64encode(json.dumps(_order()).encode()).decode(),
    }
    assert isinstance(_decide(json.dumps(event).encode()), intake.Accepted)


def test_not_json_is_dead_lettered_with_the_original_bytes() -> None:
    decision = _decide(b"\xff\xfe not json")
    assert isinstance(decision, intake.Rejected)
    record = decision.dead_letter
    assert record.reason.startswith("not JSON")
    assert record.original_encoding == "base64"
    assert base64.b64decode(record.original) == b"\xff\xfe not json"


def test_missing_fields_are_named() -> None:
    order = _order()
    del order["shipping_address"]
    decision = _decide(json.dumps(order).encode())
    assert isinstance(decision, intake.Rejected)
    assert [e.field for e in decision.dead_letter.errors] == ["shipping_address"]
    assert decision.dead_letter.order_id == "o-1"


def test_negative_quantity_is_named() -> None:
    decision = _decide(json.dumps(_order(items=[{"sku": "SKU-A", "quantity": -1}])).encode())
    assert isinstance(decision, intake.Rejected)
    assert decision.dead_letter.errors[0].field == "items.0.quantity"


def test_unknown_sku_is_named_at_its_line() -> None:
    items = [{"sku": "SKU-A", "quantity": 1}, {"sku": "SKU-NOPE", "quantity": 1}]
    decision = _decide(json.dumps(_order(items=items)).encode())
    assert isinstance(decision, intake.Rejected)
    assert decision.dead_letter.reason == "unknown SKU"
    assert [e.field for e in decision.dead_letter.errors] == ["items.1.sku"]


def test_an_oversized_message_is_dead_lettered_whole_with_its_hash() -> None:
    raw = json.dumps(_order(customer_id="x" * (5 * 1024 * 1024))).encode()
    decision = _decide(raw)
    assert isinstance(decision, intake.Rejected)
    record = decision.dead_letter
    assert "exceeds" in record.reason
    assert record.original_bytes == len(raw)
    assert record.original.encode() == raw
    assert not record.truncated


def test_a_json_array_is_not_an_order() -> None:
    decision = _decide(b"[1, 2]")
    assert isinstance(decision, intake.Rejected)
    assert decision.dead_letter.reason == "not a JSON object"


def test_two_lines_of_the_same_sku_are_refused() -> None:
    items = [{"sku": "SKU-A", "quantity": 1}, {"sku": "SKU-A", "quantity": 2}]
    decision = _decide(json.dumps(_order(items=items)).encode())
    assert isinstance(decision, intake.Rejected)
    assert decision.dead_letter.errors[0].field == "items"
    assert "SKU-A" in decision.dead_letter.errors[0].message


def test_a_bulk_cloudevent_is_accepted_as_a_bulk() -> None:
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "t",
        "type": "com.orderfleet.order.bulk_requested.v1",
        "data": {"bulk_id": "b-1", "orders": [_order(), _order(order_id="o-2")]},
    }
    decision = _decide(json.dumps(event).encode())
    assert isinstance(decision, intake.AcceptedBulk)
    assert [o.order_id for o in decision.bulk.orders] == ["o-1", "o-2"]


def test_a_bulk_with_an_unknown_sku_names_the_order_and_line() -> None:
    orders = [_order(), _order(order_id="o-2", items=[{"sku": "SKU-X", "quantity": 1}])]
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "t",
        "type": "com.orderfleet.order.bulk_requested.v1",
        "data": {"bulk_id": "b-1", "orders": orders},
    }
    decision = _decide(json.dumps(event).encode())
    assert isinstance(decision, intake.Rejected)
    assert [e.field for e in decision.dead_letter.errors] == ["orders.1.items.0.sku"]
