"""`fleet order watch`: an order's steps as they happen, until it ends.

On a terminal: a compact block redrawn in place (status, the workflow's steps, the latest
records). In a pipe or a log: one plain line per step. With --json: the order as one JSON
object per line, each time it changes.
"""

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, Protocol, TextIO

from contracts.api import OrderView
from contracts.orders import OrderStatus, Step, StepRecord
from fleet import console

Mode = Literal["live", "plain", "json"]
Fetch = Callable[[str], OrderView | None]

# The order workflow's steps in the order it runs them (orchestrator/workflows/order.py).
WORKFLOW_STEPS = (
    Step.QUOTE,
    Step.RESERVE,
    Step.APPROVAL,
    Step.CHARGE,
    Step.SHIP,
    Step.DELIVER,
    Step.COMPLETE,
)
RECENT = 6  # records shown in the live block; the plain and JSON modes show them all
POLL_S = 0.5  # the refresh interval of the view


def _current(view: OrderView) -> str | None:
    return Step.COMPLETE.value if view.status == OrderStatus.COMPLETED else view.step


def _outcome_colour(view: OrderView) -> str:
    if view.status == OrderStatus.COMPLETED:
        return "green"
    return "red" if view.status.is_terminal else "yellow"


def step_strip(view: OrderView) -> str:
    """`quote ✓  reserve ✓  approval ●  charge ·  …`: done, current, skipped (~), to come."""
    visited = {record.step for record in view.history}
    current = _current(view)
    main = [step.value for step in WORKFLOW_STEPS]
    steps = list(main)
    if Step.COMPENSATE.value in visited:
        steps.append(Step.COMPENSATE.value)
    parts = []
    for index, step in enumerate(steps):
        if step == current:
            parts.append(f"{step} " + console.paint("●", _outcome_colour(view)))
        elif step in visited:
            parts.append(f"{step} " + console.paint("✓", "green"))
        elif step != Step.COMPENSATE and any(s in visited for s in main[index + 1 :]):
            parts.append(console.paint(f"{step} ~", "dim"))  # skipped: under the threshold
        else:
            parts.append(console.paint(f"{step} ·", "dim"))
    return "  ".join(parts)


def _record(record: StepRecord, precise: bool) -> str:
    at = f"{record.at:%H:%M:%S.%f}"[:-3] if precise else f"{record.at:%H:%M:%S}"
    return f"{at}  {record.step}" + (f" ({record.detail})" if record.detail else "")


def plain_line(record: StepRecord) -> str:
    return _record(record, precise=False)


def final_line(view: OrderView) -> str:
    reason = f" {view.failure_reason}" if view.failure_reason else ""
    return console.paint(view.status.value, _outcome_colour(view)) + reason


def _elapsed(view: OrderView, now: datetime) -> str:
    if view.created_at is None:
        return ""
    created = view.created_at if view.created_at.tzinfo else view.created_at.replace(tzinfo=UTC)
    return f"  {(now - created).total_seconds():.1f}s"


def live_block(view: OrderView, now: datetime) -> list[str]:
    status = console.paint(view.status.value, _outcome_colour(view))
    head = (
        f"{console.paint(view.order_id, 'bold')}  {status}"
        f"  step {view.step or '-'}  total {view.total if view.total is not None else '-'}"
        f"{_elapsed(view, now)}"
    )
    lines = [head, f"  {step_strip(view)}"]
    hidden = len(view.history) - RECENT
    if hidden > 0:
        lines.append(console.paint(f"  … {hidden} earlier", "dim"))
    lines += [f"  {_record(record, precise=True)}" for record in view.history[-RECENT:]]
    if view.failure_reason:
        lines.append(f"  reason: {view.failure_reason}")
    return lines


class _View(Protocol):
    def update(self, view: OrderView | None) -> None: ...
    def finish(self, view: OrderView) -> None: ...


class _Plain:
    def __init__(self, order_id: str, out: TextIO) -> None:
        self._order_id, self._out, self._shown, self._waiting = order_id, out, 0, False

    def update(self, view: OrderView | None) -> None:
        if view is None:
            if not self._waiting:
                print(f"waiting for order {self._order_id} …", file=self._out, flush=True)
            self._waiting = True
            return
        for record in view.history[self._shown :]:
            print(plain_line(record), file=self._out, flush=True)
        self._shown = len(view.history)

    def finish(self, view: OrderView) -> None:
        self.update(view)
        print(final_line(view), file=self._out, flush=True)


class _Json:
    def __init__(self, out: TextIO) -> None:
        self._out, self._last = out, ""

    def update(self, view: OrderView | None) -> None:
        text = view.model_dump_json() if view else ""
        if text and text != self._last:
            print(text, file=self._out, flush=True)
            self._last = text

    def finish(self, view: OrderView) -> None:
        self.update(view)


class _Live:
    def __init__(self, order_id: str, out: TextIO) -> None:
        self._order_id, self._block = order_id, console.LiveBlock(out)

    def update(self, view: OrderView | None) -> None:
        now = datetime.now(UTC)
        self._block.show(
            live_block(view, now) if view else [f"waiting for order {self._order_id} …"]
        )

    def finish(self, view: OrderView) -> None:
        self.update(view)


def watch(
    order_id: str,
    *,
    fetch: Fetch,
    mode: Mode,
    timeout: float,
    out: TextIO | None = None,
    poll_s: float = POLL_S,
) -> int:
    stream = out or sys.stdout
    shown: _View = (
        _Json(stream)
        if mode == "json"
        else _Live(order_id, stream)
        if mode == "live"
        else _Plain(order_id, stream)
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = fetch(order_id)
        if view is not None and view.status.is_terminal:
            shown.finish(view)
            return 0
        shown.update(view)
        time.sleep(poll_s)  # the refresh interval of a live view, not a wait for a condition
    console.error(f"timed out after {timeout:g}s waiting for order {order_id} to finish")
    return 1
