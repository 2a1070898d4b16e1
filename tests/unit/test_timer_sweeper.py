import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from contracts.events import (
    ApprovalRequested,
    OrderCompleted,
    ShipmentCreated,
    StockReserved,
    event_id,
)
from contracts.orders import OrderStatus
from orchestrator.readmodel import ReadModel
from orchestrator.timer_sweeper import nudge_due, sweep

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def await_approval(model: ReadModel, order_id: str, since: datetime, until: datetime) -> None:
    """Projects an ApprovalRequested event: the order waits for a decision until `until`."""
    requested = ApprovalRequested(
        order_id=order_id,
        sequence=3,
        occurred_at=since,
        status=OrderStatus.AWAITING_APPROVAL,
        total=Decimal("5000.00"),
        threshold=Decimal("1000.00"),
        expires_at=until,
    )
    model.apply(event_id(order_id, 3, requested.type), requested)


def test_quiet_orders_are_nudged_and_in_delivery_their_monitor_too(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    for order_id, age_s in (("quiet", 125), ("fresh", 5)):
        created = ShipmentCreated(
            order_id=order_id,
            sequence=4,
            occurred_at=NOW - timedelta(seconds=age_s),
            status=OrderStatus.RUNNING,
            shipment_id="s",
        )
        model.apply(event_id(order_id, 4, created.type), created)
    reserved = StockReserved(
        order_id="stalled",
        sequence=2,
        occurred_at=(NOW - timedelta(seconds=35)).replace(tzinfo=None),  # workflow clock
        status=OrderStatus.RUNNING,
        reserved={"SKU": 1},
    )
    model.apply(event_id("stalled", 2, reserved.type), reserved)
    await_approval(model, "waiting", NOW - timedelta(seconds=600), NOW + timedelta(hours=20))
    done = OrderCompleted(
        order_id="done",
        sequence=7,
        occurred_at=NOW - timedelta(seconds=600),
        status=OrderStatus.COMPLETED,
        total=Decimal("1.00"),
    )
    model.apply(event_id("done", 7, done.type), done)

    nudged: list[tuple[str, str]] = []
    count = sweep(model, lambda i, e, d: nudged.append((i, e)), now=NOW, quiet_s=30, every_s=15)
    assert count == 3
    assert sorted(nudged) == [
        ("quiet", "nudge"),
        ("quiet:monitor", "nudge"),
        ("stalled", "nudge"),
    ]


def test_an_order_that_stays_quiet_is_nudged_at_doubling_intervals_then_every_15_min() -> None:
    sweeps = [15.0 * n for n in range(1, 400)]  # 100 minutes of sweeps, 15 s apart
    nudges = [age for age in sweeps if nudge_due(age, quiet_s=30, every_s=15)]
    assert nudges[:5] == [30, 60, 120, 240, 480]
    assert all(b - a == 900 for a, b in itertools.pairwise(nudges[5:]))
    assert len(nudges) == 11, "not every one of the 399 sweeps"


def test_an_order_that_started_but_announced_nothing_is_nudged_when_quiet(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    model.note_started("stuck-at-quote", "c", None, NOW - timedelta(seconds=35))
    model.note_started("just-started", "c", None, NOW - timedelta(seconds=2))
    nudged: list[str] = []
    sweep(model, lambda i, e, d: nudged.append(i), now=NOW, quiet_s=30, every_s=15)
    assert nudged == ["stuck-at-quote"]


def test_an_order_still_awaiting_approval_after_its_deadline_is_nudged(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    for order_id, expires_in_s in (("lost-timer", -35), ("in-time", 3600)):
        await_approval(
            model, order_id, NOW - timedelta(hours=1), NOW + timedelta(seconds=expires_in_s)
        )
    assert sorted(o for o, _ in model.awaiting_approval()) == ["in-time", "lost-timer"]
    nudged: list[str] = []
    sweep(model, lambda i, e, d: nudged.append(i), now=NOW, quiet_s=30, every_s=15)
    assert nudged == ["lost-timer"]


def test_a_quiet_order_the_runtime_broke_is_recovered_not_nudged(tmp_path: Path) -> None:
    model = ReadModel(tmp_path / "orders.db")
    reserved = StockReserved(
        order_id="broken", sequence=2, occurred_at=NOW - timedelta(seconds=125),
        status=OrderStatus.RUNNING, reserved={"A": 1},
    )  # fmt: skip
    model.apply(event_id("broken", 2, reserved.type), reserved)
    raised: list[str] = []
    recovered: list[str] = []

    def recover(order_id: str) -> bool:
        recovered.append(order_id)
        return True

    sweep(
        model,
        lambda instance, name, data: raised.append(instance),
        now=NOW,
        quiet_s=30,
        every_s=200,
        recover=recover,
    )
    assert recovered == ["broken"] and raised == []


def test_an_order_is_looked_at_once_when_its_terminal_event_is_quiet_s_old(
    tmp_path: Path,
) -> None:
    # Chaos seed 245718875: the instance failed (NonDeterminismError) in the turn after it
    # published `compensated`; the read model said COMPENSATED, so no sweep looked again.
    model = ReadModel(tmp_path / "orders.db")
    for order_id, age_s in (("just-now", 5), ("due", 35), ("long-ago", 600)):
        done = OrderCompleted(
            order_id=order_id, sequence=7, occurred_at=NOW - timedelta(seconds=age_s),
            status=OrderStatus.COMPLETED, total=Decimal("9.90"),
        )  # fmt: skip
        model.apply(event_id(order_id, 7, done.type), done)
    looked: list[str] = []
    raised: list[str] = []

    def recover(order_id: str) -> bool:
        looked.append(order_id)
        return False

    def one_sweep(at: datetime) -> None:
        sweep(model, lambda instance, name, data: raised.append(instance), now=at,
              quiet_s=30, every_s=15, recover=recover)  # fmt: skip

    one_sweep(NOW)
    assert looked == ["due"] and raised == []
    one_sweep(NOW + timedelta(seconds=15))
    assert looked == ["due", "due"], "the window overlaps the next sweep by half of one"
    one_sweep(NOW + timedelta(seconds=30))
    assert looked == ["due", "due", "just-now"]
