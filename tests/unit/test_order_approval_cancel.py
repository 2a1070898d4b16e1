"""Approval, cancel and delivery monitoring in the order workflow, with a fake context."""

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.approvals import APPROVAL_EVENT, CANCEL_EVENT
from contracts.orders import OrderStatus
from orchestrator.workflows import monitor as monitor_module
from orchestrator.workflows import order as order_module
from orchestrator.workflows.nudges import NUDGE_EVENT
from orchestrator.workflows.patches import NUDGE_EVERY_WAIT
from tests.unit.test_order_workflow import ORDER, _events, _handlers, _work
from tests.unit.workflow_driver import ActivityCall, Failure, FakeContext, Run, drive

LOW_THRESHOLD = {"approval_threshold": "20.00", "approval_timeout_s": 3600}


def _run(policy: dict[str, Any] | None = None, **kwargs: Any) -> Run:
    return drive(
        order_module.order_workflow,
        {"order": ORDER, "trace_id": None, "policy": policy or {}},
        _handlers(),
        module=order_module,
        **kwargs,
    )


def _notifications(run: Run) -> list[str]:
    return [n["kind"] for n in run.published_notifications()]


def test_an_order_below_the_threshold_never_waits_for_approval() -> None:
    run = _run()
    assert "approval_requested" not in _events(run)
    assert run.output["status"] == OrderStatus.COMPLETED


def test_an_approved_order_waits_then_continues_the_saga() -> None:
    decision = {"order_id": "o-1", "approved": True, "approver": "alice"}
    run = _run(LOW_THRESHOLD, events={APPROVAL_EVENT: decision})
    assert _events(run)[:4] == ["accepted", "stock_reserved", "approval_requested", "approved"]
    assert _notifications(run)[0] == "approval_requested"
    assert any('"AWAITING_APPROVAL"' in s for s in run.context.statuses)
    assert run.output["status"] == OrderStatus.COMPLETED


def test_a_rejected_order_ends_rejected_with_nothing_reserved_or_charged() -> None:
    decision = {"order_id": "o-1", "approved": False, "approver": "bob", "reason": "too big"}
    run = _run(LOW_THRESHOLD, events={APPROVAL_EVENT: decision})
    assert "charge_payment" not in run.names()
    assert _work(run)[-1] == "release_stock"
    assert run.output["status"] == OrderStatus.REJECTED
    assert run.output["failure_reason"] == "rejected by bob: too big"


def test_an_approval_that_times_out_cancels_and_releases_everything() -> None:
    run = _run(LOW_THRESHOLD)
    [timeout] = run.timers
    assert isinstance(timeout.fire_at, datetime)
    waited = timeout.fire_at - datetime(2026, 1, 1)
    assert timedelta(seconds=3600) < waited < timedelta(seconds=3660)
    assert _work(run)[-1] == "release_stock"
    assert "charge_payment" not in run.names()
    assert run.output["status"] == OrderStatus.CANCELLED
    assert "timed out" in run.output["failure_reason"]
    assert _notifications(run)[-1] == "cancelled"


def test_a_cancel_while_charging_refunds_and_releases_in_reverse() -> None:
    run = _run(interrupts={"charge_payment": CANCEL_EVENT})
    assert _work(run)[-2:] == ["refund_payment", "release_stock"]
    assert "create_shipment" not in run.names()
    assert run.output["status"] == OrderStatus.CANCELLED
    assert _events(run)[-1] == "cancelled"


def test_a_cancel_raised_before_the_order_starts_cancels_it_with_nothing_to_undo() -> None:
    run = _run(events={CANCEL_EVENT: {"reason": "changed my mind"}})
    assert _work(run) == []
    assert run.output == {
        "order_id": "o-1",
        "status": "CANCELLED",
        "total": None,
        "failure_reason": "changed my mind",
    }


def test_a_cancel_during_delivery_is_not_possible() -> None:
    run = _run(interrupts={"commit_stock": CANCEL_EVENT})
    # commit_stock is not a cancellable step: the shipment already exists.
    assert run.output["status"] == OrderStatus.COMPLETED


START = datetime(2026, 1, 1, tzinfo=UTC)


class _CountingContext(FakeContext):
    def __init__(self) -> None:
        super().__init__()
        self.issued: list[str] = []

    def call_activity(self, activity: Any, **kwargs: Any) -> ActivityCall:
        call = super().call_activity(activity, **kwargs)
        self.issued.append(call.name)
        return call


def test_a_nudge_issues_the_current_step_again_and_the_order_completes() -> None:
    # A nudge already raised wins over the first quote (whose result never comes, as when
    # Dapr drops it): the step is issued again, once, and the order goes on.
    context = _CountingContext()
    run = _run(events={"nudge": {}}, context=context)
    assert context.issued.count("quote_order") == 2
    assert context.issued.count("charge_payment") == 1
    assert run.output["status"] == OrderStatus.COMPLETED


def _monitor(
    states: list[str] | list[tuple[str, datetime | None]],
    deadline_s: float = 100,
    events: dict[str, Any] | None = None,
    look_at: datetime | None = None,
) -> Run:
    replies = iter(state if isinstance(state, tuple) else (state, None) for state in states)

    def status(request: dict[str, Any]) -> dict[str, Any]:
        state, estimate = next(replies)
        return {"order_id": request["order_id"], "state": state, "next_update_at": estimate}

    return drive(
        monitor_module.shipment_monitor,
        {
            "order_id": "o-1",
            "customer_id": "c-1",
            "shipment_id": "shp_1",
            "deadline": (START + timedelta(seconds=deadline_s)).isoformat(),
            "poll_s": 1.0,
            "next_sequence": 5,
            "look_at": look_at,
        },
        {"shipment_status": status, "publish_outbound": lambda batch: []},
        module=monitor_module,
        events=events,
        clock_step=timedelta(milliseconds=10),
    )


def test_the_monitor_announces_shipped_once_and_returns_on_delivery() -> None:
    run = _monitor(["label_created", "in_transit", "in_transit", "delivered"])
    events = run.published_events()
    assert [(e["type"].split(".")[-2], e["sequence"]) for e in events] == [("shipped", 5)]
    assert [n["kind"] for n in run.published_notifications()] == ["shipped"]
    # The order announces the delivery itself, with its completion.
    assert run.output == {"delivered": True, "next_sequence": 6, "state": "delivered", "polls": 4}
    assert run.restarts == 3, "each look continues as new, keeping the history bounded"


def test_the_monitor_looks_when_shipping_expects_a_change_not_every_poll() -> None:
    in_transit_at, delivered_at = START + timedelta(seconds=20), START + timedelta(seconds=40)
    run = _monitor([("in_transit", delivered_at), ("delivered", None)], look_at=in_transit_at)
    assert run.work() == ["shipment_status", "shipment_status"]
    # Shipping's estimates are aware; the workflow's clock and its timers are naive UTC.
    assert [t.fire_at for t in run.timers] == [
        monitor_module.workflow_time(in_transit_at),
        monitor_module.workflow_time(delivered_at + monitor_module.LOOK_MARGIN),
    ]
    assert run.output["delivered"] is True


def test_next_look_is_bounded_by_the_deadline_and_never_a_tight_loop() -> None:
    now = monitor_module.workflow_time(START)
    deadline = now + timedelta(seconds=30)
    far = now + timedelta(days=2)
    assert monitor_module.next_look(now, far, 1.0, deadline) == deadline
    assert monitor_module.next_look(now, None, 1.0, deadline) == now + timedelta(seconds=1)
    past = now - timedelta(seconds=5)
    assert monitor_module.next_look(now, past, 1.0, deadline) == (
        now + monitor_module.SHORTEST_WAIT
    )


def test_the_monitor_gives_up_at_its_deadline() -> None:
    run = _monitor(["label_created"] * 50, deadline_s=10)
    assert run.output["delivered"] is False
    assert not run.published_events()


def test_a_nudge_wakes_a_monitor_whose_timer_was_lost() -> None:
    # The pending nudge wins over the timer: the monitor looks without waiting for it.
    run = _monitor(["delivered"], events={"nudge": {}}, look_at=START + timedelta(hours=1))
    assert run.output["delivered"] is True
    assert run.timers == [], "the nudge, not the timer, woke the monitor"


def test_a_nudge_during_a_look_whose_answer_was_lost_looks_again() -> None:
    run = _monitor(["delivered"], events={"nudge": {}})
    assert run.output["delivered"] is True
    assert run.restarts == 0, "the look was issued again at once, not left for later"
    assert NUDGE_EVERY_WAIT in run.context.patches_asked


def test_an_order_that_started_before_the_patch_keeps_its_monitor_path() -> None:
    context = FakeContext(unpatched=frozenset({NUDGE_EVERY_WAIT}))
    run = drive(
        monitor_module.shipment_monitor,
        {
            "order_id": "o-1",
            "customer_id": "c-1",
            "shipment_id": "shp_1",
            "deadline": (START + timedelta(seconds=100)).isoformat(),
            "poll_s": 1.0,
            "next_sequence": 5,
        },
        {
            "shipment_status": lambda r: {"order_id": r["order_id"], "state": "delivered"},
            "publish_outbound": lambda batch: [],
        },
        module=monitor_module,
        context=context,
        events={"nudge": {}},
    )
    # Unpatched, a look does not wait for the nudge: it stays pending, unconsumed.
    assert run.names().count("shipment_status") == 1 and run.output["delivered"] is True


def test_a_look_that_fails_after_retries_looks_again_instead_of_failing_the_order() -> None:
    answers = iter([None, "in_transit", "delivered"])

    def status(request: dict[str, Any]) -> dict[str, Any]:
        state = next(answers)
        if state is None:
            raise Failure("too many requests")
        return {"order_id": request["order_id"], "state": state}

    run = drive(
        monitor_module.shipment_monitor,
        {
            "order_id": "o-1",
            "customer_id": "c-1",
            "shipment_id": "shp_1",
            "deadline": (START + timedelta(seconds=100)).isoformat(),
            "poll_s": 1.0,
            "next_sequence": 5,
        },
        {"shipment_status": status, "publish_outbound": lambda batch: []},
        module=monitor_module,
    )
    assert run.output["delivered"] is True
    assert run.output["polls"] == 3
    assert [e["sequence"] for e in run.published_events()] == [5]


def test_a_nudge_before_the_approval_deadline_keeps_the_order_waiting() -> None:
    run = _run(LOW_THRESHOLD, raise_after={"reserve_line": NUDGE_EVENT})
    assert len(run.timers) == 1  # it still waited for its deadline timer
    assert run.output["status"] == OrderStatus.CANCELLED
    assert "timed out" in run.output["failure_reason"]


def test_a_nudge_after_a_lost_approval_timer_times_the_order_out() -> None:
    # Each step of the fake clock is longer than the approval timeout: the nudge arrives
    # after the deadline, and the (lost) timer never fires.
    # Raised once the approval request is out (the second publish), as the sweeper would.
    run = _run(
        LOW_THRESHOLD,
        raise_after={"publish_outbound#2": NUDGE_EVENT},
        clock_step=timedelta(hours=2),
    )
    assert run.timers == []
    assert run.output["status"] == OrderStatus.CANCELLED
    assert "timed out" in run.output["failure_reason"]
    assert _work(run)[-1] == "release_stock"
