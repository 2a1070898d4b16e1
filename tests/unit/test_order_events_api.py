"""`GET /orders/{id}/events` and the read model's event log behind it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from contracts.events import (
    OrderAccepted,
    OrderCompleted,
    OrderEventType,
    PaymentCharged,
    event_id,
)
from contracts.orders import OrderStatus
from contracts.roles import Role
from orchestrator.api.order_events import order_events_router
from orchestrator.auth import Principal
from orchestrator.readmodel import ReadModel
from tests.unit import asgi

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _accepted(order_id: str) -> OrderAccepted:
    return OrderAccepted(
        order_id=order_id, sequence=1, occurred_at=T0, status=OrderStatus.RUNNING,
        customer_id="cust-9", lines=[], total=Decimal("10.00"),
    )  # fmt: skip


def _charged(order_id: str) -> PaymentCharged:
    return PaymentCharged(
        order_id=order_id, sequence=2, occurred_at=T0 + timedelta(seconds=1),
        status=OrderStatus.RUNNING, amount=Decimal("10.00"), charge_id="ch-1",
    )  # fmt: skip


def _completed(order_id: str) -> OrderCompleted:
    return OrderCompleted(
        order_id=order_id, sequence=3, occurred_at=T0 + timedelta(seconds=2),
        status=OrderStatus.COMPLETED, total=Decimal("10.00"),
    )  # fmt: skip


def _apply(model: ReadModel, *events: OrderAccepted | PaymentCharged | OrderCompleted) -> None:
    for event in events:
        model.apply(event_id(event.order_id, event.sequence, event.type), event)


def test_keeps_each_event_once_in_sequence_order(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    # Delivered out of order and with a redelivery, as Kafka may.
    _apply(model, _completed("o-1"), _accepted("o-1"), _charged("o-1"), _completed("o-1"))
    _apply(model, _accepted("o-2"))

    stored = model.events("o-1")

    assert [e.sequence for e in stored] == [1, 2, 3]
    assert [e.event_id for e in stored] == [
        event_id("o-1", 1, OrderEventType.ACCEPTED),
        event_id("o-1", 2, OrderEventType.PAYMENT_CHARGED),
        event_id("o-1", 3, OrderEventType.COMPLETED),
    ]
    assert PaymentCharged.model_validate_json(stored[1].data) == _charged("o-1")


def test_forgetting_an_order_drops_its_events(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    _apply(model, _accepted("o-1"), _accepted("o-2"))

    model.forget(["o-1"])

    assert model.events("o-1") == []
    assert model.get("o-1") is None
    assert [e.sequence for e in model.events("o-2")] == [1]


OPERATOR = Principal("operator-dev", Role.OPERATOR)


def _get(model: ReadModel, path: str, who: Principal = OPERATOR) -> httpx.Response:
    api = FastAPI()

    def signed_in(request: Request) -> Principal:
        return who

    api.include_router(order_events_router(model, signed_in))
    return asgi.get(api, path)


def test_endpoint_returns_the_orders_events_and_customer(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    _apply(model, _charged("o-1"), _accepted("o-1"))

    response = _get(model, "/orders/o-1/events")

    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == "o-1"
    assert body["customer_id"] == "cust-9"
    assert [(e["sequence"], e["type"]) for e in body["events"]] == [
        (1, OrderEventType.ACCEPTED.value),
        (2, OrderEventType.PAYMENT_CHARGED.value),
    ]
    assert body["events"][1]["id"] == "o-1:2:payment_charged"
    assert body["events"][1]["data"]["charge_id"] == "ch-1"
    assert body["events"][1]["data"]["amount"] == "10.00"


def test_a_client_reads_its_own_customers_events_only(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    _apply(model, _accepted("o-1"))

    assert _get(model, "/orders/o-1/events", Principal("cust-9", Role.CLIENT)).status_code == 200
    other = _get(model, "/orders/o-1/events", Principal("cust-1", Role.CLIENT))
    assert other.status_code == 404


def test_endpoint_is_404_for_an_order_the_read_model_never_saw(tmp_path: Path) -> None:
    response = _get(ReadModel(tmp_path / "orders.db"), "/orders/nope/events")

    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
