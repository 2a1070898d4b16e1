"""The invariants a chaos run must keep, checked on what the fleet reports (pure: no I/O).

Each check returns the ids at fault and one line of evidence per problem, so a failure
names the orders, SKUs or dead letters to look at.
"""

import base64
import binascii
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chaos.model import (
    EXPECTED_STATUSES,
    SHIPPED_STATUSES,
    TERMINAL_EVENT_KIND,
    TERMINAL_EVENT_KINDS,
    TERMINAL_STATUSES,
    UNWOUND_STATUSES,
    LoadPlan,
    Observation,
    OrderObservation,
)

ZERO = Decimal("0.00")
LIVE_SHIPMENT_STATES = frozenset({"label_created", "in_transit", "delivered"})

Problem = tuple[str, str]  # (the id at fault, the evidence)


@dataclass(frozen=True)
class InvariantResult:
    name: str
    description: str
    offenders: tuple[str, ...]
    details: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.details


def _result(name: str, description: str, problems: Iterable[Problem]) -> InvariantResult:
    listed = list(problems)
    offenders = tuple(dict.fromkeys(offender for offender, _ in listed))
    return InvariantResult(name, description, offenders, tuple(f"{o}: {d}" for o, d in listed))


# ---- ledgers


def charges(order: OrderObservation) -> Decimal:
    return sum((e.amount for e in order.ledger if e.kind == "charge"), ZERO)


def refunds(order: OrderObservation) -> Decimal:
    return sum((e.amount for e in order.ledger if e.kind == "refund"), ZERO)


def net(order: OrderObservation) -> Decimal:
    return charges(order) - refunds(order)


def _observed(plan: LoadPlan, observation: Observation) -> list[OrderObservation]:
    return [
        observation.orders.get(o.order_id, OrderObservation(o.order_id, found=False))
        for o in plan.orders
    ]


def all_orders_terminal(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    for order in _observed(plan, observation):
        if not order.found:
            problems.append((order.order_id, "lost: the fleet has no workflow for it"))
        elif order.status not in TERMINAL_STATUSES:
            problems.append((order.order_id, f"stuck: {order.status} at step {order.step}"))
    return _result(
        "all_orders_terminal",
        "every order reached a terminal state (none lost, none stuck)",
        problems,
    )


def at_most_one_charge(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    for order in _observed(plan, observation):
        total = plan.order(order.order_id).total
        entries = [e for e in order.ledger if e.kind == "charge"]
        if len(entries) > 1:
            amounts = ", ".join(f"{e.entry_id}={e.amount}" for e in entries)
            problems.append((order.order_id, f"{len(entries)} charges ({amounts})"))
        if net(order) > total:
            problems.append((order.order_id, f"net charge {net(order)} exceeds its total {total}"))
    return _result(
        "at_most_one_charge",
        "per order at most one charge, and the net never above the order's total",
        problems,
    )


def refunds_within_charges(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems = [
        (order.order_id, f"refunded {refunds(order)} but charged {charges(order)}")
        for order in _observed(plan, observation)
        if refunds(order) > charges(order)
    ]
    return _result(
        "refunds_within_charges", "refunds never exceed charges (net never negative)", problems
    )


def completed_charged_and_shipped(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    for order in _observed(plan, observation):
        if order.status not in SHIPPED_STATUSES:
            continue
        total = plan.order(order.order_id).total
        if net(order) != total:
            problems.append((order.order_id, f"{order.status} but net {net(order)} != {total}"))
        if order.total is not None and order.total != total:
            problems.append((order.order_id, f"workflow total {order.total} != priced {total}"))
        if order.status == "COMPLETED" and order.shipment_state != "delivered":
            problems.append((order.order_id, f"COMPLETED but shipment {order.shipment_state}"))
        if order.status != "COMPLETED" and order.shipment_state not in LIVE_SHIPMENT_STATES:
            problems.append((order.order_id, f"{order.status} but shipment {order.shipment_state}"))
    return _result(
        "completed_charged_and_shipped",
        "COMPLETED means charged (net = total) and shipped (delivered)",
        problems,
    )


def unwound_net_zero(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    for order in _observed(plan, observation):
        if order.status not in UNWOUND_STATUSES:
            continue
        if net(order) != ZERO:
            problems.append((order.order_id, f"{order.status} but net charge {net(order)}"))
        if order.shipment_state in LIVE_SHIPMENT_STATES:
            problems.append((order.order_id, f"{order.status} but shipment {order.shipment_state}"))
    return _result(
        "unwound_net_zero",
        "COMPENSATED, REJECTED and CANCELLED mean net charge zero and nothing shipped",
        problems,
    )


def unwound_never_delivered(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems = [
        (order.order_id, f"{order.status} but its shipment was delivered")
        for order in _observed(plan, observation)
        if order.status in {"COMPENSATED", "CANCELLED"} and order.shipment_state == "delivered"
    ]
    return _result(
        "unwound_never_delivered",
        "no COMPENSATED or CANCELLED order has a delivered shipment",
        problems,
    )


def _amounts(events: Iterable[dict[str, Any]], kind: str) -> list[Decimal]:
    return [
        Decimal(str(event["data"]["amount"]))
        for event in events
        if event_kind(event) == kind
        and isinstance(event.get("data"), dict)
        and "amount" in event["data"]
    ]


def events_vs_ledger(plan: LoadPlan, observation: Observation) -> InvariantResult:
    """What the events say matches the services' own records: every payment_charged the
    ledger's charge, every payment_refunded the ledger's refunds in total (refund events
    carry the order's refunded total, not one call's delta), and shipment_cancelled only
    for a shipment shipping holds as cancelled."""
    grouped = _by_order(observation.events)
    problems: list[Problem] = []
    for order in _observed(plan, observation):
        unique = list(dedupe(grouped.get(order.order_id, []))[0].values())
        charged = _amounts(unique, "payment_charged")
        ledger_charges = [e.amount for e in order.ledger if e.kind == "charge"]
        if charged and charged != ledger_charges:
            problems.append(
                (order.order_id, f"payment_charged {charged} vs ledger {ledger_charges}")
            )
        refunded = _amounts(unique, "payment_refunded")
        problems += [
            (order.order_id, f"payment_refunded {amount} vs ledger refunds {refunds(order)}")
            for amount in refunded
            if amount != refunds(order)
        ]
        if refunds(order) > ZERO and not refunded:
            problems.append((order.order_id, f"ledger refunded {refunds(order)}, no event says so"))
        cancelled = any(event_kind(e) == "shipment_cancelled" for e in unique)
        if cancelled and order.shipment_state != "cancelled":
            problems.append(
                (order.order_id, f"shipment_cancelled announced, shipment {order.shipment_state}")
            )
    return _result(
        "events_vs_ledger",
        "payment and shipment events agree with the payment ledger and the shipment",
        problems,
    )


# ---- stock


def stock_conserved(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    seen = {item.sku: item for item in observation.stock}
    for sku in plan.skus:
        item = seen.get(sku.sku)
        if item is None:
            problems.append((sku.sku, "not in the catalog"))
            continue
        counts = f"available {item.available} + reserved {item.reserved} + shipped {item.shipped}"
        if item.available + item.reserved + item.shipped != item.initial:
            problems.append((sku.sku, f"initial {item.initial} != {counts}"))
        if min(item.available, item.reserved, item.shipped) < 0:
            problems.append((sku.sku, f"negative count: {counts}"))
        if item.reserved != 0:
            problems.append((sku.sku, f"{item.reserved} units still reserved at the end"))
    return _result(
        "stock_conserved",
        "per SKU initial = available + reserved + shipped, never negative, nothing left reserved",
        problems,
    )


def shipped_stock_matches_orders(plan: LoadPlan, observation: Observation) -> InvariantResult:
    expected: Counter[str] = Counter()
    shipped_by: dict[str, list[str]] = defaultdict(list)
    for order in _observed(plan, observation):
        if order.status in SHIPPED_STATUSES:
            for line in plan.order(order.order_id).lines:
                expected[line.sku] += line.quantity
                shipped_by[line.sku].append(order.order_id)
    problems = [
        (item.sku, f"shipped {item.shipped} but shipped orders hold {expected[item.sku]} units")
        for item in observation.stock
        if item.shipped != expected[item.sku]
    ]
    return _result(
        "shipped_stock_matches_orders",
        "per SKU, units shipped = units of the COMPLETED (or overdue) orders",
        problems,
    )


# ---- events


def event_order_id(event: dict[str, Any]) -> str | None:
    subject = event.get("subject")
    if isinstance(subject, str):
        return subject
    data = event.get("data")
    order_id = data.get("order_id") if isinstance(data, dict) else None
    return order_id if isinstance(order_id, str) else None


def event_kind(event: dict[str, Any]) -> str:
    """`accepted` from `com.orderfleet.order.accepted.v1`."""
    parts = str(event.get("type", "")).split(".")
    return parts[-2] if len(parts) >= 2 else str(event.get("type"))


def event_sequence(event: dict[str, Any]) -> int | None:
    data = event.get("data")
    sequence = data.get("sequence") if isinstance(data, dict) else None
    return sequence if isinstance(sequence, int) else None


def _fact(event: dict[str, Any]) -> tuple[Any, Any]:
    """What an event states, without when it was stated: a workflow step whose history a
    crash kept from being saved runs again on a later clock, so its republished events
    carry the same id and facts and a later `occurred_at`."""
    data = event.get("data")
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key != "occurred_at"}
    return data, event.get("type")


def dedupe(events: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Events by CloudEvent id (first copy kept), and the ids whose copies state different
    facts."""
    unique: dict[str, dict[str, Any]] = {}
    conflicting: list[str] = []
    for event in events:
        event_id = str(event.get("id"))
        first = unique.setdefault(event_id, event)
        if first is not event and _fact(first) != _fact(event):
            conflicting.append(event_id)
    return unique, conflicting


def _by_order(events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        order_id = event_order_id(event)
        if order_id is not None:
            grouped[order_id].append(event)
    return grouped


def terminal_event_missing(
    statuses: Mapping[str, str | None], events: Iterable[dict[str, Any]]
) -> list[str]:
    """Terminal orders whose terminal event has not been seen (yet)."""
    grouped = _by_order(events)
    return [
        order_id
        for order_id, status in statuses.items()
        if status in TERMINAL_STATUSES
        and TERMINAL_EVENT_KIND[status] not in {event_kind(e) for e in grouped.get(order_id, [])}
    ]


def _sequence_problems(status: str | None, events: list[dict[str, Any]]) -> list[str]:
    unique, conflicting = dedupe(events)
    problems = [f"event id {event_id} published with different content" for event_id in conflicting]
    if not unique:
        return [*problems, "no events on order-events"]
    by_sequence: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event_id, event in unique.items():
        sequence = event_sequence(event)
        if sequence is None:
            problems.append(f"event {event_id} has no sequence")
            continue
        if event_id.split(":")[-2:-1] != [str(sequence)]:
            problems.append(f"event id {event_id} does not carry its sequence {sequence}")
        by_sequence[sequence].append(event)
    for sequence, same in sorted(by_sequence.items()):
        if len(same) > 1:
            ids = ", ".join(sorted(str(e.get("id")) for e in same))
            problems.append(f"sequence {sequence} used by several events: {ids}")
    sequences = sorted(by_sequence)
    if sequences != list(range(1, len(sequences) + 1)):
        problems.append(f"sequences {sequences} are not 1..{len(sequences)} without gaps")
    ordered = [by_sequence[s][0] for s in sequences]
    kinds = [event_kind(e) for e in ordered]
    for position, kind in enumerate(kinds):
        if kind == "completed" and "payment_charged" not in kinds[:position]:
            problems.append("completed without an earlier payment_charged")
    terminal = [position for position, kind in enumerate(kinds) if kind in TERMINAL_EVENT_KINDS]
    if len(terminal) > 1:
        problems.append(f"several terminal events: {[kinds[p] for p in terminal]}")
    if terminal and terminal[-1] != len(kinds) - 1:
        problems.append(f"events after the terminal one: {kinds[terminal[-1] + 1 :]}")
    if status in TERMINAL_STATUSES:
        expected = TERMINAL_EVENT_KIND[status]
        if not terminal:
            problems.append(f"final status {status} but no terminal event (events: {kinds})")
        elif kinds[terminal[-1]] != expected:
            problems.append(f"final status {status} but terminal event {kinds[terminal[-1]]}")
    elif terminal:
        problems.append(f"terminal event {kinds[terminal[-1]]} but status {status}")
    return problems


def event_sequences_valid(plan: LoadPlan, observation: Observation) -> InvariantResult:
    grouped = _by_order(observation.events)
    problems = [
        (order.order_id, problem)
        for order in _observed(plan, observation)
        for problem in _sequence_problems(order.status, grouped.get(order.order_id, []))
    ]
    return _result(
        "event_sequences_valid",
        "per order, deduplicated by id: sequences 1..n without gaps, no completed before "
        "payment_charged, one terminal event, last, matching the final status",
        problems,
    )


# ---- dead letters


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def dead_letter_text(record: dict[str, Any]) -> str:
    """Everything a dead-letter record says, with base64 originals decoded, for matching."""
    pieces = [json.dumps(record, sort_keys=True)]
    data = record.get("data")
    if isinstance(data, dict) and data.get("original_encoding") == "base64":
        pieces.append(_decoded(str(data.get("original", ""))))
    if isinstance(record.get("data_base64"), str):
        pieces.append(_decoded(record["data_base64"]))
    return "\n".join(pieces)


def _dead_letter_ref(record: dict[str, Any]) -> str:
    data = record.get("data")
    order_id = data.get("order_id") if isinstance(data, dict) else None
    return str(order_id or f"record {record.get('id')}")


def _reason(record: dict[str, Any]) -> str:
    data = record.get("data")
    return str(data.get("reason")) if isinstance(data, dict) else "(no reason: not a dead letter)"


def dead_letter_counts(plan: LoadPlan, observation: Observation) -> Counter[str]:
    counts: Counter[str] = Counter()
    for record in observation.dead_letters:
        text = dead_letter_text(record)
        counts.update(m.marker for m in plan.malformed if m.marker in text)
    return counts


def dead_letters_expected(plan: LoadPlan, observation: Observation) -> InvariantResult:
    problems: list[Problem] = []
    for record in observation.dead_letters:
        text = dead_letter_text(record)
        matches = [m for m in plan.malformed if m.marker in text]
        if not matches:
            problems.append(
                (_dead_letter_ref(record), f"unexpected dead letter: {_reason(record)}")
            )
        for bad in matches:
            if bad.expected_reason not in _reason(record):
                problems.append(
                    (bad.marker, f"{bad.kind} dead-lettered as {_reason(record)!r}, "
                                 f"expected {bad.expected_reason!r}")
                )  # fmt: skip
    counts = dead_letter_counts(plan, observation)
    problems += [
        (bad.marker, f"no dead letter for the {bad.kind} input")
        for bad in plan.malformed
        if counts[bad.marker] == 0
    ]
    return _result(
        "dead_letters_expected",
        "the only dead letters are the malformed inputs sent on purpose, each one there",
        problems,
    )


CHECKS: tuple[Callable[[LoadPlan, Observation], InvariantResult], ...] = (
    all_orders_terminal,
    at_most_one_charge,
    refunds_within_charges,
    completed_charged_and_shipped,
    unwound_net_zero,
    unwound_never_delivered,
    events_vs_ledger,
    stock_conserved,
    shipped_stock_matches_orders,
    event_sequences_valid,
    dead_letters_expected,
)


def check(plan: LoadPlan, observation: Observation) -> list[InvariantResult]:
    return [invariant(plan, observation) for invariant in CHECKS]


# ---- observations: worth reading, not invariants


@dataclass(frozen=True)
class Note:
    name: str
    description: str
    items: tuple[str, ...]


def notes(plan: LoadPlan, observation: Observation) -> list[Note]:
    orders = {o.order_id: o for o in _observed(plan, observation)}
    unexpected = tuple(
        f"{planned.order_id} ({planned.behaviour.value}): {orders[planned.order_id].status}"
        f" — {orders[planned.order_id].failure_reason}"
        for planned in plan.orders
        if orders[planned.order_id].status not in EXPECTED_STATUSES[planned.behaviour]
    )
    grouped = _by_order(observation.events)
    duplicates = sum(len(events) - len(dedupe(events)[0]) for events in grouped.values())
    repeated = tuple(
        f"{marker}: {count} dead letters"
        for marker, count in dead_letter_counts(plan, observation).items()
        if count > 1
    )
    return [
        Note(
            "outcomes_off_script",
            "orders that ended otherwise than their sandbox behaviour on a healthy fleet "
            "(a fault outlasting a step's retries unwinds an order: allowed)",
            unexpected,
        ),
        Note(
            "duplicate_event_deliveries",
            "order events seen more than once on the topic (same id, dropped by consumers)",
            (f"{duplicates} duplicate copies",) if duplicates else (),
        ),
        Note("repeated_dead_letters", "malformed inputs dead-lettered more than once", repeated),
    ]
