"""The order saga, driven step by step with a fake workflow context."""

from decimal import Decimal
from typing import Any

import pytest

from contracts.events import ORDER_EVENT, OrderEventType
from contracts.orders import OrderStatus
from orchestrator.workflows import monitor as monitor_module
from orchestrator.workflows import order as order_module
from orchestrator.workflows.inputs import MonitorInput
from orchestrator.workflows.patches import WATCH_IN_ORDER
from tests.unit.workflow_driver import Failure, FakeContext, Run, drive

ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "items": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
    "shipping_address": {
        "name": "Ada",
        "line1": "1 Main St",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    },
    "payment_token": "tok_visa",
}


def _quote(req: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {
            "sku": line["sku"],
            "name": line["sku"].title(),
            "quantity": line["quantity"],
            "unit_price": "10.00",
            "line_total": str(Decimal("10.00") * line["quantity"]),
        }
        for line in req["items"]
    ]
    return {"order_id": req["order_id"], "ok": True, "lines": lines, "total": "30.00"}


def _handlers(**overrides: Any) -> dict[str, Any]:
    handlers: dict[str, Any] = {
        "quote_order": _quote,
        "reserve_line": lambda r: {**r, "outcome": "reserved"},
        "release_stock": lambda r: {
            "order_id": r["order_id"],
            "released": {"SKU-A": 2, "SKU-B": 1},
        },
        "commit_stock": lambda r: {"order_id": r["order_id"], "committed": {"SKU-A": 2}},
        "charge_payment": lambda r: {
            "order_id": r["order_id"],
            "outcome": "charged",
            "amount": r["amount"],
            "charge_id": "ch_1",
        },
        "refund_payment": lambda r: {"order_id": r["order_id"], "refunded": "30.00", "net": "0.00"},
        "create_shipment": lambda r: {
            "order_id": r["order_id"],
            "state": "label_created",
            "shipment_id": "shp_1",
        },
        "cancel_shipment": lambda r: {"order_id": r["order_id"], "state": "cancelled"},
        "publish_outbound": lambda batch: [],
        # The order's own first look finds it delivered (WATCH_IN_ORDER).
        "shipment_status": lambda r: {
            "order_id": r["order_id"],
            "state": "delivered",
            "shipment_id": "shp_1",
        },
        "shipment_monitor": lambda m: {
            "delivered": True,
            "next_sequence": m["next_sequence"] + 1,
            "state": "delivered",
        },
    }
    handlers.update(overrides)
    return handlers


def _run(**overrides: Any) -> Run:
    return drive(
        order_module.order_workflow,
        {"order": ORDER, "trace_id": "a" * 32},
        _handlers(**overrides),
        module=order_module,
    )


def _events(run: Run) -> list[str]:
    types = [ORDER_EVENT.validate_python(event).type for event in run.published_events()]
    return [t.value.split(".")[-2] for t in types]


def _work(run: Run) -> list[str]:
    return run.work()


def test_happy_path_runs_every_step_in_order_and_completes() -> None:
    run = _run()
    assert _work(run) == [
        "quote_order",
        "reserve_line",
        "reserve_line",
        "charge_payment",
        "create_shipment",
        "commit_stock",
        "shipment_status",
    ]
    assert not run.children, "a delivery done by the first looks needs no monitor"
    assert _events(run) == [
        "accepted",
        "stock_reserved",
        "payment_charged",
        "shipment_created",
        "shipped",
        "delivered",
        "completed",
    ]
    assert run.output["status"] == OrderStatus.COMPLETED
    assert run.output["total"] == "30.00"


def test_event_sequence_numbers_are_gap_free_and_carry_the_trace_id() -> None:
    run = _run()
    events = [ORDER_EVENT.validate_python(event) for event in run.published_events()]
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert {e.trace_id for e in events} == {"a" * 32}


def test_every_step_and_publish_has_a_retry_policy() -> None:
    run = _run()
    assert all(call.retry_policy is not None for call in run.calls)


def test_reservations_fan_out_one_per_line() -> None:
    run = _run()
    reserves = [c.input for c in run.calls if c.name == "reserve_line"]
    assert [(r["sku"], r["quantity"]) for r in reserves] == [("SKU-A", 2), ("SKU-B", 1)]


def test_custom_status_shows_the_current_step() -> None:
    run = _run()
    assert run.context.statuses, "the workflow never set a custom status"
    steps = [s for s in run.context.statuses]
    assert '"step": "charge"' in "".join(steps) or '"step":"charge"' in "".join(steps)


def test_unknown_sku_at_quote_is_rejected_without_touching_stock() -> None:
    run = _run(
        quote_order=lambda r: {"order_id": r["order_id"], "ok": False, "reason": "unknown SKU X"}
    )
    assert _work(run) == ["quote_order"]
    assert _events(run) == ["rejected"]
    assert run.output["status"] == OrderStatus.REJECTED


def test_out_of_stock_is_rejected_and_releases_every_line() -> None:
    def reserve(r: dict[str, Any]) -> dict[str, Any]:
        outcome = "insufficient_stock" if r["sku"] == "SKU-B" else "reserved"
        return {**r, "outcome": outcome, "available": 0}

    run = _run(reserve_line=reserve)
    assert _work(run)[-1] == "release_stock"
    assert "charge_payment" not in run.names()
    release = next(c for c in run.calls if c.name == "release_stock")
    assert release.input["skus"] == ["SKU-A", "SKU-B"]
    assert _events(run) == ["accepted", "stock_released", "rejected"]
    assert run.output["status"] == OrderStatus.REJECTED
    assert "SKU-B" in run.output["failure_reason"]


def test_declined_payment_releases_stock_and_ends_compensated() -> None:
    run = _run(
        charge_payment=lambda r: {
            "order_id": r["order_id"],
            "outcome": "declined",
            "amount": r["amount"],
            "reason": "card declined",
        }
    )
    assert _work(run)[-2:] == ["charge_payment", "release_stock"]
    assert "refund_payment" not in run.names()
    assert _events(run) == ["accepted", "stock_reserved", "stock_released", "compensated"]
    assert run.output["status"] == OrderStatus.COMPENSATED
    assert "declined" in run.output["failure_reason"]


def test_undeliverable_address_refunds_then_releases() -> None:
    run = _run(
        create_shipment=lambda r: {
            "order_id": r["order_id"],
            "state": "undeliverable",
            "reason": "cannot ship to country ZZ",
        }
    )
    assert _work(run)[-3:] == ["create_shipment", "refund_payment", "release_stock"]
    assert _events(run)[-3:] == ["payment_refunded", "stock_released", "compensated"]
    assert run.output["status"] == OrderStatus.COMPENSATED


def _fail(message: str) -> Any:
    def handler(_: Any) -> Any:
        raise Failure(message)

    return handler


@pytest.mark.parametrize(
    ("failing_step", "expected_compensations"),
    [
        ("quote_order", []),
        ("reserve_line", ["release_stock"]),
        # A charge that faulted may still have gone through: refunding the net is safe.
        ("charge_payment", ["refund_payment", "release_stock"]),
        ("create_shipment", ["cancel_shipment", "refund_payment", "release_stock"]),
    ],
)
def test_a_fault_at_each_step_compensates_exactly_what_was_done_in_reverse(
    failing_step: str, expected_compensations: list[str]
) -> None:
    run = _run(**{failing_step: _fail("service unavailable")})
    work = _work(run)
    after_failure = work[work.index(failing_step) + 1 :]
    if failing_step == "reserve_line":
        after_failure = [name for name in after_failure if name != "reserve_line"]
    assert after_failure == expected_compensations
    assert run.output["status"] == OrderStatus.COMPENSATED
    assert "service unavailable" in run.output["failure_reason"]
    assert _events(run)[-1] == "compensated"


def test_a_broker_outage_delays_the_announcements_without_failing_the_order() -> None:
    failures = {"left": 3}

    def publish(batch: dict[str, Any]) -> list[str]:
        types = {event["type"] for event in batch["events"]}
        if OrderEventType.COMPLETED in types and failures["left"]:
            failures["left"] -= 1
            raise Failure("broker down")
        return []

    run = _run(publish_outbound=publish)
    assert run.output["status"] == OrderStatus.COMPLETED
    assert "cancel_shipment" not in run.names() and "refund_payment" not in run.names()
    assert len(run.timers) == 3, "each give-up of the retry policy waits on a durable pause"
    assert _events(run)[-2:] == ["delivered", "completed"]


def test_publishes_are_batched_at_the_saga_milestones() -> None:
    run = _run()
    batches = [
        [ORDER_EVENT.validate_python(e).type.value.split(".")[-2] for e in c.input["events"]]
        for c in run.calls
        if c.name == "publish_outbound"
    ]
    assert batches == [
        ["accepted", "stock_reserved"],
        ["payment_charged", "shipment_created"],
        ["shipped"],
        ["delivered", "completed"],
    ]
    kinds = [n["kind"] for n in run.published_notifications()]
    assert kinds == ["order_confirmed", "shipped", "delivered"]


def test_a_compensation_that_keeps_failing_is_retried_after_a_durable_pause() -> None:
    attempts = {"n": 0}

    def refund(r: dict[str, Any]) -> dict[str, Any]:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise Failure("payment down")
        return {"order_id": r["order_id"], "refunded": "30.00", "net": "0.00"}

    run = _run(
        create_shipment=lambda r: {"order_id": r["order_id"], "state": "undeliverable"},
        refund_payment=refund,
    )
    assert attempts["n"] == 3
    assert len(run.timers) == 2
    assert run.output["status"] == OrderStatus.COMPENSATED


def _fail_times(times: int, then: Any) -> Any:
    left = {"n": times}

    def handler(request: Any) -> Any:
        if left["n"]:
            left["n"] -= 1
            raise Failure("too many requests (circuit breaker open)")
        return then(request)

    return handler


def test_a_step_after_the_shipment_that_fails_after_retries_is_retried_not_unwound() -> None:
    # Chaos seed 136355803: inventory paused past commit_stock's retries, the shipment
    # already existed, and the order was compensated while its goods were delivered.
    commit = _handlers()["commit_stock"]
    run = _run(commit_stock=_fail_times(3, commit))
    assert run.output["status"] == OrderStatus.COMPLETED
    assert run.names().count("commit_stock") == 4
    assert not {"cancel_shipment", "refund_payment", "release_stock"} & set(run.names())
    assert _events(run)[-2:] == ["delivered", "completed"]
    assert len(run.timers) == 3, "each give-up waits on a durable pause, then tries again"


def test_a_cancel_that_comes_after_delivery_rolls_the_order_forward() -> None:
    # create_shipment's answer was lost until its retries ran out; by the time the saga
    # cancels, the shipment it did create has been delivered: nothing can be undone.
    delivered = {"order_id": "o-1", "state": "delivered", "shipment_id": "shp_1"}
    run = _run(create_shipment=_fail("timeout"), cancel_shipment=lambda r: delivered)
    assert run.output["status"] == OrderStatus.COMPLETED
    events = _events(run)
    assert "shipment_cancelled" not in events and "payment_refunded" not in events
    assert "compensated" not in events
    assert events[-4:] == ["shipment_created", "shipped", "delivered", "completed"]
    assert "refund_payment" not in run.names() and "release_stock" not in run.names()
    assert "commit_stock" in run.names(), "the delivered stock leaves the reservation"


def test_a_cancel_that_finds_nothing_shipped_announces_no_cancelled_shipment() -> None:
    nothing = {"order_id": "o-1", "state": "undeliverable", "reason": "cannot ship to ZZ"}
    run = _run(create_shipment=_fail("timeout"), cancel_shipment=lambda r: nothing)
    assert run.output["status"] == OrderStatus.COMPENSATED
    assert "shipment_cancelled" not in _events(run)
    assert _events(run)[-3:] == ["payment_refunded", "stock_released", "compensated"]


def test_refund_and_release_events_carry_what_the_services_report() -> None:
    run = _run(create_shipment=_fail("timeout"))
    by_kind = {
        ORDER_EVENT.validate_python(e).type.value.split(".")[-2]: e for e in run.published_events()
    }
    assert by_kind["payment_refunded"]["amount"] == "30.00"
    assert by_kind["stock_released"]["released"] == {"SKU-A": 2, "SKU-B": 1}


def _moving_shipment(states: list[str]) -> Any:
    """shipment_status answering these states in turn, the last one from then on; no
    estimate of the next change, so the watch looks every poll interval."""
    answers = iter(states)
    last = {"state": states[-1]}

    def status(r: dict[str, Any]) -> dict[str, Any]:
        last["state"] = next(answers, last["state"])
        return {"order_id": r["order_id"], "state": last["state"], "shipment_id": "shp_1"}

    return status


def test_the_order_watches_a_usual_delivery_itself_without_a_monitor() -> None:
    run = _run(shipment_status=_moving_shipment(["in_transit", "delivered"]))
    assert run.output["status"] == OrderStatus.COMPLETED
    assert run.names().count("shipment_status") == 2
    assert not run.children
    assert len(run.timers) == 1, "one wait: a poll interval after the first look"
    assert _events(run)[-3:] == ["shipped", "delivered", "completed"]


def test_a_longer_delivery_moves_to_the_monitor_with_what_the_order_saw() -> None:
    run = _run(shipment_status=_moving_shipment(["in_transit"]))
    looks = run.names().count("shipment_status")
    assert looks == monitor_module.INLINE_LOOKS
    [child] = run.children
    assert child.name == "shipment_monitor" and child.instance_id == "o-1:monitor"
    handed = MonitorInput.model_validate(child.input)
    assert handed.shipped_announced and handed.polls == looks
    assert handed.next_sequence == 6, "after shipment_created (4) and shipped (5)"
    assert _events(run) == ["accepted", "stock_reserved", "payment_charged",
                            "shipment_created", "shipped", "delivered", "completed"]  # fmt: skip


def test_an_order_that_started_before_the_inline_watch_uses_the_monitor_from_the_start() -> None:
    context = FakeContext(unpatched=frozenset({WATCH_IN_ORDER}))
    run = drive(order_module.order_workflow, {"order": ORDER, "trace_id": "a" * 32},
                _handlers(), module=order_module, context=context)  # fmt: skip
    assert "shipment_status" not in run.names()
    assert [c.name for c in run.children] == ["shipment_monitor"]
    assert run.output["status"] == OrderStatus.COMPLETED
