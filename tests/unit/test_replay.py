"""Recorded histories of real orders replay through today's workflow code (no sidecar).

`make record-histories` records them from a running fleet into `tests/unit/histories/`.
A change to a workflow that would stop an in-flight order from replaying fails here, with
the path and the first step that does not match; the mutated variants below prove it.
"""

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import dapr.ext.workflow as sdk
import pytest

from orchestrator.activities import inventory
from orchestrator.workflows import bulk, doctor, monitor
from orchestrator.workflows import order as order_module
from orchestrator.workflows.patches import FRAUD_CHECK
from replay.history import RecordedHistory, compact, event_type, expand, load_all
from replay.replayer import Replayed, replay
from replay.scenarios import PATHS

HISTORIES = Path(__file__).parent / "histories"
ALL = load_all(HISTORIES)
BY_LABEL = {h.label: h for h in ALL}
OrderStep = Callable[..., Generator[Any, Any, Any]]


def _history(label: str) -> RecordedHistory:
    assert label in BY_LABEL, f"{label} is not recorded: run make record-histories"
    return BY_LABEL[label]


def _schedules(history: RecordedHistory, activity: str) -> bool:
    return any(history.find("taskScheduled", activity))


def _cut_after(history: RecordedHistory, kind: str, name: str, why: str) -> RecordedHistory:
    """The history up to the end of the work item that recorded `kind` `name`: the order
    as it stood, waiting, right after that step."""
    index = next(history.find(kind, name))
    end = next(start for start in history.work_items() if start > index)
    return history.truncated(end, why)


def _waiting_for_approval(history: RecordedHistory) -> RecordedHistory:
    """The order as it stood before the approval decision reached it."""
    decided = next(history.find("eventRaised", "approval_decision"))
    end = max(start for start in history.work_items() if start < decided)
    waiting = history.truncated(end, "awaiting approval")
    assert any("createTimer" in e.get("timerCreated", {}) for e in waiting.events), (
        f"{history.label}: the decision arrived before the order waited for it"
    )
    return waiting


def _failures(histories: list[RecordedHistory]) -> dict[str, Replayed]:
    results = {h.label: replay(h) for h in histories}
    return {label: r for label, r in results.items() if not r.ok}


@pytest.fixture(autouse=True)
def _the_sdks_own_combinators(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replay runs the real code: `workflow_driver.drive(module=...)` leaves its fake
    when_any/when_all on the workflow modules once another test has used it."""
    for module in (order_module, monitor, bulk, doctor):
        for name in ("when_any", "when_all"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, getattr(sdk, name))


# ---- what is recorded


def test_every_path_has_recorded_histories() -> None:
    recorded = {h.path for h in ALL}
    missing = [path for path in PATHS if path not in recorded]
    assert not missing, f"paths without histories (run make record-histories): {missing}"


def test_the_recordings_hold_continue_as_new_generations_and_bulk_children() -> None:
    monitors = [h for h in ALL if h.path == "completed" and h.workflow == "shipment_monitor"]
    assert len(monitors) >= 2, "the delivery monitor continues as new: one file per generation"
    assert [h.complete for h in monitors] == [False] * (len(monitors) - 1) + [True]
    bulk = [h for h in ALL if h.path == "bulk"]
    parents = [h for h in bulk if h.workflow == "bulk_orders"]
    children = [h for h in bulk if h.workflow == "order_workflow"]
    assert len(parents) == 1 and len(children) >= 6
    created = {e["childWorkflowInstanceCreated"]["instanceId"] for e in parents[0].events
               if event_type(e) == "childWorkflowInstanceCreated"}  # fmt: skip
    assert created == {h.instance_id for h in children}


def test_a_stored_history_converts_back_to_the_events_it_was_made_from() -> None:
    for history in ALL:
        for stored in history.events:
            assert compact(expand(stored)) == stored, history.label


def test_the_stored_form_keeps_what_replay_reads_and_drops_the_noise() -> None:
    from dapr.ext.workflow._durabletask.internal import protos as pb
    from google.protobuf import wrappers_pb2

    scheduled = pb.HistoryEvent(
        eventId=4,
        taskScheduled=pb.TaskScheduledEvent(
            name="reserve_line",
            input=wrappers_pb2.StringValue(value='{"sku": "A"}'),
            taskExecutionId="8a79c2d3",
        ),
        router=pb.TaskRouter(sourceAppID="orchestrator"),
    )
    scheduled.timestamp.GetCurrentTime()
    assert compact(scheduled) == {"eventId": 4, "taskScheduled": {"name": "reserve_line"}}
    done = pb.HistoryEvent(
        eventId=-1,
        taskCompleted=pb.TaskCompletedEvent(
            taskScheduledId=4, result=wrappers_pb2.StringValue(value='{"outcome": "reserved"}')
        ),
    )
    assert compact(done) == {
        "eventId": -1,
        "taskCompleted": {"taskScheduledId": 4, "result": {"outcome": "reserved"}},
    }


# ---- today's code replays every recorded history


@pytest.mark.parametrize("history", ALL, ids=[h.label for h in ALL])
def test_a_recorded_history_replays_on_todays_code(history: RecordedHistory) -> None:
    result = replay(history)
    assert result.ok, result.report()
    assert result.completed == history.complete


@pytest.mark.parametrize(
    "in_flight",
    [
        _waiting_for_approval(_history("approval_approved/order")),
        _cut_after(
            _history("completed/order"),
            "childWorkflowInstanceCreated",
            "shipment_monitor",
            "mid-delivery",
        ),
        _cut_after(
            _history("cancel_ship/order"), "taskScheduled", "cancel_shipment", "between undo steps"
        ),
    ],
    ids=lambda h: f"{h.label} ({h.note})",
)
def test_an_order_in_flight_replays_on_todays_code(in_flight: RecordedHistory) -> None:
    result = replay(in_flight)
    assert result.ok, result.report()
    assert not result.completed, f"{in_flight.label} is in flight: the code must be waiting"


def test_every_wait_point_of_every_history_replays() -> None:
    cuts = [h.truncated(end, "in flight") for h in ALL for end in h.work_items()[1:]]
    assert len(cuts) > 100
    failures = _failures(cuts)
    assert not failures, "\n".join(r.report() for r in failures.values())


def _recorded_with_patch(history: RecordedHistory, patch: str) -> RecordedHistory:
    """The history as if its order had started on code that records `patch`."""
    first, *rest = history.events
    started = {**first, "workflowStarted": {"version": {"patches": [patch]}}}
    return replace(history, name=f"{history.name}+{patch}", events=(started, *rest))


def test_the_fraud_check_patch_is_what_keeps_old_orders_on_the_old_path() -> None:
    # Recorded before the patch, the order (1200.00, over the screening threshold) replays
    # unscreened; the same history carrying the patch takes the new path at the charge.
    history = _history("approval_approved/order")
    assert FRAUD_CHECK not in json.dumps(history.events)
    assert replay(history).ok
    result = replay(_recorded_with_patch(history, FRAUD_CHECK))
    assert not result.ok
    assert "expected activity 'charge_payment'" in str(result.mismatch)
    assert "the code scheduled activity 'screen_payment'" in str(result.mismatch)


# ---- a changed workflow does not: deliberately mutated copies


@pytest.fixture
def fraud_check_before_charge(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A new activity: an unguarded fraud check ahead of the charge."""
    charge: OrderStep = order_module.OrderFlow.charge

    def mutated(self: order_module.OrderFlow, quote: Any) -> Generator[Any, Any, Any]:
        yield self.ctx.call_activity("fraud_check", input={"order_id": self.order.order_id})
        return (yield from charge(self, quote))

    monkeypatch.setattr(order_module.OrderFlow, "charge", mutated)
    yield


@pytest.fixture
def ship_before_charge(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A reordered step: the shipment is created before the charge."""
    charge: OrderStep = order_module.OrderFlow.charge
    ship: OrderStep = order_module.OrderFlow.ship
    early: dict[int, Any] = {}

    def charge_after_shipping(self: order_module.OrderFlow, quote: Any) -> Generator[Any, Any, Any]:
        early[id(self)] = yield from ship(self)
        return (yield from charge(self, quote))

    def shipped_already(self: order_module.OrderFlow) -> Generator[Any, Any, Any]:
        return early.pop(id(self))
        yield  # a generator, as the step it replaces

    monkeypatch.setattr(order_module.OrderFlow, "charge", charge_after_shipping)
    monkeypatch.setattr(order_module.OrderFlow, "ship", shipped_already)
    yield


@pytest.fixture
def approval_waits_twice_as_long(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A changed timer: the approval deadline (and the delivery deadline) doubled."""
    real = timedelta
    monkeypatch.setattr(order_module, "timedelta", lambda seconds: real(seconds=2 * seconds))
    yield


@pytest.fixture
def survey_after_delivery(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A new last step: an activity after the delivery, before the order completes."""
    deliver: OrderStep = order_module.OrderFlow.deliver

    def mutated(
        self: order_module.OrderFlow, quote: Any, shipment: Any
    ) -> Generator[Any, Any, Any]:
        result = yield from deliver(self, quote, shipment)
        yield self.ctx.call_activity("send_survey", input={"order_id": self.order.order_id})
        return result

    monkeypatch.setattr(order_module.OrderFlow, "deliver", mutated)
    yield


@pytest.mark.usefixtures("fraud_check_before_charge")
def test_a_new_activity_fails_the_replay_of_every_order_that_reached_the_charge() -> None:
    orders = [h for h in ALL if h.workflow == "order_workflow"]
    failures = _failures(orders)
    # The charge step: the charge, and before it the fraud screening (a declined one
    # never charges).
    paying = {
        h.label
        for h in orders
        if _schedules(h, "charge_payment") or _schedules(h, "screen_payment")
    }
    assert set(failures) == paying
    report = failures["completed/order"].report()
    assert report.startswith("completed/order (order_workflow ")
    assert "expected activity 'charge_payment' (task 6) at history event" in report
    assert "the code scheduled activity 'fraud_check' (task 6)" in report


@pytest.mark.usefixtures("ship_before_charge")
def test_a_reordered_step_fails_the_replay() -> None:
    result = replay(_history("approval_approved/order"))
    assert not result.ok
    assert "expected activity 'charge_payment'" in str(result.mismatch)
    assert "the code scheduled activity 'create_shipment'" in str(result.mismatch)
    assert result.report().startswith("approval_approved/order ")


def test_an_activity_started_alongside_a_step_fails_the_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call: Callable[..., Any] = order_module.OrderFlow.call

    def call_and_audit(self: order_module.OrderFlow, activity: Any, request: Any) -> Any:
        task = call(self, activity, request)
        if activity is inventory.reserve_line:
            self.ctx.call_activity("audit_reservation", input=request.model_dump(mode="json"))
        return task

    monkeypatch.setattr(order_module.OrderFlow, "call", call_and_audit)
    result = replay(_history("completed/order"))
    assert result.mismatch is not None
    assert str(result.mismatch).startswith(
        "expected the work item to end (the history records no more actions in it) at history "
    )
    assert "the code also scheduled activity 'audit_reservation'" in str(result.mismatch)
    assert result.history.events[result.mismatch.index].get("workflowStarted") == {}


@pytest.mark.usefixtures("approval_waits_twice_as_long")
def test_a_changed_timer_fails_the_replay() -> None:
    result = replay(_history("approval_timeout/order"))
    assert not result.ok
    assert result.mismatch is not None
    assert result.mismatch.expected.startswith("a timer firing at ")
    assert result.mismatch.actual.startswith("created a timer firing at ")
    assert result.mismatch.expected[len("a ") :] != result.mismatch.actual[len("created a ") :]


@pytest.mark.usefixtures("survey_after_delivery")
def test_a_step_added_at_the_end_fails_the_replay_of_a_finished_order_only() -> None:
    completed = replay(_history("completed/order"))
    assert not completed.ok
    assert str(completed.mismatch).startswith("expected the workflow to end COMPLETED")
    assert "the code scheduled activity 'send_survey'" in str(completed.mismatch)
    # An order still waiting for its delivery takes the new step when it gets there.
    history = _history("completed/order")
    in_flight = _cut_after(history, "childWorkflowInstanceCreated", "shipment_monitor", "delivery")
    assert replay(in_flight).ok


@pytest.mark.usefixtures("fraud_check_before_charge")
def test_an_order_waiting_for_approval_is_unaffected_by_a_change_after_its_wait() -> None:
    history = _history("approval_approved/order")
    # The fraud check comes after the approval: the waiting order has not met it yet...
    assert replay(_waiting_for_approval(history)).ok
    # ...while the same order replayed to its end meets it where the charge was.
    assert not replay(history).ok


def test_an_order_waiting_for_approval_fails_on_a_change_before_its_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reserve: OrderStep = order_module.OrderFlow.reserve

    def check_first(self: order_module.OrderFlow) -> Generator[Any, Any, Any]:
        yield self.ctx.call_activity("fraud_check", input={"order_id": self.order.order_id})
        return (yield from reserve(self))

    monkeypatch.setattr(order_module.OrderFlow, "reserve", check_first)
    waiting = _waiting_for_approval(_history("approval_approved/order"))
    result = replay(waiting)
    assert not result.ok
    assert "expected activity 'reserve_line'" in result.report()
    assert result.report().startswith("approval_approved/order[:")
