"""An order whose workflow instance the runtime broke (daprd 1.18's NonDeterminismError
after a turn cut short mid-save) is carried on by a recovery instance with its input;
nothing else is recovered, and everything that addresses the order then finds it."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dapr.ext.workflow import WorkflowStatus

from orchestrator import instances
from orchestrator.instances import recovery_instance_id
from orchestrator.orders import get_state
from orchestrator.readmodel import ReadModel
from orchestrator.recovery import MAX_RECOVERIES, OrderRecovery

INPUT = {"order": {"order_id": "o-1"}}


@dataclass
class Details:
    error_type: str
    message: str = "A previous execution called call_activity with ID=17, ..."


@dataclass
class State:
    runtime_status: WorkflowStatus
    failure_details: Details | None = None
    serialized_input: str | None = json.dumps(INPUT)


@dataclass
class FakeWorkflows:
    states: dict[str, State]
    started: list[tuple[str, Any, str]] = field(default_factory=list)

    def get_workflow_state(self, instance_id: str, fetch_payloads: bool = False) -> State | None:
        return self.states.get(instance_id)

    def schedule_new_workflow(self, name: str, *, input: Any, instance_id: str) -> str:
        self.started.append((name, input, instance_id))
        self.states[instance_id] = State(WorkflowStatus.RUNNING)
        return instance_id


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ReadModel]:
    read_model = ReadModel(tmp_path / "orders.db")
    instances.use(read_model.recovery_instance)
    yield read_model
    instances.use(lambda order_id: None)


def _broken() -> State:
    return State(WorkflowStatus.FAILED, Details("NonDeterminismError"))


def test_a_broken_order_goes_on_under_a_recovery_instance_that_everything_finds(
    model: ReadModel,
) -> None:
    workflows = FakeWorkflows({"o-1": _broken()})
    recover = OrderRecovery(lambda: workflows, model)  # type: ignore[arg-type,return-value]
    assert recover("o-1") is True
    assert workflows.started == [("order_workflow", INPUT, recovery_instance_id("o-1", 1))]
    assert instances.current("o-1") == "o-1:recovery-1"
    assert get_state(workflows, "o-1") is workflows.states["o-1:recovery-1"]  # type: ignore[arg-type,comparison-overlap]
    assert recover("o-1") is False, "the recovery instance runs: nothing more to do"


def test_other_failures_and_live_orders_are_left_alone(model: ReadModel) -> None:
    for state in (
        State(WorkflowStatus.FAILED, Details("TaskFailedError")),
        State(WorkflowStatus.RUNNING),
        State(WorkflowStatus.COMPLETED),
    ):
        workflows = FakeWorkflows({"o-1": state})
        assert OrderRecovery(lambda w=workflows: w, model)("o-1") is False  # type: ignore[misc]
        assert workflows.started == []
    assert OrderRecovery(lambda: FakeWorkflows({}), model)("o-1") is False  # type: ignore[arg-type,return-value]


def test_an_order_that_keeps_breaking_is_recovered_a_few_times_only(model: ReadModel) -> None:
    workflows = FakeWorkflows({"o-1": _broken()})
    recover = OrderRecovery(lambda: workflows, model)  # type: ignore[arg-type,return-value]
    outcomes = []
    for _ in range(MAX_RECOVERIES + 1):
        outcomes.append(recover("o-1"))
        workflows.states[instances.current("o-1")] = _broken()  # the new one breaks too
    assert outcomes == [True] * MAX_RECOVERIES + [False]
    assert instances.current("o-1") == recovery_instance_id("o-1", MAX_RECOVERIES)


UNLOADABLE = (
    "<_InactiveRpcError StatusCode.UNKNOWN details = \"workflow 'o-1': inbox key "
    "'inbox-000000' declared in metadata (inboxLength=2) but missing from state store "
    '(transient store read failure or partial save?)">'
)


@dataclass
class UnloadableWorkflows(FakeWorkflows):
    """The first instance's record in the store is inconsistent: every read fails."""

    def get_workflow_state(self, instance_id: str, fetch_payloads: bool = False) -> State | None:
        if instance_id == "o-1":
            raise RuntimeError(UNLOADABLE)
        return super().get_workflow_state(instance_id, fetch_payloads)


def test_an_order_the_runtime_cannot_load_goes_on_from_its_kept_input(model: ReadModel) -> None:
    # Chaos seed 871149833: after kills of the orchestrator and its sidecar, an order's
    # metadata listed an inbox row the store did not have; it stayed unreadable for good.
    model.keep_input("o-1", json.dumps(INPUT))
    workflows = UnloadableWorkflows({})
    recover = OrderRecovery(lambda: workflows, model)  # type: ignore[arg-type,return-value]
    assert recover("o-1") is True
    assert workflows.started == [("order_workflow", INPUT, recovery_instance_id("o-1", 1))]
    assert instances.current("o-1") == "o-1:recovery-1"
    assert recover("o-1") is False, "the recovery instance loads and runs"


def test_without_a_kept_input_or_for_other_read_errors_nothing_is_started(
    model: ReadModel,
) -> None:
    workflows = UnloadableWorkflows({})
    assert OrderRecovery(lambda: workflows, model)("o-1") is False  # type: ignore[arg-type,return-value]

    class Away(FakeWorkflows):
        def get_workflow_state(self, instance_id: str, fetch_payloads: bool = False) -> None:
            raise RuntimeError("StatusCode.UNAVAILABLE: connection refused")

    model.keep_input("o-1", json.dumps(INPUT))
    with pytest.raises(RuntimeError, match="UNAVAILABLE"):
        OrderRecovery(lambda: Away({}), model)("o-1")  # type: ignore[arg-type,return-value]
    assert workflows.started == []


def test_a_purged_order_forgets_its_kept_input(model: ReadModel) -> None:
    model.keep_input("o-1", json.dumps(INPUT))
    model.keep_input("o-1", json.dumps({"later": True}))  # a duplicate start keeps the first
    assert model.started_input("o-1") == json.dumps(INPUT)
    model.forget(["o-1"])
    assert model.started_input("o-1") is None
