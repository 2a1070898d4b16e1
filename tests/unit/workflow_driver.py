"""Drives a workflow generator with a fake context: the unit-test harness for workflows.

The Dapr SDK has no public test harness. This fake records every activity call, timer,
child workflow and external-event wait, answers them from the test's handlers, and throws
failures into the generator exactly where a real failed task would surface. For
`when_any`, a pending external event wins first, then work (activities, children,
`when_all`), then timers; `interrupts` lets an event win over a named activity instead.
"""

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from dapr.ext.workflow import TaskFailedError


@dataclass(eq=False)
class FakeTask:
    result: Any = None
    error: Exception | None = None

    def get_result(self) -> Any:
        # As in durabletask: a task that failed raises its error when its result is read.
        if self.error is not None:
            raise self.error
        return self.result


@dataclass(eq=False)
class ActivityCall(FakeTask):
    name: str = ""
    input: Any = None
    retry_policy: Any = None


@dataclass(eq=False)
class ChildCall(FakeTask):
    name: str = ""
    input: Any = None
    instance_id: str | None = None


@dataclass(eq=False)
class TimerCall(FakeTask):
    fire_at: datetime | timedelta | None = None


@dataclass(eq=False)
class EventWait(FakeTask):
    name: str = ""


@dataclass(eq=False)
class AllOf(FakeTask):
    tasks: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class AnyOf(FakeTask):
    tasks: list[Any] = field(default_factory=list)


class Failure(Exception):
    """Raised by a handler to make the fake fail that task (as TaskFailedError)."""


@dataclass
class FakeContext:
    instance_id: str = "wf-test"
    # Naive UTC, as the SDK's clock is: comparing it with an aware time raises, as it does
    # in a real workflow.
    current_utc_datetime: datetime = datetime(2026, 1, 1)
    is_replaying: bool = False
    custom_status: str | None = None
    statuses: list[str] = field(default_factory=list)
    continued_with: Any = None
    # Patches the workflow runs with (a new order: all of them); `unpatched` names those an
    # order that started on older code replays without.
    unpatched: frozenset[str] = frozenset()
    patches_asked: list[str] = field(default_factory=list)

    def call_activity(
        self, activity: Any, *, input: Any = None, retry_policy: Any = None, **_: Any
    ) -> ActivityCall:
        name = activity if isinstance(activity, str) else activity.__name__
        return ActivityCall(name=name, input=input, retry_policy=retry_policy)

    def call_child_workflow(
        self, workflow: Any, *, input: Any = None, instance_id: str | None = None, **_: Any
    ) -> ChildCall:
        name = workflow if isinstance(workflow, str) else workflow.__name__
        return ChildCall(name=name, input=input, instance_id=instance_id)

    def create_timer(self, fire_at: datetime | timedelta) -> TimerCall:
        return TimerCall(fire_at=fire_at)

    def wait_for_external_event(self, name: str) -> EventWait:
        return EventWait(name=name)

    def is_patched(self, name: str) -> bool:
        self.patches_asked.append(name)
        return name not in self.unpatched

    def set_custom_status(self, status: str) -> None:
        self.custom_status = status
        self.statuses.append(status)

    def continue_as_new(self, new_input: Any, *, save_events: bool = False) -> None:
        self.continued_with = new_input


Handler = Callable[[Any], Any]


@dataclass
class Run:
    output: Any
    calls: list[ActivityCall]
    timers: list[TimerCall]
    children: list[ChildCall]
    context: FakeContext
    restarts: int = 0

    def names(self) -> list[str]:
        return [call.name for call in self.calls]

    def work(self) -> list[str]:
        """The activities called, publishes left out."""
        return [name for name in self.names() if name != "publish_outbound"]

    def published_events(self) -> list[dict[str, Any]]:
        """Every order event of every successful publish, in publish order."""
        return [e for batch in self._batches() for e in batch["events"]]

    def published_notifications(self) -> list[dict[str, Any]]:
        return [n for batch in self._batches() for n in batch["notifications"]]

    def _batches(self) -> list[dict[str, Any]]:
        return [c.input for c in self.calls if c.name == "publish_outbound" and c.error is None]


def _failed(message: str) -> TaskFailedError:
    error = TaskFailedError.__new__(TaskFailedError)
    Exception.__init__(error, message)
    return error


def drive(
    workflow: Callable[..., Generator[Any, Any, Any]],
    workflow_input: Any,
    handlers: dict[str, Handler],
    *,
    module: ModuleType | None = None,
    context: FakeContext | None = None,
    events: dict[str, Any] | None = None,
    interrupts: dict[str, str] | None = None,
    raise_after: dict[str, str] | None = None,
    clock_step: timedelta = timedelta(seconds=1),
    max_steps: int = 10_000,
    max_restarts: int = 100,
) -> Run:
    """Runs the generator to completion (following continue_as_new).

    `events`: external events already raised (name -> payload), consumed when awaited.
    `interrupts`: activity name -> event name; when a when_any holds that activity and
    that event, the event wins (e.g. a cancel arriving while a charge is in flight).
    `raise_after`: activity name -> event name raised (payload {}) once that activity has
    completed for the first time (`name#n`: the n-th time).
    Each resolved task advances the fake clock by `clock_step`.
    """
    ctx = context or FakeContext()
    pending_events = dict(events or {})
    interrupts = dict(interrupts or {})
    raise_after = dict(raise_after or {})
    completed: dict[str, int] = {}
    calls: list[ActivityCall] = []
    timers: list[TimerCall] = []
    children: list[ChildCall] = []
    patched = _patch_combinators(module)

    def tick() -> None:
        ctx.current_utc_datetime += clock_step

    def resolve(task: Any) -> Any:
        tick()
        if isinstance(task, ActivityCall):
            calls.append(task)
            task.result = handlers[task.name](task.input)
            completed[task.name] = completed.get(task.name, 0) + 1
            for key in (task.name, f"{task.name}#{completed[task.name]}"):
                if key in raise_after:
                    pending_events.setdefault(raise_after.pop(key), {})
        elif isinstance(task, ChildCall):
            children.append(task)
            task.result = handlers[task.name](task.input)
        elif isinstance(task, TimerCall):
            timers.append(task)
            if isinstance(task.fire_at, timedelta):
                ctx.current_utc_datetime += task.fire_at
            elif task.fire_at is not None and task.fire_at > ctx.current_utc_datetime:
                ctx.current_utc_datetime = task.fire_at
        elif isinstance(task, EventWait):
            if task.name not in pending_events:
                raise AssertionError(f"the workflow waits for event {task.name!r}, never raised")
            task.result = pending_events.pop(task.name)
        elif isinstance(task, AllOf):
            task.result = [resolve(inner) for inner in task.tasks]
        elif isinstance(task, AnyOf):
            # when_any completes with the first finished task, failed or not; the failure
            # surfaces only when the workflow reads that task's result.
            winner = _winner(task.tasks)
            try:
                resolve(winner)
            except Failure as failure:
                winner.error = _failed(str(failure))
            return winner
        else:
            raise TypeError(f"the workflow yielded something the fake cannot resolve: {task!r}")
        return task.result

    def _winner(tasks: list[Any]) -> Any:
        waits = {t.name: t for t in tasks if isinstance(t, EventWait)}
        for task in tasks:
            if isinstance(task, ActivityCall) and interrupts.get(task.name) in waits:
                event = interrupts.pop(task.name)
                pending_events.setdefault(event, None)
                return waits[event]
        for name, wait in waits.items():
            if name in pending_events:
                return wait
        for task in tasks:
            if isinstance(task, ActivityCall | ChildCall | AllOf):
                return task
        for task in tasks:
            if isinstance(task, TimerCall):
                return task
        raise AssertionError(f"when_any over {tasks!r} could never complete")

    try:
        return _run_to_end(workflow, workflow_input, resolve, ctx, calls, timers, children,
                           max_steps=max_steps, max_restarts=max_restarts)  # fmt: skip
    finally:
        for target, name, original in patched:
            setattr(target, name, original)


def _patch_combinators(module: ModuleType | None) -> list[tuple[ModuleType, str, Any]]:
    """Swaps the SDK's when_any/when_all for the fake's in every workflow module (and
    `module`); returns what to put back."""
    import orchestrator.workflows.bulk
    import orchestrator.workflows.monitor
    import orchestrator.workflows.order
    import orchestrator.workflows.policies

    targets = {
        orchestrator.workflows.bulk, orchestrator.workflows.monitor,
        orchestrator.workflows.order, orchestrator.workflows.policies,
    }  # fmt: skip
    if module is not None:
        targets.add(module)
    fakes = {
        "when_all": lambda tasks: AllOf(tasks=list(tasks)),
        "when_any": lambda tasks: AnyOf(tasks=list(tasks)),
    }
    patched = []
    for target in targets:
        for name, fake in fakes.items():
            if hasattr(target, name):
                patched.append((target, name, getattr(target, name)))
                setattr(target, name, fake)
    return patched


def _run_to_end(  # type: ignore[no-untyped-def]
    workflow, workflow_input, resolve, ctx, calls, timers, children, *, max_steps, max_restarts
) -> Run:
    restarts = 0
    current_input = workflow_input
    while True:
        ctx.continued_with = None
        generator = workflow(ctx, current_input)
        try:
            task = next(generator)
            for _ in range(max_steps):
                try:
                    result = resolve(task)
                except Failure as failure:
                    task = generator.throw(_failed(str(failure)))
                else:
                    task = generator.send(result)
            raise AssertionError(f"workflow did not finish within {max_steps} steps")
        except StopIteration as finished:
            if ctx.continued_with is None:
                return Run(finished.value, calls, timers, children, ctx, restarts)
            restarts += 1
            if restarts > max_restarts:
                raise AssertionError("the workflow continued as new too many times") from None
            current_input = ctx.continued_with
