"""The chaos load plan and fault schedule: seeded, complete, and safe for the fleet."""

import json
from collections import Counter

import pytest

from chaos import faults, load
from chaos.model import Behaviour
from fleet import topology


def test_the_plan_is_reproducible_from_its_seed() -> None:
    assert load.build_plan(60, 7, "r1") == load.build_plan(60, 7, "r1")
    assert load.build_plan(60, 7, "r1").orders != load.build_plan(60, 8, "r1").orders


@pytest.mark.parametrize("orders", [6, 40, 1000])
def test_every_behaviour_is_in_the_load_and_no_order_waits_for_approval(orders: int) -> None:
    plan = load.build_plan(orders, 3, "r1")
    assert len(plan.orders) == orders
    assert {o.behaviour for o in plan.orders} == set(Behaviour)
    assert max(o.total for o in plan.orders) < load.APPROVAL_THRESHOLD
    assert all(o.order_id.startswith(plan.prefix) for o in plan.orders)


def test_over_stock_orders_ask_for_more_than_the_scarce_sku_ever_had() -> None:
    plan = load.build_plan(200, 5, "r1")
    scarce = plan.skus[-1]
    over = [o for o in plan.orders if o.behaviour == Behaviour.OVER_STOCK]
    assert over
    for order in over:
        [line] = [line for line in order.lines if line.sku == scarce.sku]
        assert line.quantity > scarce.stock


def test_regular_skus_hold_every_unit_the_plan_asks_for() -> None:
    plan = load.build_plan(200, 5, "r1")
    demand: Counter[str] = Counter()
    for order in plan.orders:
        for line in order.lines:
            demand[line.sku] += line.quantity
    for sku in plan.skus[:-1]:
        assert sku.stock >= demand[sku.sku]


def test_each_order_is_published_once_and_the_duplicate_after_it() -> None:
    plan = load.build_plan(40, 2, "r1")
    refs = [(m.kind, m.ref) for m in plan.messages]
    assert Counter(kind for kind, _ in refs) == {
        "order": 40,
        "malformed": len(plan.malformed),
        "duplicate": 1,
    }
    assert refs.index(("order", plan.duplicate_of)) < refs.index(("duplicate", plan.duplicate_of))
    key, body = load.render(plan, next(m for m in plan.messages if m.kind == "duplicate"))
    message = json.loads(body)
    assert key == plan.duplicate_of
    assert (message.get("data") or message)["order_id"] == plan.duplicate_of


def test_malformed_markers_are_unique_and_none_contains_another() -> None:
    plan = load.build_plan(1000, 1, "r1")
    markers = [m.marker for m in plan.malformed]
    assert len(markers) >= len(load.MALFORMED_KINDS)
    assert not [(a, b) for a in markers for b in markers if a != b and a in b]
    assert {m.kind for m in plan.malformed} == set(load.MALFORMED_KINDS)
    for bad in plan.malformed:
        assert bad.marker.encode() in bad.raw


def test_the_schedule_is_reproducible_and_covers_every_kind_when_it_can() -> None:
    assert faults.schedule(20, 9) == faults.schedule(20, 9)
    kinds = {(f.action, f.target) for f in faults.schedule(20, 9)}
    assert kinds == set(faults.fault_kinds())
    assert len(faults.schedule(4, 9)) == 4
    assert len({(f.action, f.target) for f in faults.schedule(4, 9)}) == 4


def test_pauses_outlast_the_invocation_timeout() -> None:
    stops = [f for f in faults.schedule(40, 1) if f.action == faults.Action.STOP]
    assert stops and all(f.hold_s > 10 for f in stops)
    assert {f.target for f in stops} <= set(faults.STOP_TARGETS)


def test_a_finding_can_be_replayed_with_named_faults_in_order() -> None:
    wanted = [faults.parse_kind("kill placement"), faults.parse_kind("stop payment")]
    replay = faults.schedule(0, 4, kinds_wanted=wanted)
    assert [f.label for f in replay] == ["kill placement", "stop payment"]
    assert replay[1].hold_s == faults.STOP_S


@pytest.mark.parametrize("label", ["kill zipkin", "stop payment-dapr", "pause payment", "kill"])
def test_unknown_fault_kinds_are_refused(label: str) -> None:
    with pytest.raises(ValueError, match="no fault"):
        faults.parse_kind(label)


def test_a_seed_draws_the_schedule_it_always_drew_on_one_replica() -> None:
    # Seed 450456881 of issue 15: a replay must meet the same faults in the same order.
    labels = [f.label for f in faults.schedule(20, 450456881)]
    assert labels[:3] == ["kill notifications-dapr", "kill shipping", "kill shipping-dapr"]
    assert labels[17] == "kill orchestrator"


def test_a_scaled_schedule_hits_single_replicas_the_database_and_rolls_every_app() -> None:
    scaled = topology.Profile(replicas=2)
    schedule = faults.schedule(20, 3, profile=scaled)
    labels = {f.label for f in schedule}
    assert {"kill postgres", "restart apps"} <= labels
    assert len(schedule) == 20
    targets = set(faults.kill_targets(scaled))
    assert {"orchestrator-1", "orchestrator-1-dapr", "payment-1-dapr", "postgres"} <= targets
    assert "orchestrator-1" not in faults.kill_targets(), "one replica: replica 0 only"
    assert faults.parse_kind("stop payment-1", scaled) == (faults.Action.STOP, "payment-1")
