from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from contracts.events import OrderCompleted, ShipmentCreated, event_id
from contracts.orders import OrderStatus
from orchestrator.readmodel import ReadModel
from orchestrator.timer_sweeper import sweep

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_only_quiet_deliveries_get_their_monitor_nudged(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    for order_id, age_s in (("quiet", 120), ("fresh", 5)):
        created = ShipmentCreated(
            order_id=order_id,
            sequence=4,
            occurred_at=NOW - timedelta(seconds=age_s),
            status=OrderStatus.RUNNING,
            shipment_id="s",
        )
        model.apply(event_id(order_id, 4, created.type), created)
    done = OrderCompleted(
        order_id="done",
        sequence=7,
        occurred_at=NOW - timedelta(seconds=600),
        status=OrderStatus.COMPLETED,
        total=Decimal("1.00"),
    )
    model.apply(event_id("done", 7, done.type), done)

    nudged: list[tuple[str, str]] = []
    count = sweep(model, lambda i, e, d: nudged.append((i, e)), now=NOW, quiet_s=30)
    assert count == 1
    assert nudged == [("quiet:monitor", "nudge")]
