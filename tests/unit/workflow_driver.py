"""Drives a workflow generator with a fake context: the unit-test harness for workflows.

The Dapr SDK has no public test harness. This fake records every activity call, timer and
external-event wait, answers them from the test's handlers, and throws failures into the
generator exactly where a real failed task would surface.
"""

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from dapr.ext.workflow import TaskFailedError


@dataclass
class ActivityCall:
    name: str
    input: Any
    retry_policy: Any = None


@dataclass
class TimerCall:
    fire_at: datetime | timedelta


@dataclass
class AllOf:
    tasks: list[Any]


@dataclass
class AnyOf:
    tasks: list[Any]


class Failure(Exception):
    """Raised by a handler to make the fake fail that activity (as TaskFailedError)."""


@dataclass
class FakeContext:
    instance_id: str = "wf-test"
    current_utc_datetime: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    is_replaying: bool = False
    custom_status: str | None = None
    statuses: list[str] = field(default_factory=list)

    def call_activity(
        self, activity: Any, *, input: Any = None, retry_policy: Any = None, **_: Any
    ) -> ActivityCall:
        name = activity if isinstance(activity, str) else activity.__name__
        return ActivityCall(name, input, retry_policy)

    def create_timer(self, fire_at: datetime | timedelta) -> TimerCall:
        return TimerCall(fire_at)

    def set_custom_status(self, status: str) -> None:
        self.custom_status = status
        self.statuses.append(status)


Handler = Callable[[Any], Any]


@dataclass
class Run:
    output: Any
    calls: list[ActivityCall]
    timers: list[TimerCall]
    context: FakeContext

    def names(self) -> list[str]:
        return [call.name for call in self.calls]


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
    max_steps: int = 10_000,
) -> Run:
    """Runs the generator to completion; `module`'s when_all/when_any are replaced by fakes."""
    ctx = context or FakeContext()
    calls: list[ActivityCall] = []
    timers: list[TimerCall] = []
    if module is not None:
        module.when_all = lambda tasks: AllOf(list(tasks))  # type: ignore[attr-defined]
        module.when_any = lambda tasks: AnyOf(list(tasks))  # type: ignore[attr-defined]

    def resolve(task: Any) -> Any:
        if isinstance(task, ActivityCall):
            calls.append(task)
            return handlers[task.name](task.input)
        if isinstance(task, TimerCall):
            timers.append(task)
            return None
        if isinstance(task, AllOf):
            return [resolve(inner) for inner in task.tasks]
        raise TypeError(f"the workflow yielded something the fake cannot resolve: {task!r}")

    generator = workflow(ctx, workflow_input)
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
        return Run(finished.value, calls, timers, ctx)
