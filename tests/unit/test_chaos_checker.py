"""The chaos checker on synthetic runs: a clean run passes, and each invariant catches
the violation it exists for (with the offending ids)."""

import base64
import dataclasses
from decimal import Decimal
from typing import Any

import httpx
import pytest

from chaos import checker, collect
from chaos.model import (
    Behaviour,
    LedgerEntry,
    Line,
    LoadPlan,
    MalformedInput,
    Observation,
    OrderObservation,
    PlannedOrder,
    SkuObservation,
    SkuPlan,
)

SKU = "CHAOS-T-A"
PAID, DECLINED, REFUNDED = "chaos-t-1", "chaos-t-2", "chaos-t-3"
NOT_JSON, NOT_UTF8 = "chaos-t-bad-001", "chaos-t-bad-002"


def _order(order_id: str, behaviour: Behaviour, quantity: int, token: str) -> PlannedOrder:
    return PlannedOrder(
        order_id=order_id,
        customer_id="chaos-t-cust-1",
        behaviour=behaviour,
        lines=(Line(SKU, quantity),),
        token=token,
        country="ZZ" if behaviour == Behaviour.UNDELIVERABLE else "PT",
        total=Decimal("10.00") * quantity,
        as_cloudevent=True,
    )


PLAN = LoadPlan(
    run_id="t",
    seed=1,
    skus=(SkuPlan(SKU, "A", Decimal("10.00"), 10),),
    orders=(
        _order(PAID, Behaviour.PAYS, 2, "tok_visa"),
        _order(DECLINED, Behaviour.DECLINED, 1, "tok_decline"),
        _order(REFUNDED, Behaviour.UNDELIVERABLE, 1, "tok_visa"),
    ),
    malformed=(
        MalformedInput(NOT_JSON, "not_json", b"chaos-t-bad-001 {", "not JSON"),
        MalformedInput(NOT_UTF8, "not_utf8", b"\xffchaos-t-bad-002\x81", "not JSON"),
    ),
    duplicate_of=PAID,
    messages=(),
)


def event(order_id: str, sequence: int, kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"{order_id}:{sequence}:{kind}",
        "type": f"com.orderfleet.order.{kind}.v1",
        "subject": order_id,
        "data": {"order_id": order_id, "sequence": sequence, **data},
    }


def stream(order_id: str, *kinds: str, **amounts: str) -> list[dict[str, Any]]:
    return [
        event(order_id, n, kind, **({"amount": amounts[kind]} if kind in amounts else {}))
        for n, kind in enumerate(kinds, start=1)
    ]


EVENTS = (
    *stream(
        PAID,
        "accepted",
        "stock_reserved",
        "payment_charged",
        "shipment_created",
        "shipped",
        "delivered",
        "completed",
        payment_charged="20.00",
    ),
    *stream(DECLINED, "accepted", "stock_reserved", "stock_released", "compensated"),
    *stream(
        REFUNDED,
        "accepted",
        "stock_reserved",
        "payment_charged",
        "payment_refunded",
        "stock_released",
        "compensated",
        payment_charged="10.00",
        payment_refunded="10.00",
    ),
)


def charge(amount: str, entry_id: str = "ch_1") -> LedgerEntry:
    return LedgerEntry(entry_id, "charge", Decimal(amount))


def refund(amount: str, entry_id: str = "rf_1") -> LedgerEntry:
    return LedgerEntry(entry_id, "refund", Decimal(amount))


def dead_letter(original: str, reason: str, encoding: str = "utf-8") -> dict[str, Any]:
    return {
        "id": f"dl-{original[:8]}",
        "data": {"reason": reason, "original": original, "original_encoding": encoding},
    }


CLEAN = Observation(
    orders={
        PAID: OrderObservation(
            PAID,
            found=True,
            status="COMPLETED",
            total=Decimal("20.00"),
            ledger=(charge("20.00"),),
            shipment_state="delivered",
        ),
        DECLINED: OrderObservation(DECLINED, found=True, status="COMPENSATED"),
        REFUNDED: OrderObservation(
            REFUNDED,
            found=True,
            status="COMPENSATED",
            ledger=(charge("10.00"), refund("10.00")),
            shipment_state="undeliverable",
        ),
    },
    stock=(SkuObservation(SKU, initial=10, available=8, reserved=0, shipped=2),),
    events=EVENTS,
    dead_letters=(
        dead_letter("chaos-t-bad-001 {", "not JSON: Expecting value"),
        dead_letter(
            base64.b64encode(b"\xffchaos-t-bad-002\x81").decode(),
            "not JSON: 'utf-8' codec can't decode",
            "base64",
        ),
    ),
)


def results(observation: Observation) -> dict[str, checker.InvariantResult]:
    return {result.name: result for result in checker.check(PLAN, observation)}


def failed(observation: Observation) -> dict[str, tuple[str, ...]]:
    """The failing invariants and their offenders."""
    return {r.name: r.offenders for r in results(observation).values() if not r.passed}


def with_order(order_id: str, **changes: Any) -> Observation:
    orders = dict(CLEAN.orders)
    orders[order_id] = dataclasses.replace(orders[order_id], **changes)
    return dataclasses.replace(CLEAN, orders=orders)


def with_events(order_id: str, events: list[dict[str, Any]]) -> Observation:
    others = [e for e in CLEAN.events if e["subject"] != order_id]
    return dataclasses.replace(CLEAN, events=(*others, *events))


def test_a_clean_run_keeps_every_invariant() -> None:
    assert failed(CLEAN) == {}
    assert len(results(CLEAN)) == len(checker.CHECKS)


def test_a_lost_order_and_a_stuck_order_are_named() -> None:
    orders = dict(CLEAN.orders)
    orders[PAID] = OrderObservation(PAID, found=False)
    orders[DECLINED] = dataclasses.replace(orders[DECLINED], status="RUNNING", step="charge")
    result = results(dataclasses.replace(CLEAN, orders=orders))["all_orders_terminal"]
    assert result.offenders == (PAID, DECLINED)
    assert "lost" in result.details[0] and "stuck: RUNNING at step charge" in result.details[1]


def test_an_order_missing_from_the_observation_counts_as_lost() -> None:
    orders = {k: v for k, v in CLEAN.orders.items() if k != REFUNDED}
    assert failed(dataclasses.replace(CLEAN, orders=orders))["all_orders_terminal"] == (REFUNDED,)


def test_a_second_charge_is_caught_even_when_refunded_back_to_the_total() -> None:
    ledger = (charge("20.00", "ch_1"), charge("20.00", "ch_2"), refund("20.00"))
    assert failed(with_order(PAID, ledger=ledger))["at_most_one_charge"] == (PAID,)


def test_a_net_above_the_total_is_caught() -> None:
    observation = with_order(PAID, ledger=(charge("25.00"),))
    assert failed(observation)["at_most_one_charge"] == (PAID,)


def test_refunds_beyond_charges_are_caught() -> None:
    observation = with_order(REFUNDED, ledger=(charge("10.00"), refund("10.00"), refund("10.00")))
    assert failed(observation)["refunds_within_charges"] == (REFUNDED,)


def test_completed_without_the_money_is_caught() -> None:
    assert failed(with_order(PAID, ledger=()))["completed_charged_and_shipped"] == (PAID,)


def test_completed_without_a_delivered_shipment_is_caught() -> None:
    for state in (None, "cancelled", "in_transit"):
        observation = with_order(PAID, shipment_state=state)
        assert failed(observation)["completed_charged_and_shipped"] == (PAID,), state


def test_compensated_but_still_charged_is_caught() -> None:
    observation = with_order(REFUNDED, ledger=(charge("10.00"),))
    assert failed(observation)["unwound_net_zero"] == (REFUNDED,)


def test_rejected_with_a_live_shipment_is_caught() -> None:
    observation = with_order(DECLINED, status="REJECTED", shipment_state="label_created")
    assert "unwound_net_zero" in failed(observation)


def test_lost_units_are_caught() -> None:
    stock = (SkuObservation(SKU, initial=10, available=7, reserved=0, shipped=2),)
    assert failed(dataclasses.replace(CLEAN, stock=stock))["stock_conserved"] == (SKU,)


def test_units_left_reserved_are_caught() -> None:
    stock = (SkuObservation(SKU, initial=10, available=7, reserved=1, shipped=2),)
    result = results(dataclasses.replace(CLEAN, stock=stock))["stock_conserved"]
    assert result.offenders == (SKU,)
    assert result.details == (f"{SKU}: 1 units still reserved at the end",)


def test_negative_counts_are_caught() -> None:
    stock = (SkuObservation(SKU, initial=10, available=9, reserved=-1, shipped=2),)
    assert failed(dataclasses.replace(CLEAN, stock=stock))["stock_conserved"] == (SKU,)


def test_a_sku_missing_from_the_catalog_is_caught() -> None:
    assert failed(dataclasses.replace(CLEAN, stock=()))["stock_conserved"] == (SKU,)


def test_shipped_units_must_belong_to_completed_orders() -> None:
    # Conserved (10 = 7 + 0 + 3) but the compensated order's unit left with a shipment.
    stock = (SkuObservation(SKU, initial=10, available=7, reserved=0, shipped=3),)
    assert failed(dataclasses.replace(CLEAN, stock=stock)) == {
        "shipped_stock_matches_orders": (SKU,)
    }


def test_redelivered_events_are_deduplicated_not_violations() -> None:
    observation = dataclasses.replace(CLEAN, events=(*CLEAN.events, *CLEAN.events[:3]))
    assert failed(observation) == {}
    [duplicates] = [n for n in checker.notes(PLAN, observation) if n.name.startswith("duplicate")]
    assert duplicates.items == ("3 duplicate copies",)


def test_a_gap_in_the_sequence_is_caught() -> None:
    events = [e for e in stream(DECLINED, "accepted", "stock_reserved", "stock_released",
                                 "compensated") if e["data"]["sequence"] != 2]  # fmt: skip
    result = results(with_events(DECLINED, events))["event_sequences_valid"]
    assert result.offenders == (DECLINED,)
    assert "[1, 3, 4] are not 1..3" in result.details[0]


def test_two_events_with_one_sequence_are_caught() -> None:
    events = [*stream(DECLINED, "accepted", "stock_reserved", "stock_released", "compensated"),
              event(DECLINED, 2, "payment_charged", amount="10.00")]  # fmt: skip
    result = results(with_events(DECLINED, events))["event_sequences_valid"]
    assert result.offenders == (DECLINED,)
    assert any("sequence 2 used by several events" in d for d in result.details)


def test_one_id_with_different_content_is_caught() -> None:
    events = stream(DECLINED, "accepted", "stock_reserved", "stock_released", "compensated")
    altered = {**events[1], "data": {**events[1]["data"], "reserved": {SKU: 99}}}
    assert failed(with_events(DECLINED, [*events, altered]))["event_sequences_valid"] == (DECLINED,)


def test_one_id_republished_later_by_a_re_run_step_is_the_same_fact() -> None:
    events = stream(DECLINED, "accepted", "stock_reserved", "stock_released", "compensated")
    first = {**events[1], "data": {**events[1]["data"], "occurred_at": "2026-01-01T00:00:01"}}
    again = {**events[1], "data": {**events[1]["data"], "occurred_at": "2026-01-01T00:00:29"}}
    observation = with_events(DECLINED, [events[0], first, *events[2:], again])
    assert "event_sequences_valid" not in failed(observation)


def test_completed_without_an_earlier_payment_charged_is_caught() -> None:
    events = stream(PAID, "accepted", "stock_reserved", "shipment_created", "completed")
    result = results(with_events(PAID, events))["event_sequences_valid"]
    assert any("completed without an earlier payment_charged" in d for d in result.details)


def test_a_terminal_event_that_disagrees_with_the_status_is_caught() -> None:
    events = stream(DECLINED, "accepted", "stock_reserved", "stock_released", "rejected")
    result = results(with_events(DECLINED, events))["event_sequences_valid"]
    assert result.details == (f"{DECLINED}: final status COMPENSATED but terminal event rejected",)


def test_a_missing_terminal_event_is_caught() -> None:
    events = stream(DECLINED, "accepted", "stock_reserved", "stock_released")
    assert failed(with_events(DECLINED, events))["event_sequences_valid"] == (DECLINED,)


def test_events_after_the_terminal_one_are_caught() -> None:
    events = stream(DECLINED, "accepted", "compensated", "stock_released")
    result = results(with_events(DECLINED, events))["event_sequences_valid"]
    assert any("events after the terminal one" in d for d in result.details)


def test_an_order_without_events_is_caught() -> None:
    assert failed(with_events(DECLINED, []))["event_sequences_valid"] == (DECLINED,)


def test_a_dead_lettered_order_of_the_run_is_caught() -> None:
    stray = {"id": "dl-x", "data": {"order_id": PAID, "reason": "invalid order", "original": PAID}}
    observation = dataclasses.replace(CLEAN, dead_letters=(*CLEAN.dead_letters, stray))
    assert failed(observation) == {"dead_letters_expected": (PAID,)}


def test_a_message_dead_lettered_by_dapr_itself_is_caught() -> None:
    # Dapr's own dead letter (redelivery exhausted) carries the raw message, base64.
    raw = base64.b64encode(f'{{"order_id": "{PAID}"}}'.encode()).decode()
    observation = dataclasses.replace(
        CLEAN, dead_letters=(*CLEAN.dead_letters, {"id": "d", "data_base64": raw})
    )
    assert failed(observation) == {"dead_letters_expected": ("record d",)}


def test_a_malformed_input_without_its_dead_letter_is_caught() -> None:
    observation = dataclasses.replace(CLEAN, dead_letters=CLEAN.dead_letters[:1])
    assert failed(observation) == {"dead_letters_expected": (NOT_UTF8,)}


def test_a_malformed_input_dead_lettered_for_another_reason_is_caught() -> None:
    wrong = dead_letter("chaos-t-bad-001 {", "unknown SKU")
    observation = dataclasses.replace(CLEAN, dead_letters=(wrong, CLEAN.dead_letters[1]))
    assert failed(observation) == {"dead_letters_expected": (NOT_JSON,)}


def test_a_repeated_dead_letter_is_a_note_not_a_violation() -> None:
    observation = dataclasses.replace(
        CLEAN, dead_letters=(*CLEAN.dead_letters, CLEAN.dead_letters[0])
    )
    assert failed(observation) == {}
    [repeated] = [n for n in checker.notes(PLAN, observation) if n.name == "repeated_dead_letters"]
    assert repeated.items == (f"{NOT_JSON}: 2 dead letters",)


def test_off_script_outcomes_are_noted() -> None:
    observation = with_order(PAID, status="COMPENSATED", ledger=(charge("20.00"), refund("20.00")))
    notes = {n.name: n.items for n in checker.notes(PLAN, observation)}
    assert [item.split(" ")[0] for item in notes["outcomes_off_script"]] == [PAID]


def test_a_refund_event_that_disagrees_with_the_ledger_is_a_violation() -> None:
    # Chaos seed 136355803: a refund retried after its answer was lost announced 0.00.
    events = stream(
        REFUNDED,
        "accepted",
        "stock_reserved",
        "payment_charged",
        "payment_refunded",
        "stock_released",
        "compensated",
        payment_charged="10.00",
        payment_refunded="0.00",
    )
    result = results(with_events(REFUNDED, events))["events_vs_ledger"]
    assert result.offenders == (REFUNDED,)
    assert "payment_refunded 0.00 vs ledger refunds 10.00" in result.details[0]


def test_a_ledger_refund_no_event_announces_is_a_violation() -> None:
    observation = with_order(PAID, ledger=(charge("20.00"), refund("5.00")))
    assert failed(observation)["events_vs_ledger"] == (PAID,)


def test_a_cancelled_shipment_announced_for_a_delivered_one_is_a_violation() -> None:
    # Chaos seed 136355803: the cancel reached shipping after delivery, yet was announced.
    events = stream(
        DECLINED, "accepted", "stock_reserved", "shipment_cancelled", "stock_released",
        "compensated",
    )  # fmt: skip
    observation = with_events(DECLINED, events)
    orders = dict(observation.orders)
    orders[DECLINED] = dataclasses.replace(orders[DECLINED], shipment_state="delivered")
    failures = failed(dataclasses.replace(observation, orders=orders))
    assert failures["events_vs_ledger"] == (DECLINED,)
    assert failures["unwound_never_delivered"] == (DECLINED,)


def test_terminal_event_missing_names_orders_still_to_announce_their_end() -> None:
    events = [e for e in CLEAN.events if e["id"] != f"{PAID}:7:completed"]
    statuses = {PAID: "COMPLETED", DECLINED: "COMPENSATED", REFUNDED: "RUNNING"}
    assert checker.terminal_event_missing(statuses, events) == [PAID]


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        (dead_letter("plain text", "r"), "plain text"),
        (dead_letter(base64.b64encode(b"hidden").decode(), "r", "base64"), "hidden"),
        ({"id": "x", "data_base64": base64.b64encode(b"raw bytes").decode()}, "raw bytes"),
    ],
)
def test_dead_letter_text_reads_every_encoding(record: dict[str, Any], fragment: str) -> None:
    assert fragment in checker.dead_letter_text(record)


def test_an_order_the_api_cannot_read_is_named_as_stuck_not_a_crash() -> None:
    # Chaos seed 871149833: one order's workflow could no longer be loaded (503), and the
    # collector stopped before writing any report.
    class Unreadable:
        def order_view(self, order_id: str) -> Any:
            request = httpx.Request("GET", f"http://api/orders/{order_id}")
            answer = httpx.Response(503, text="the sidecar refused", request=request)
            raise httpx.HTTPStatusError("503", request=request, response=answer)

        def ledger(self, order_id: str) -> dict[str, Any]:
            return {"entries": []}

        def shipment(self, order_id: str) -> None:
            return None

    seen = collect.observe_order(Unreadable(), PAID)  # type: ignore[arg-type]
    assert seen.status == collect.UNREADABLE and seen.failure_reason == "the sidecar refused"
    orders = {**CLEAN.orders, PAID: seen}
    assert failed(dataclasses.replace(CLEAN, orders=orders))["all_orders_terminal"] == (PAID,)
