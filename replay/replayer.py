"""Replays a recorded history through today's workflow code, with no sidecar.

The events go, one by one, through the SDK's own orchestration executor
(`_OrchestrationExecutor.process_event`, the code the worker runs for every work item),
with the workflows registered exactly as the app registers them
(`orchestrator.runtime.build_runtime`). Every event is replayed as history
(`is_replaying` is true, `is_patched` answers from the recorded patches): the situation of
an in-flight order when a new release picks it up, at whatever point it was recorded.

Before the executor sees an event the workflow's code caused (an activity scheduled, a
timer or a child workflow created, the workflow completed), the replayer compares it with
what today's code asked for under the same sequence number: the activity's or child's
name, the timer's kind and fire time, the completion's status. At the start of each work
item, and at the end of the history, nothing the code asked for may be missing from it.
The first difference is the result: the history event's position, what the history holds
and what the code did. The SDK's own checks (it raises on a changed activity name, not on
a changed timer or an extra action at the end) stay in place behind these.

What is deliberately not compared: activity and child workflow inputs and the workflow's
output. Replay never re-sends them (results come from the history), so changing them
cannot stop an in-flight order; the unit tests of each workflow cover what they contain.
The SDK's tolerance for indefinite external-event waits (their optional timers may be
added or dropped) is kept, since the runtime tolerates them too.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from typing import Any, cast

from dapr.ext.workflow._durabletask import task, worker
from dapr.ext.workflow._durabletask.internal import protos as pb
from dapr.ext.workflow._durabletask.internal import timer as timers
from google.protobuf import timestamp_pb2

from replay.history import RecordedHistory

_LOGGER = logging.getLogger("replay.sdk")
_ACTION_EVENTS = ("taskScheduled", "timerCreated", "childWorkflowInstanceCreated")


@cache
def app_registry() -> worker._Registry:
    """The registry the orchestrator's worker runs with: `build_runtime()`'s, unchanged."""
    from orchestrator.runtime import build_runtime

    runtime = build_runtime()  # registers only; it connects to nothing until start()
    # The SDK keeps the worker (and its registry) private; 1.18.3 is pinned in the lock.
    registry: worker._Registry = runtime._WorkflowRuntime__worker._registry  # type: ignore[attr-defined]
    return registry


@dataclass(frozen=True)
class Mismatch:
    index: int  # the history event where code and history part ways (len(events): the end)
    expected: str  # what the history holds there
    actual: str  # what today's code did instead
    event: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"expected {self.expected} at history event {self.index}, the code {self.actual}"


@dataclass(frozen=True)
class Replayed:
    history: RecordedHistory
    mismatch: Mismatch | None
    completed: bool  # today's code completed the workflow
    status: str | None  # with this status (COMPLETED, FAILED, ...)

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    def report(self) -> str:
        """The failure as the test prints it: path, instance, the first step that differs."""
        if self.mismatch is None:
            return f"{self.history.label}: replays"
        h, m = self.history, self.mismatch
        lines = [f"{h.label} ({h.workflow} {h.instance_id!r}) does not replay on today's code: {m}"]
        if m.event is not None:
            lines.append(f"  history event {m.index}: {json.dumps(m.event)[:300]}")
        return "\n".join(lines)


# ---- describing actions and events in words


def _when(ts: timestamp_pb2.Timestamp) -> str:
    if timers.is_optional_timer_event(
        pb.HistoryEvent(timerCreated=pb.TimerCreatedEvent(fireAt=ts))
    ):
        return "never (an indefinite wait)"
    return ts.ToDatetime(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _timer_words(
    origin: str | None, event_name: str, fire_at: timestamp_pb2.Timestamp, task_id: int
) -> str:
    if origin == "externalEvent":
        if _when(fire_at).startswith("never"):
            return f"the wait for event {event_name!r} (task {task_id})"
        return f"the timeout of event {event_name!r} at {_when(fire_at)} (task {task_id})"
    if origin == "activityRetry":
        return f"an activity retry timer firing at {_when(fire_at)} (task {task_id})"
    if origin == "childWorkflowRetry":
        return f"a child workflow retry timer firing at {_when(fire_at)} (task {task_id})"
    return f"a timer firing at {_when(fire_at)} (task {task_id})"


def _status(status: object) -> str:
    # The SDK annotates statuses as the enum's wrapper class; they are its int values.
    name: str = pb.OrchestrationStatus.Name(cast(Any, status))
    return name.removeprefix("ORCHESTRATION_STATUS_")


def expected_words(event: pb.HistoryEvent) -> str:
    kind = event.WhichOneof("eventType")
    if kind == "taskScheduled":
        return f"activity {event.taskScheduled.name!r} (task {event.eventId})"
    if kind == "timerCreated":
        timer = event.timerCreated
        return _timer_words(
            timer.WhichOneof("origin"), timer.externalEvent.name, timer.fireAt, event.eventId
        )
    if kind == "childWorkflowInstanceCreated":
        child = event.childWorkflowInstanceCreated
        return f"child workflow {child.name!r} {child.instanceId!r} (task {event.eventId})"
    if kind == "executionCompleted":
        return f"the workflow to end {_status(event.executionCompleted.workflowStatus)}"
    return str(kind)


def action_words(action: pb.WorkflowAction) -> str:
    kind = action.WhichOneof("workflowActionType")
    if kind == "scheduleTask":
        return f"scheduled activity {action.scheduleTask.name!r} (task {action.id})"
    if kind == "createTimer":
        timer = action.createTimer
        if timers.is_optional_timer_action(action):
            return f"waited for event {timer.externalEvent.name!r} (task {action.id})"
        origin = timer.WhichOneof("origin")
        return "created " + _timer_words(origin, timer.externalEvent.name, timer.fireAt, action.id)
    if kind == "createChildWorkflow":
        child = action.createChildWorkflow
        return f"started child workflow {child.name!r} {child.instanceId!r} (task {action.id})"
    if kind == "completeWorkflow":
        done = action.completeWorkflow
        words = f"ended the workflow {_status(done.workflowStatus)}"
        if done.HasField("failureDetails"):
            failure = done.failureDetails
            words += f" ({failure.errorType}: {failure.errorMessage})"
        return words
    return f"did {kind}"


def _timer_signature(timer: pb.CreateTimerAction | pb.TimerCreatedEvent) -> tuple[Any, ...]:
    origin = timer.WhichOneof("origin")
    name = timer.externalEvent.name if origin == "externalEvent" else None
    return ("timer", origin, name, timer.fireAt.seconds, timer.fireAt.nanos)


def _event_signature(event: pb.HistoryEvent) -> tuple[Any, ...]:
    """What must be equal between a recorded action event and the code's action."""
    kind = event.WhichOneof("eventType")
    if kind == "taskScheduled":
        return ("activity", event.taskScheduled.name)
    if kind == "childWorkflowInstanceCreated":
        child = event.childWorkflowInstanceCreated
        return ("child", child.name, child.instanceId)
    if kind == "executionCompleted":
        return ("end", event.executionCompleted.workflowStatus)
    if kind == "timerCreated":
        return _timer_signature(event.timerCreated)
    return (kind,)


def _action_signature(action: pb.WorkflowAction) -> tuple[Any, ...]:
    kind = action.WhichOneof("workflowActionType")
    if kind == "scheduleTask":
        return ("activity", action.scheduleTask.name)
    if kind == "createChildWorkflow":
        return ("child", action.createChildWorkflow.name, action.createChildWorkflow.instanceId)
    if kind == "completeWorkflow":
        return ("end", action.completeWorkflow.workflowStatus)
    if kind == "createTimer":
        return _timer_signature(action.createTimer)
    return (kind,)


# ---- the replay


class _Replay:
    def __init__(self, history: RecordedHistory, registry: worker._Registry) -> None:
        self.history = history
        self.events = history.proto_events()
        self.executor = worker._OrchestrationExecutor(registry, _LOGGER)
        self.ctx = worker._RuntimeOrchestrationContext(history.instance_id)
        self.ctx._is_replaying = True

    def pending(self) -> list[pb.WorkflowAction]:
        """What the code asked for that the history has not confirmed (optional timers of
        indefinite waits aside: the SDK lets those come and go)."""
        actions = sorted(self.ctx._pending_actions.values(), key=lambda a: a.id)
        return [a for a in actions if not timers.is_optional_timer_action(a)]

    def what_the_code_did(self, task_id: int | None = None) -> str:
        if task_id is not None and task_id in self.ctx._pending_actions:
            return action_words(self.ctx._pending_actions[task_id])
        pending = self.pending()
        if pending:
            return action_words(pending[0])
        status = self.ctx._completion_status
        if self.ctx._is_complete and status is not None:
            return f"had already ended the workflow {_status(status)}"
        return "did nothing there: it was still waiting"

    def mismatch(self, index: int, expected: str, actual: str) -> Mismatch:
        stored = self.history.events[index] if index < len(self.history.events) else None
        return Mismatch(index=index, expected=expected, actual=actual, event=stored)

    def check_action(self, index: int, event: pb.HistoryEvent) -> Mismatch | None:
        kind = event.WhichOneof("eventType")
        task_id = event.eventId
        pending = self.ctx._pending_actions.get(task_id)
        # The SDK's tolerance for indefinite waits, mirrored: an optional timer the code
        # added is dropped (ids shift down); one the history holds and the code lacks is
        # ignored.
        optional_event = kind == "timerCreated" and timers.is_optional_timer_event(event)
        if pending is not None and timers.is_optional_timer_action(pending) and not optional_event:
            self.ctx._drop_optional_pending_at(task_id)
            pending = self.ctx._pending_actions.get(task_id)
        if optional_event and (pending is None or not timers.is_optional_timer_action(pending)):
            return None
        if pending is None or _action_signature(pending) != _event_signature(event):
            return self.mismatch(index, expected_words(event), self.what_the_code_did(task_id))
        return None

    def check_end(self, index: int, event: pb.HistoryEvent) -> Mismatch | None:
        if self.ctx._is_complete:
            action = next(
                (a for a in self.ctx._pending_actions.values() if a.HasField("completeWorkflow")),
                None,
            )
            if action is not None and _action_signature(action) == _event_signature(event):
                return None
        return self.mismatch(index, expected_words(event), self.what_the_code_did())

    def run(self) -> Mismatch | None:
        for index, event in enumerate(self.events):
            kind = event.WhichOneof("eventType")
            if kind == "workflowStarted" and index > 0:
                leftover = self.pending()
                if leftover:
                    return self.mismatch(
                        index,
                        "the work item to end (the history records no more actions in it)",
                        f"also {action_words(leftover[0])}",
                    )
            if kind in _ACTION_EVENTS:
                found = self.check_action(index, event)
                if found is not None:
                    return found
            if kind == "executionCompleted":
                return self.check_end(index, event)  # the SDK never reads this event
            try:
                self.executor.process_event(self.ctx, event)
            except task.NonDeterminismError as error:
                return self.mismatch(index, expected_words(event), f"failed to replay: {error}")
            except Exception as error:
                # What the worker does with an exception from the workflow's code: the
                # workflow fails; the next action the history holds shows the difference.
                self.ctx.set_failed(error)
        leftover = self.pending()
        if leftover:
            return self.mismatch(
                len(self.events),
                "the workflow to wait (the recorded history ends there)",
                action_words(leftover[0]),
            )
        return None


def replay(history: RecordedHistory, registry: worker._Registry | None = None) -> Replayed:
    """Replays `history` through today's code (the app's registry unless one is given)."""
    run = _Replay(history, registry if registry is not None else app_registry())
    found = run.run()
    status = run.ctx._completion_status
    return Replayed(
        history=history,
        mismatch=found,
        completed=run.ctx._is_complete,
        status=_status(status) if status is not None else None,
    )
