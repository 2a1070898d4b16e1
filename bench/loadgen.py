"""Open-loop load: arrivals on a fixed schedule, whatever the system under test does.

A sender only starts the work (a Kafka send returns at once; a floor workflow start is
handed to a small pool), so a slow system never slows the arrivals down. The generator
records how far behind its schedule it ever fell, which should stay near zero.
"""

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from bench.schedule import Step
from bench.tracker import Ledger
from contracts.topics import ORDER_REQUESTS, STRUCTURED_MODE_HEADERS
from fleet.kafka_auth import client_options
from fleet.kafka_io import order_cloudevent

Fire = Callable[[str, float], None]  # (key, scheduled time) → start the work, return at once


@dataclass(frozen=True)
class LoopStats:
    sent: int
    started: float
    ended: float
    max_lag_s: float  # worst delay between a scheduled time and the actual send


def run_open_loop(
    step: Step,
    keys: list[str],
    fire: Fire,
    *,
    on_tick: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> LoopStats:
    """Fires `keys[i]` at start + i/rate; `on_tick(sent)` about ten times a second."""
    offsets = step.offsets()
    if len(keys) != len(offsets):
        raise ValueError(f"{len(keys)} keys for {len(offsets)} arrivals")
    started = time.monotonic()
    max_lag = 0.0
    last_tick = 0.0
    sent = 0
    for key, offset in zip(keys, offsets, strict=True):
        if stop is not None and stop.is_set():
            break
        scheduled = started + offset
        while (wait := scheduled - time.monotonic()) > 0:
            time.sleep(min(wait, 0.1))
            if on_tick and time.monotonic() - last_tick > 0.1:
                on_tick(sent)
                last_tick = time.monotonic()
        max_lag = max(max_lag, time.monotonic() - scheduled)
        fire(key, scheduled)
        sent += 1
    # The step lasts its full duration even if the last arrival came early.
    end = started + step.duration_s
    while (wait := end - time.monotonic()) > 0:
        time.sleep(min(wait, 0.1))
        if on_tick:
            on_tick(sent)
    return LoopStats(sent, started, time.monotonic(), max_lag)


def run_id() -> str:
    return time.strftime("%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]


def order_payload(order_id: str, sku: str) -> dict[str, Any]:
    """A one-line order that pays and ships: tok_visa, Germany, quantity 1."""
    return {
        "order_id": order_id,
        "customer_id": f"bench-{order_id[-6:]}",
        "items": [{"sku": sku, "quantity": 1}],
        "shipping_address": {
            "name": "Bench Mark",
            "line1": "1 Lastweg",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "payment_token": "tok_visa",
    }


class KafkaOrderSender:
    """Publishes orders on `order-requests` as CloudEvents, keyed by order id."""

    def __init__(self, ledger: Ledger, sku: str) -> None:
        self._ledger = ledger
        self._sku = sku
        self._producer = KafkaProducer(
            **client_options("producer"),
            acks=1,
            linger_ms=1,
            reconnect_backoff_max_ms=1000,
            client_id="bench-load",
        )

    def warm_up(self) -> None:
        """Fetches the topic's metadata now, so the first timed send does not wait for it."""
        self._producer.partitions_for(ORDER_REQUESTS)

    def fire(self, key: str, scheduled: float) -> None:
        body = order_cloudevent(order_payload(key, self._sku))
        self._ledger.sent(key, time.monotonic())
        future = self._producer.send(
            ORDER_REQUESTS, value=body, key=key.encode(), headers=STRUCTURED_MODE_HEADERS
        )
        future.add_errback(
            lambda error: self._ledger.fail(key, f"send failed: {error}", time.monotonic())
        )

    def close(self) -> None:
        self._producer.flush(timeout=30)
        self._producer.close(timeout=10)


class WorkflowStarter:
    """Starts floor workflows through a DaprWorkflowClient from a small thread pool."""

    def __init__(self, ledger: Ledger, start: Callable[[str], None], threads: int = 8) -> None:
        self._ledger = ledger
        self._start = start
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-start")

    def fire(self, key: str, scheduled: float) -> None:
        self._pool.submit(self._call, key)

    def _call(self, key: str) -> None:
        self._ledger.sent(key, time.monotonic())
        try:
            self._start(key)
        except Exception as error:  # the SDK raises bare gRPC errors
            self._ledger.fail(key, f"start failed: {str(error)[:120]}", time.monotonic())

    def close(self) -> None:
        self._pool.shutdown(wait=True)
