from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from contracts.events import OrderCompleted, OrderEventType, PaymentCharged, event_id
from contracts.orders import OrderStatus
from orchestrator.readmodel import STARTED, ReadModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_projection_is_idempotent_and_ignores_out_of_order_events(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    charged = PaymentCharged(
        order_id="o-1", sequence=3, occurred_at=T0, status=OrderStatus.RUNNING,
        amount=Decimal("10.00"), charge_id="c",
    )  # fmt: skip
    completed = OrderCompleted(
        order_id="o-1", sequence=5, occurred_at=T0 + timedelta(seconds=1),
        status=OrderStatus.COMPLETED, total=Decimal("10.00"),
    )  # fmt: skip
    assert model.apply(event_id("o-1", 5, OrderEventType.COMPLETED), completed)
    assert model.apply(event_id("o-1", 3, OrderEventType.PAYMENT_CHARGED), charged)
    assert not model.apply(event_id("o-1", 5, OrderEventType.COMPLETED), completed)

    [row] = model.list()
    assert row.status == "COMPLETED"
    assert row.total == "10.00"
    assert [r.order_id for r in model.list(status="COMPLETED")] == ["o-1"]
    assert model.list(status="RUNNING") == []


def test_a_started_order_is_listed_until_its_first_event_supersedes_it(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    model.note_started("o-1", "c-1", "t" * 32, T0)
    [row] = model.list()
    assert (row.status, row.last_event, row.customer_id) == ("PENDING", STARTED, "c-1")
    completed = OrderCompleted(
        order_id="o-1", sequence=1, occurred_at=T0 + timedelta(seconds=1),
        status=OrderStatus.COMPLETED, total=Decimal("10.00"),
    )  # fmt: skip
    assert model.apply(event_id("o-1", 1, OrderEventType.COMPLETED), completed)
    model.note_started("o-1", "c-1", None, T0 + timedelta(seconds=2))  # late: changes nothing
    [row] = model.list()
    assert (row.status, row.created_at) == ("COMPLETED", T0.replace(tzinfo=None))
    assert row.trace_id == "t" * 32
