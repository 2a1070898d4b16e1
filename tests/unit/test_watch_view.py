"""`fleet order watch`: live block on a terminal, plain lines in a pipe, JSON lines on request."""

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from contracts.api import OrderView
from contracts.orders import OrderStatus, StepRecord
from fleet import watch_view

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def view(status: OrderStatus, *steps: str, reason: str | None = None) -> OrderView:
    history = [
        StepRecord(
            step=step, at=T0 + timedelta(seconds=i), detail="x" if step == "charge" else None
        )
        for i, step in enumerate(steps)
    ]
    return OrderView(
        order_id="ord-1", status=status, step=steps[-1] if steps else None, history=history,
        total=Decimal("1200.00"), created_at=T0, failure_reason=reason,
    )  # fmt: skip


RUN = [
    None,  # not known to the workflow engine yet
    view(OrderStatus.RUNNING, "quote"),
    view(OrderStatus.RUNNING, "quote"),
    view(OrderStatus.AWAITING_APPROVAL, "quote", "reserve", "approval"),
    view(
        OrderStatus.COMPLETED,
        "quote",
        "reserve",
        "approval",
        "charge",
        "ship",
        "deliver",
        "complete",
    ),
]


def fetcher(views: list[OrderView | None]) -> watch_view.Fetch:
    answers: Iterator[OrderView | None] = iter(views)
    return lambda order_id: next(answers)


def test_plain_mode_prints_each_step_once_then_the_outcome() -> None:
    out = io.StringIO()

    code = watch_view.watch("ord-1", fetch=fetcher(RUN), mode="plain", timeout=5, out=out, poll_s=0)

    assert code == 0
    assert out.getvalue().splitlines() == [
        "waiting for order ord-1 …",
        "12:00:00  quote",
        "12:00:01  reserve",
        "12:00:02  approval",
        "12:00:03  charge (x)",
        "12:00:04  ship",
        "12:00:05  deliver",
        "12:00:06  complete",
        "COMPLETED",
    ]


def test_json_mode_prints_the_order_each_time_it_changes() -> None:
    out = io.StringIO()

    watch_view.watch("ord-1", fetch=fetcher(RUN), mode="json", timeout=5, out=out, poll_s=0)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(v["status"], len(v["history"])) for v in lines] == [
        ("RUNNING", 1),
        ("AWAITING_APPROVAL", 3),
        ("COMPLETED", 7),
    ]


def test_live_mode_redraws_one_compact_block() -> None:
    out = Terminal()

    watch_view.watch("ord-1", fetch=fetcher(RUN), mode="live", timeout=5, out=out, poll_s=0)

    frames = out.getvalue().split("\033[J")[1:]
    assert len(frames) == len(RUN)
    last = frames[-1].splitlines()
    assert last[0].startswith("ord-1  COMPLETED  step complete  total 1200.00")
    assert last[1] == "  quote ✓  reserve ✓  approval ✓  charge ✓  ship ✓  deliver ✓  complete ●"
    assert last[2] == "  … 1 earlier"  # only the latest records stay on screen
    assert last[-1] == "  12:00:06.000  complete"


def test_the_step_strip_marks_skipped_steps_and_compensation() -> None:
    unwound = view(OrderStatus.COMPENSATED, "quote", "reserve", "charge", "compensate")

    assert watch_view.step_strip(unwound) == (
        "quote ✓  reserve ✓  approval ~  charge ✓  ship ·  deliver ·  complete ·  compensate ●"
    )


def test_gives_up_after_the_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    code = watch_view.watch(
        "ord-1",
        fetch=lambda order_id: None,
        mode="plain",
        timeout=0.05,
        out=io.StringIO(),
        poll_s=0.01,
    )

    assert code == 1
    assert "timed out after 0.05s waiting for order ord-1" in capsys.readouterr().err


def test_colour_follows_the_output_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm")
    finished = view(OrderStatus.COMPLETED, "quote", "complete")

    assert watch_view.final_line(finished) == "COMPLETED"  # pytest's stdout is not a terminal
    monkeypatch.setattr("sys.stdout", Terminal())
    assert watch_view.final_line(finished) == "\033[32mCOMPLETED\033[0m"
