"""What the bench learns from order events, dead letters and the floor's file."""

import time
from pathlib import Path

from bench.tracker import (
    DONE,
    SYNC,
    FileTracker,
    Ledger,
    classify_dead_letter,
    classify_order_event,
    parse_floor_line,
)
from contracts.events import OrderEventType


def _event(kind: OrderEventType, subject: str = "bench-1") -> dict[str, object]:
    return {"specversion": "1.0", "type": kind.value, "subject": subject, "data": {}}


def test_completed_and_shipment_created_are_milestones() -> None:
    assert classify_order_event(_event(OrderEventType.COMPLETED)) == ("bench-1", DONE, False)
    assert classify_order_event(_event(OrderEventType.SHIPMENT_CREATED)) == ("bench-1", SYNC, False)


def test_endings_other_than_completed_are_failures_with_their_kind() -> None:
    assert classify_order_event(_event(OrderEventType.COMPENSATED)) == (
        "bench-1",
        "compensated",
        True,
    )
    assert classify_order_event(_event(OrderEventType.DELIVERY_OVERDUE))[1:] == (  # type: ignore[index]
        "delivery_overdue",
        True,
    )


def test_intermediate_events_and_garbage_are_ignored() -> None:
    assert classify_order_event(_event(OrderEventType.PAYMENT_CHARGED)) is None
    assert classify_order_event({"type": OrderEventType.COMPLETED.value}) is None
    assert classify_order_event({}) is None


def test_dead_letters_name_their_order_plain_or_as_cloudevent() -> None:
    plain = {"order_id": "bench-9", "reason": "unknown SKU"}
    assert classify_dead_letter(plain) == ("bench-9", "dead-lettered: unknown SKU")
    wrapped = {"specversion": "1.0", "data": '{"order_id": "bench-9", "reason": "x"}'}
    assert classify_dead_letter(wrapped) == ("bench-9", "dead-lettered: x")
    assert classify_dead_letter({"reason": "not JSON"}) is None


def test_latency_runs_from_the_scheduled_time_and_the_first_report_counts() -> None:
    ledger = Ledger()
    ledger.register("a", 0, 10.0)
    ledger.mark("a", DONE, 14.5)
    ledger.mark("a", DONE, 20.0)  # a redelivered event
    [entry] = ledger.entries(0)
    assert entry.latency(DONE) == 4.5
    assert entry.latency(SYNC) is None


def test_a_completed_order_cannot_fail_afterwards_and_a_failure_resolves() -> None:
    ledger = Ledger()
    ledger.register("a", 0, 0.0)
    ledger.register("b", 0, 0.0)
    ledger.register("c", 1, 0.0)
    ledger.mark("a", DONE, 1.0)
    ledger.fail("a", "compensated", 2.0)
    ledger.fail("b", "rejected", 2.0)
    assert [e.failure for e in ledger.entries(0)] == [None, "rejected"]
    assert ledger.unresolved(0) == 0
    assert ledger.unresolved() == 1
    assert ledger.counts(0) == (2, 2)
    assert ledger.done_times() == [1.0]


def test_events_of_other_orders_are_counted_not_recorded() -> None:
    ledger = Ledger()
    ledger.mark("someone-elses", DONE, 1.0)
    assert len(ledger) == 0 and ledger.unmatched == 1


def test_floor_lines_parse_and_partial_lines_do_not() -> None:
    assert parse_floor_line("floor-1\tcompleted\t12.5\n") == ("floor-1", "completed", 12.5)
    assert parse_floor_line("floor-1\tcomp") is None
    assert parse_floor_line("floor-1\tcompleted\tsoon\n") is None


def test_the_file_tracker_follows_appended_lines(tmp_path: Path) -> None:
    path = tmp_path / "completions.tsv"
    ledger = Ledger()
    ledger.register("w1", 0, 1.0)
    others: list[str] = []
    tracker = FileTracker(ledger, path, others.append).start()
    try:
        with path.open("a") as handle:
            handle.write("-\tready\t0.5\n")
            handle.write("w1\tsync\t1.2\n")
            handle.flush()
            handle.write("w1\tcomp")
            handle.flush()
            time.sleep(0.2)
            handle.write("leted\t1.4\n")
        deadline = time.monotonic() + 5
        while ledger.unresolved() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        tracker.stop()
    [entry] = ledger.entries()
    assert entry.milestones == {SYNC: 1.2, DONE: 1.4}
    assert others == ["ready"]
