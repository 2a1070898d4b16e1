"""The load: a seeded plan of orders over a few SKUs of the run, and its publisher.

Orders go to Kafka `order-requests` with kafka-python, as CloudEvents or plain JSON, at a
steady pace; a Kafka fault only delays a publish (it is retried until the broker is back).
"""

import contextlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from chaos.model import (
    Behaviour,
    Line,
    LoadPlan,
    MalformedInput,
    Message,
    PlannedOrder,
    SkuPlan,
)
from contracts.topics import ORDER_REQUESTS
from fleet.kafka_auth import client_options
from fleet.kafka_io import MAX_REQUEST_BYTES, order_cloudevent

APPROVAL_THRESHOLD = Decimal("1000.00")  # orders at or above it wait (24 h) for a person
REGULAR_PRICES = (Decimal("12.50"), Decimal("24.99"), Decimal("7.35"))
SCARCE_PRICE = Decimal("2.50")
REGULAR_HEADROOM = 5  # regular SKUs hold every unit the plan could ask for, and a few more

# Shares of the load per behaviour (weights, not percentages).
MIX: tuple[tuple[Behaviour, int], ...] = (
    (Behaviour.PAYS, 50),
    (Behaviour.FLAKY, 14),
    (Behaviour.DECLINED, 12),
    (Behaviour.UNDELIVERABLE, 10),
    (Behaviour.SCARCE, 9),
    (Behaviour.OVER_STOCK, 5),
)
TOKENS = {
    Behaviour.PAYS: "tok_visa",
    Behaviour.FLAKY: "tok_flaky",
    Behaviour.DECLINED: "tok_decline",
    Behaviour.UNDELIVERABLE: "tok_visa",
    Behaviour.SCARCE: "tok_visa",
    Behaviour.OVER_STOCK: "tok_visa",
}
MALFORMED_KINDS = (
    "not_json",
    "not_utf8",
    "missing_fields",
    "bad_quantity",
    "unknown_sku",
    "not_object",
)


def _malformed(kind: str, marker: str, valid: dict[str, Any], unknown_sku: str) -> MalformedInput:
    body: dict[str, Any] = {**valid, "order_id": marker}
    if kind == "not_json":
        return MalformedInput(marker, kind, f"{marker} is not JSON {{".encode(), "not JSON")
    if kind == "not_utf8":
        return MalformedInput(marker, kind, b"\xff\xfe" + marker.encode() + b"\x81", "not JSON")
    if kind == "missing_fields":
        body = {"order_id": marker, "customer_id": marker}  # no items, address, token
        return MalformedInput(marker, kind, json.dumps(body).encode(), "invalid order")
    if kind == "bad_quantity":
        body["items"] = [{**valid["items"][0], "quantity": 0}]
        return MalformedInput(marker, kind, json.dumps(body).encode(), "invalid order")
    if kind == "unknown_sku":
        body["items"] = [{"sku": unknown_sku, "quantity": 1}]
        return MalformedInput(marker, kind, json.dumps(body).encode(), "unknown SKU")
    if kind == "not_object":
        return MalformedInput(marker, kind, json.dumps([marker]).encode(), "not a JSON object")
    raise ValueError(f"unknown malformed kind {kind!r}")


def _behaviours(rng: random.Random, orders: int) -> list[Behaviour]:
    kinds = [behaviour for behaviour, _ in MIX]
    weights = [weight for _, weight in MIX]
    # Every behaviour at least once whenever the load is big enough to hold them all.
    chosen = kinds[:orders] + rng.choices(kinds, weights, k=max(0, orders - len(kinds)))
    rng.shuffle(chosen)
    return chosen


def build_plan(orders: int, seed: int, run_id: str) -> LoadPlan:
    """The run's SKUs, orders, malformed inputs and publication sequence, from the seed."""
    if orders < 1:
        raise ValueError("a chaos run needs at least one order")
    rng = random.Random(seed)
    prefix = f"chaos-{run_id}-"
    sku_prefix = f"CHAOS-{run_id.upper()}-"
    regular = [f"{sku_prefix}{letter}" for letter in "ABC"]
    scarce = f"{sku_prefix}S"
    prices = {**dict(zip(regular, REGULAR_PRICES, strict=True)), scarce: SCARCE_PRICE}
    behaviours = _behaviours(rng, orders)
    scarce_stock = max(1, behaviours.count(Behaviour.SCARCE) // 2)

    planned: list[PlannedOrder] = []
    for n, behaviour in enumerate(behaviours, start=1):
        regular_lines = [
            Line(sku, rng.randint(1, 3)) for sku in rng.sample(regular, rng.choice((1, 1, 2)))
        ]
        if behaviour == Behaviour.SCARCE:
            lines = [Line(scarce, 1), *regular_lines[: rng.randint(0, 1)]]
        elif behaviour == Behaviour.OVER_STOCK:
            lines = [Line(scarce, scarce_stock + rng.randint(1, 5)), *regular_lines[:1]]
        else:
            lines = regular_lines
        total = sum((prices[line.sku] * line.quantity for line in lines), Decimal("0.00"))
        if total >= APPROVAL_THRESHOLD:
            raise AssertionError(f"order {n} totals {total}: it would wait for approval")
        planned.append(
            PlannedOrder(
                order_id=f"{prefix}{n}",
                customer_id=f"{prefix}cust-{rng.randint(1, max(1, orders // 4))}",
                behaviour=behaviour,
                lines=tuple(lines),
                token=TOKENS[behaviour],
                country="ZZ" if behaviour == Behaviour.UNDELIVERABLE else "PT",
                total=total,
                as_cloudevent=rng.random() < 0.8,
            )
        )

    demand: Counter[str] = Counter()
    for order in planned:
        for line in order.lines:
            demand[line.sku] += line.quantity
    skus = tuple(
        SkuPlan(sku, f"Chaos {sku}", prices[sku], demand[sku] + REGULAR_HEADROOM) for sku in regular
    )
    skus += (SkuPlan(scarce, f"Chaos {scarce}", SCARCE_PRICE, scarce_stock),)

    valid = planned[0].payload()
    malformed = tuple(
        _malformed(
            MALFORMED_KINDS[k % len(MALFORMED_KINDS)],
            f"{prefix}bad-{k + 1:03d}",
            valid,
            f"{sku_prefix}NOPE",
        )
        for k in range(max(len(MALFORMED_KINDS), orders // 100))
    )

    messages = [Message("order", o.order_id) for o in planned]
    messages += [Message("malformed", m.marker) for m in malformed]
    rng.shuffle(messages)
    payers = [o.order_id for o in planned if o.behaviour == Behaviour.PAYS] or [planned[0].order_id]
    duplicate_of = rng.choice(payers)
    first = next(i for i, m in enumerate(messages) if m.ref == duplicate_of)
    messages.insert(rng.randint(first + 1, len(messages)), Message("duplicate", duplicate_of))
    return LoadPlan(
        run_id=run_id,
        seed=seed,
        skus=skus,
        orders=tuple(planned),
        malformed=malformed,
        duplicate_of=duplicate_of,
        messages=tuple(messages),
    )


def render(plan: LoadPlan, message: Message) -> tuple[str, bytes]:
    """The Kafka key and value of one message of the load."""
    if message.kind == "malformed":
        [bad] = [m for m in plan.malformed if m.marker == message.ref]
        return bad.marker, bad.raw
    order = plan.order(message.ref)
    # The duplicate goes out in the other format: intake must see the same order either way.
    as_cloudevent = order.as_cloudevent != (message.kind == "duplicate")
    payload = order.payload()
    body = order_cloudevent(payload) if as_cloudevent else json.dumps(payload).encode()
    return order.order_id, body


@dataclass
class PublishStats:
    published: int = 0
    retries: int = 0  # publishes repeated after an error (Kafka down); each may duplicate
    started_at: float | None = None
    finished_at: float | None = None
    errors: list[str] = field(default_factory=list)


class Publisher(threading.Thread):
    """Publishes the plan's messages at `rate` per second, retrying each until it lands."""

    def __init__(
        self,
        plan: LoadPlan,
        rate: float,
        *,
        say: Callable[[str], None],
        give_up_after_s: float = 300.0,
    ) -> None:
        super().__init__(name="chaos-publisher", daemon=True)
        self._plan = plan
        self._interval = 1.0 / rate
        self._say = say
        self._give_up_after_s = give_up_after_s
        self._halt = threading.Event()
        self.stats = PublishStats()

    def halt(self) -> None:
        self._halt.set()

    def run(self) -> None:
        self.stats.started_at = time.time()
        producer: KafkaProducer | None = None
        try:
            start = time.monotonic()
            for index, message in enumerate(self._plan.messages):
                if self._halt.wait(max(0.0, start + index * self._interval - time.monotonic())):
                    self.stats.errors.append(f"halted after {self.stats.published} messages")
                    return
                key, body = render(self._plan, message)
                producer = self._send(producer, key, body)
                self.stats.published += 1
        except Exception as error:  # reported in the run's report; the checker sees the gap
            self.stats.errors.append(f"publisher stopped: {error!r}")
        finally:
            _discard(producer, timeout_s=5)
            self.stats.finished_at = time.time()

    def _send(self, producer: KafkaProducer | None, key: str, body: bytes) -> KafkaProducer:
        deadline = time.monotonic() + self._give_up_after_s
        while True:
            try:
                if producer is None:
                    producer = KafkaProducer(
                        **client_options("producer"),
                        acks="all",
                        max_request_size=MAX_REQUEST_BYTES,
                        client_id="chaos-load",
                    )
                producer.send(ORDER_REQUESTS, value=body, key=key.encode()).get(timeout=15)
                return producer
            except (KafkaError, OSError) as error:
                if time.monotonic() > deadline or self._halt.is_set():
                    raise
                self.stats.retries += 1
                self._say(f"  … publish of {key} failed ({type(error).__name__}); retrying")
                _discard(producer, timeout_s=1)
                producer = None
                self._halt.wait(1.0)


def _discard(producer: KafkaProducer | None, *, timeout_s: float) -> None:
    """Closes a producer whose broker may be gone: its flush then times out, which must
    neither end the load (a retry follows) nor crash the thread."""
    if producer is None:
        return
    with contextlib.suppress(KafkaError):
        producer.close(timeout=timeout_s)
