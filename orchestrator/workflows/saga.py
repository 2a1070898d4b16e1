"""The saga's compensation stack: undo steps pushed as work succeeds, run in reverse.

An undo step reports what really happened. When one finds that its action can no longer
be undone (a shipment already delivered cannot be cancelled), unwinding stops there
(`TooLateToUndo`): the order rolls forward instead, and the undo steps still on the stack
(the refund, the release) are dropped with it, because the goods are gone.
"""

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext

from contracts.notifications import NotificationKind
from orchestrator.workflows.nudges import Nudges
from orchestrator.workflows.policies import until_success


class TooLateToUndo(Exception):
    """The compensation's action already took effect for good; carry the order forward."""

    def __init__(self, name: str, result: Any) -> None:
        super().__init__(f"{name}: too late to undo")
        self.name = name
        self.result = result


@dataclass(frozen=True)
class Compensation:
    name: str
    activity: Callable[..., Any]
    input: dict[str, Any]
    # Turns the compensation activity's result into the order event to publish, or None
    # when there is nothing to announce; raises TooLateToUndo when it could not undo.
    event: Callable[[Any], dict[str, Any] | None]
    # The customer hears about some undo steps (a refund); most are internal.
    notification: NotificationKind | None = None


class Saga:
    def __init__(self) -> None:
        self._undo: list[Compensation] = []

    def push(self, compensation: Compensation) -> None:
        self._undo.append(compensation)

    def pop_if(self, name: str) -> None:
        """Drops the newest undo step if it is `name` (its action turned out not to happen)."""
        if self._undo and self._undo[-1].name == name:
            self._undo.pop()

    @property
    def pending(self) -> list[str]:
        return [c.name for c in reversed(self._undo)]

    def compensate(
        self,
        ctx: DaprWorkflowContext,
        announce: Callable[[dict[str, Any]], None],
        notify: Callable[[NotificationKind], None],
        nudges: Nudges | None = None,
    ) -> Generator[Any, Any, None]:
        """Runs every undo step, newest first; each is retried until it succeeds. Its
        event and notification go to `announce` and `notify`, to be published with the
        order's outcome. Raises TooLateToUndo (leaving the rest undone) when a step finds
        its action can no longer be undone."""
        while self._undo:
            compensation = self._undo.pop()
            result = yield from until_success(
                ctx, compensation.activity, compensation.input, nudges
            )
            try:
                event = compensation.event(result)
            except TooLateToUndo:
                self._undo.clear()
                raise
            if event is not None:
                announce(event)
            if compensation.notification is not None:
                notify(compensation.notification)
