"""order-events into the read model: bulk deliveries, per-entry statuses, and the single form."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
from fastapi.testclient import TestClient

from contracts.events import OrderCompleted, OrderEventType, event_id
from contracts.orders import OrderStatus
from orchestrator.channel import build_channel, subscriptions
from orchestrator.deps import Deps
from orchestrator.order_events_feed import bulk_subscribe, read_bulk
from orchestrator.readmodel import ReadModel
from orchestrator.workflows.inputs import OrderPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def completed_envelope(order_id: str) -> dict[str, Any]:
    event = OrderCompleted(
        order_id=order_id, sequence=5, occurred_at=T0, status=OrderStatus.COMPLETED,
        total=Decimal("10.00"),
    )  # fmt: skip
    return {
        "specversion": "1.0",
        "id": event_id(order_id, 5, OrderEventType.COMPLETED),
        "type": event.type.value,
        "data": event.model_dump(mode="json"),
    }


def bulk(*events: Any) -> dict[str, Any]:
    return {
        "id": "b-1",
        "type": "com.dapr.event.sent.bulk",
        "entries": [{"entryId": f"e{i}", "event": event} for i, event in enumerate(events)],
    }


def test_good_entries_are_read_and_bad_ones_are_dropped_with_the_reason() -> None:
    batch = read_bulk(
        bulk(completed_envelope("o-1"), {"id": "x", "data": {"order_id": 1}}, "text", None)
    )
    assert [event.order_id for _, event in batch.events] == ["o-1"]
    assert batch.entry_ids == ["e0"]
    assert batch.dropped.keys() == {"e1", "e2", "e3"}
    assert batch.dropped["e1"].startswith("not an order event")
    assert batch.dropped["e2"] == "not a CloudEvent with an id"


def test_every_entry_gets_a_status_and_a_failed_write_asks_for_redelivery() -> None:
    batch = read_bulk(bulk(completed_envelope("o-1"), {"id": "x", "data": None}))
    assert batch.statuses(applied=True) == {
        "statuses": [{"entryId": "e0", "status": "SUCCESS"}, {"entryId": "e1", "status": "DROP"}]
    }
    assert batch.statuses(applied=False)["statuses"][0] == {"entryId": "e0", "status": "RETRY"}


@pytest.fixture
def channel(tmp_path: Path) -> tuple[TestClient, ReadModel]:
    model = ReadModel(tmp_path / "orders.db")
    deps = Deps(
        workflows=Mock(), dapr=Mock(), read_model=model, catalog=Mock(), is_ready=lambda: True,
        policy=OrderPolicy(), bulk_concurrency=1,
    )  # fmt: skip
    return TestClient(build_channel(deps)), model


def test_the_read_model_subscribes_in_bulk() -> None:
    [sub] = [s for s in subscriptions() if s["topic"] == "order-events"]
    assert sub["bulkSubscribe"] == bulk_subscribe()
    assert sub["bulkSubscribe"]["enabled"] is True


def test_a_bulk_delivery_is_applied_once_even_when_redelivered(
    channel: tuple[TestClient, ReadModel],
) -> None:
    client, model = channel
    body = bulk(completed_envelope("o-1"), completed_envelope("o-2"), {"id": "bad"})
    for _ in range(2):
        response = client.post("/events/order-events", json=body)
        assert response.status_code == 200
        assert [s["status"] for s in response.json()["statuses"]] == ["SUCCESS", "SUCCESS", "DROP"]
    assert sorted(row.order_id for row in model.list()) == ["o-1", "o-2"]
    assert len(model.events("o-1")) == 1


def test_a_failed_write_answers_retry_for_the_batch(
    channel: tuple[TestClient, ReadModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, model = channel

    def disk_full(events: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(model, "apply_many", disk_full)
    response = client.post("/events/order-events", json=bulk(completed_envelope("o-1")))
    assert response.json() == {"statuses": [{"entryId": "e0", "status": "RETRY"}]}


def test_a_single_event_delivery_still_works(channel: tuple[TestClient, ReadModel]) -> None:
    client, model = channel
    response = client.post("/events/order-events", json=completed_envelope("o-3"))
    assert response.json() == {"status": "SUCCESS"}
    assert client.post("/events/order-events", json={"id": "x"}).json() == {"status": "DROP"}
    assert [row.order_id for row in model.list()] == ["o-3"]
