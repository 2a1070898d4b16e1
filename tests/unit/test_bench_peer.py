"""The bench's Temporal peer: the same saga, step for step, as the fleet's (no processes).

The saga is driven through a fake engine that answers as the services do; what it must
show is the fleet's activity count and order, the fleet's events, and the fleet's result.
"""

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio import activity as temporal_activity

from bench import floor, report
from bench.peer import activities, policies, runtime, saga, workflows
from bench.peer.phase import saga_input
from bench.schedule import Profile
from contracts.events import OrderEventType
from contracts.notifications import NotificationKind
from fleet.runner import health
from fleet.runner.specs import ProcessSpec
from orchestrator.activities.events import notification_cloudevent, order_cloudevent
from orchestrator.workflows.inputs import MonitorInput, OrderWorkflowInput
from orchestrator.workflows.policies import COMPENSATION_RETRY, STEP_RETRY

SKU = "BENCH-PEER"
STEP_S = 2.0  # SHIPPING_STEP_SECONDS: in transit after 2 s, delivered after 4 s


class FakeEngine:
    """Answers each activity as the fleet's services do for a one-line tok_visa DE order."""

    def __init__(self, charge: str = "charged") -> None:
        self.clock = datetime(2026, 1, 1, 12, 0, 0)
        self.calls: list[tuple[str, dict[str, Any], bool]] = []
        self.generations = 0
        self._charge = charge
        self._shipped_at: datetime | None = None

    def now(self) -> datetime:
        return self.clock

    async def call(self, activity: str, request: dict[str, Any], *, until_success: bool) -> Any:
        self.calls.append((activity, request, until_success))
        self.clock += timedelta(milliseconds=10)
        order_id = request.get("order_id", "")
        match activity:
            case saga.QUOTE:
                line = {"sku": SKU, "name": "x", "quantity": 1, "unit_price": "9.90",
                        "line_total": "9.90"}  # fmt: skip
                return {"order_id": order_id, "ok": True, "lines": [line], "total": "9.90"}
            case saga.RESERVE:
                return {"order_id": order_id, "sku": SKU, "quantity": 1, "outcome": "reserved"}
            case saga.CHARGE:
                charge_id = "ch_1" if self._charge == "charged" else None
                return {"order_id": order_id, "outcome": self._charge, "amount": "9.90",
                        "charge_id": charge_id, "reason": None}  # fmt: skip
            case saga.CREATE_SHIPMENT:
                self._shipped_at = self.clock
                return self._shipment(order_id)
            case saga.STATUS:
                return self._shipment(order_id)
            case _:
                return {}

    def _shipment(self, order_id: str) -> dict[str, Any]:
        assert self._shipped_at is not None
        age = (self.clock - self._shipped_at).total_seconds()
        state = (
            "label_created" if age < STEP_S else "in_transit" if age < 2 * STEP_S else "delivered"
        )
        step = timedelta(seconds=STEP_S)
        next_at = (
            None if state == "delivered" else self._shipped_at + step * (1 + int(age // STEP_S))
        )
        return {"order_id": order_id, "state": state, "shipment_id": "sh_1",
                "next_update_at": next_at.isoformat() if next_at else None}  # fmt: skip

    async def sleep_until(self, moment: datetime) -> None:
        self.clock = max(self.clock, moment)

    async def monitor(self, watch: MonitorInput) -> dict[str, Any]:
        # Continue-as-new, as the Temporal monitor does: one generation after another.
        while True:
            self.generations += 1
            outcome = await saga.monitor_generation(self, watch)
            if not isinstance(outcome, MonitorInput):
                return outcome.model_dump(mode="json")
            watch = MonitorInput.model_validate(outcome.model_dump(mode="json"))


def _run(engine: FakeEngine, key: str = "peer-1-r1-s1-00001") -> dict[str, Any]:
    workflow_input = OrderWorkflowInput.model_validate(saga_input(key, SKU))
    return asyncio.run(saga.OrderSaga(engine, workflow_input).run())


def _published(engine: FakeEngine) -> list[dict[str, Any]]:
    return [request for name, request, _ in engine.calls if name == saga.PUBLISH]


def test_the_peer_runs_as_many_activities_as_the_dapr_saga_and_in_its_order() -> None:
    engine = FakeEngine()
    _run(engine)
    names = [name for name, _, _ in engine.calls]
    assert len(names) == floor.saga_activity_count(floor.DEFAULT_POLLS) == 11
    # bench/floor.py names the saga's steps "<activity> (what it publishes)".
    assert names[:7] == [step.split()[0] for step in floor.SAGA_BEFORE_MONITOR]
    # Look (in transit), announce shipped; look (delivered); announce it: in the order
    # itself, as the fleet's order does (WATCH_IN_ORDER), so no monitor is started.
    assert names[7:] == [saga.STATUS, saga.PUBLISH, saga.STATUS, saga.PUBLISH]
    assert engine.generations == 0
    # The Dapr floor marks "sync" at the activity that publishes shipment_created.
    sync_batch = engine.calls[floor.SYNC_MARK - 1][1]
    assert OrderEventType.SHIPMENT_CREATED.value in [e["type"] for e in sync_batch["events"]]


def test_the_peer_publishes_the_fleets_events_with_gap_free_sequences() -> None:
    engine = FakeEngine()
    _run(engine)
    events = [event for batch in _published(engine) for event in batch["events"]]
    assert [e["type"] for e in events] == [
        OrderEventType.ACCEPTED, OrderEventType.STOCK_RESERVED, OrderEventType.PAYMENT_CHARGED,
        OrderEventType.SHIPMENT_CREATED, OrderEventType.SHIPPED, OrderEventType.DELIVERED,
        OrderEventType.COMPLETED,
    ]  # fmt: skip
    assert [e["sequence"] for e in events] == list(range(1, 8))
    assert events[-1]["status"] == "COMPLETED" and events[-2]["status"] == "RUNNING"
    notifications = [n for batch in _published(engine) for n in batch["notifications"]]
    assert [n["kind"] for n in notifications] == [
        NotificationKind.ORDER_CONFIRMED, NotificationKind.SHIPPED, NotificationKind.DELIVERED
    ]  # fmt: skip
    # What the fleet's publish activity turns into CloudEvents, unchanged.
    assert {order_cloudevent(e)["subject"] for e in events} == {"peer-1-r1-s1-00001"}
    assert all(notification_cloudevent(n)["type"] for n in notifications)


def test_the_peer_returns_the_fleets_order_result() -> None:
    result = _run(FakeEngine())
    assert result == {
        "order_id": "peer-1-r1-s1-00001",
        "status": "COMPLETED",
        "total": "9.90",
        "failure_reason": None,
    }


def test_announcements_and_the_commit_retry_until_they_succeed_and_steps_do_not() -> None:
    engine = FakeEngine()
    _run(engine)
    for name, _, until_success in engine.calls:
        assert until_success == (name in (saga.PUBLISH, saga.COMMIT)), name


def test_off_the_happy_path_the_peer_announces_a_failure_and_ships_nothing() -> None:
    engine = FakeEngine(charge="declined")
    result = _run(engine)
    assert result["status"] == "FAILED" and "declined" in result["failure_reason"]
    assert saga.CREATE_SHIPMENT not in [name for name, _, _ in engine.calls]
    last = _published(engine)[-1]["events"]
    assert [e["type"] for e in last] == [OrderEventType.FAILED]
    assert last[0]["sequence"] == 3  # after accepted and stock_reserved


def test_the_temporal_retry_policies_are_the_fleets() -> None:
    assert policies.STEP.initial_interval == STEP_RETRY.first_retry_interval
    assert policies.STEP.maximum_attempts == STEP_RETRY.max_number_of_attempts == 10
    assert policies.STEP.maximum_interval == STEP_RETRY.max_retry_interval
    assert policies.UNTIL_SUCCESS.initial_interval == COMPENSATION_RETRY.first_retry_interval
    assert policies.UNTIL_SUCCESS.maximum_attempts == 0  # no limit


def test_the_peer_registers_the_fleets_activities_under_their_names() -> None:
    names = set()
    for fn in activities.saga_activities():
        definition = temporal_activity._Definition.from_callable(fn)
        assert definition is not None
        names.add(definition.name)
    expected = {saga.QUOTE, saga.RESERVE, saga.CHARGE, saga.CREATE_SHIPMENT, saga.COMMIT,
                saga.STATUS, saga.PUBLISH}  # fmt: skip
    assert names == expected
    assert workflows.ORDER_WORKFLOW != workflows.FLOOR_WORKFLOW


def test_the_dev_server_listens_on_loopback_headless_with_its_database_given() -> None:
    ports = runtime.ServerPorts(41001, 41002, 41003)
    argv = runtime.server_argv(Path("/c/temporal"), ports, Path("/d/temporal.db"))
    assert argv[:3] == ["/c/temporal", "server", "start-dev"]
    assert "--headless" in argv
    assert argv[argv.index("--ip") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "41001"
    assert argv[argv.index("--db-filename") + 1] == "/d/temporal.db"
    assert ports.address == "127.0.0.1:41001"
    # The fleet's own SQLite durability settings, not the dev server's rollback journal.
    assert "journal_mode=wal" in argv and "synchronous=normal" in argv


def test_the_worker_talks_to_the_orchestrators_sidecar() -> None:
    env = {"DAPR_API_TOKEN": "t", "DAPR_GRPC_PORT": "50101", "APP_API_TOKEN": "secret",
           "READ_MODEL_PATH": "/x"}  # fmt: skip
    spec = ProcessSpec("orchestrator", "app", 2, ("python",), (), health.tcp(1), env=env)
    assert runtime.orchestrator_client_env([spec]) == {
        "DAPR_API_TOKEN": "t",
        "DAPR_GRPC_PORT": "50101",
    }


def _step(workload: str, offered: float, done: float, p99: float) -> dict[str, Any]:
    latency = {"p50": p99 / 2, "p95": p99, "p99": p99, "mean": p99 / 2, "max": p99}
    return {
        "workload": workload, "step": 1, "offered_per_s": offered, "duration_s": 15.0,
        "sent": 15, "completed": 15, "errors": 0, "error_kinds": {}, "throughput_per_s": done,
        "window_rate_per_s": done, "latency_ms": latency,
        "sync_latency_ms": {k: v / 20 for k, v in latency.items()}, "latency_trend_ms": 0.0,
        "max_send_lag_ms": 0.4, "runtime": {}, "processes": {}, "disturbed": {},
    }  # fmt: skip


def test_latest_json_reports_the_peer_and_the_ratios(tmp_path: Path) -> None:
    fleet = [_step("fleet", 4, 4.0, 4400), _step("fleet", 8, 6.0, 9000)]
    dapr_floor = [_step("floor", 8, 8.0, 300), _step("floor", 16, 12.0, 900)]
    peer = [_step("peer", 4, 4.0, 4300), _step("peer", 8, 8.0, 4400), _step("peer", 12, 9.0, 8000)]
    peer_floor = [_step("peer-floor", 8, 8.0, 200), _step("peer-floor", 24, 18.0, 900)]
    figures = report.run_figures(fleet, dapr_floor, peer, peer_floor)
    run = {"run": 1, "figures": figures, "fleet": {}, "floor": {}, "peer": {}, "peer_floor": {},
           "fleet_steps": fleet, "floor_steps": dapr_floor, "peer_steps": peer,
           "peer_floor_steps": peer_floor}  # fmt: skip
    info = {"name": "temporal", "version": {"cli": "1.5.1", "sdk": "1.35.0"}}
    summary = report.build_summary([run], {"quick": True, "peer": info}, {"cpus": 2})
    assert summary["peer_saga_per_s"] == 9.0 and summary["peer_floor_per_s"] == 18.0
    assert summary["peer"] == info
    assert summary["fleet_to_peer_ratio"] == round(6.0 / 9.0, 3)
    assert summary["peer_to_peer_floor_ratio"] == 0.5
    assert summary["peer_p99_ms_at_80pct"] == 4300  # 80% of 9 is 7.2: the 4/s step
    assert len(summary["peer_steps"]) == 3 and len(summary["peer_floor_steps"]) == 2
    files = report.write_all(summary, tmp_path, "stamp")
    text = (tmp_path / files["md"]).read_text()
    # 80% of the Temporal floor's 18/s: its 8/s step, p99 200 ms and 10 ms to the mark.
    assert "| Temporal floor (no-op activities) | 18.0 | 8.0 | 8/s | 200 ms | 10.0 ms |" in text
    assert "## Side by side" in text and "## Temporal saga" in text


def test_without_a_peer_latest_json_has_no_peer_fields() -> None:
    figures = report.run_figures([_step("fleet", 4, 4.0, 1)], [_step("floor", 4, 4.0, 1)])
    assert not any(name.startswith("peer") for name in figures)


def test_the_peer_ladders_come_with_the_profile() -> None:
    profile = Profile((1.0, 4.0), (1.0, 4.0, 12.0), 10, 5, 2, 1, 30, 10, peer_rates=(1.0, 4.0))
    assert [s.rate for s in profile.peer_steps()] == [1.0, 4.0]
    assert profile.peer_floor_steps() == []
    assert profile.planned_orders() == 2 * (10 + 40)
    assert Decimal(saga_input("k-1", SKU)["policy"]["approval_threshold"]) == Decimal("1000.00")
