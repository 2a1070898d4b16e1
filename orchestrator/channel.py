"""The Dapr app channel: what the orchestrator's sidecar calls (subscriptions, deliveries).

Kept apart from the public API so that nothing public can pose as the sidecar.
"""

import base64
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from opentelemetry.trace import SpanKind
from starlette.concurrency import run_in_threadpool

from contracts.deadletter import DEAD_LETTER_TYPE, DeadLetter
from contracts.topics import (
    ORDER_APPROVALS,
    ORDER_EVENTS,
    ORDER_REQUESTS,
    PUBSUB,
    STRUCTURED_MODE_METADATA,
    dead_letter,
)
from observability.tracing import context_from, current_trace_id, span
from orchestrator import intake, order_events_feed
from orchestrator.approvals import handle_decision
from orchestrator.deps import Deps
from orchestrator.guards import MAX_CHANNEL_BODY_BYTES, limit_body_size, require_app_token
from orchestrator.http_telemetry import TELEMETRY
from orchestrator.orders import start_bulk, start_order

logger = logging.getLogger(__name__)

SUCCESS = {"status": "SUCCESS"}
RETRY = {"status": "RETRY"}
DROP = {"status": "DROP"}


def subscriptions() -> list[dict[str, Any]]:
    return [
        {
            "pubsubname": PUBSUB,
            "topic": ORDER_REQUESTS,
            "route": "/events/order-requests",
            # Raw bytes reach intake untouched, so even a message that is not JSON
            # can be dead-lettered with its original content.
            "metadata": {"rawPayload": "true"},
            "deadLetterTopic": dead_letter(ORDER_REQUESTS),
        },
        {
            "pubsubname": PUBSUB,
            "topic": ORDER_APPROVALS,
            "route": "/events/order-approvals",
            "metadata": {"rawPayload": "true"},
            "deadLetterTopic": dead_letter(ORDER_APPROVALS),
        },
        {
            "pubsubname": PUBSUB,
            "topic": ORDER_EVENTS,
            "route": "/events/order-events",
            "bulkSubscribe": order_events_feed.bulk_subscribe(),
        },
    ]


def _raw_message(envelope: dict[str, Any]) -> bytes:
    if "data_base64" in envelope:
        return base64.b64decode(envelope["data_base64"])
    data = envelope.get("data")
    return data.encode() if isinstance(data, str) else json.dumps(data).encode()


def publish_dead_letter(deps: Deps, record: DeadLetter) -> None:
    deps.dapr().publish_event(
        PUBSUB,
        dead_letter(record.topic),
        data=record.model_dump_json(),
        data_content_type="application/json",
        publish_metadata={**STRUCTURED_MODE_METADATA, "cloudevent.type": DEAD_LETTER_TYPE},
    )
    logger.warning(
        "dead-lettered a message from %s: %s",
        record.topic,
        record.reason,
        extra={"order_id": record.order_id},
    )


@contextmanager
def intake_span(name: str, traceparent: str | None, order_id: str) -> Iterator[None]:
    """The root of an order's trace: the producer's context when the message carried one,
    else the sidecar's delivery span (the envelope's traceparent)."""
    with span(
        name,
        parent=context_from({"traceparent": traceparent}),
        kind=SpanKind.CONSUMER,
        order_id=order_id,
        topic=ORDER_REQUESTS,
    ):
        yield


async def _deliver(
    handle: Callable[[dict[str, Any]], None], request: Request, what: str
) -> dict[str, str]:
    """Runs a delivery's handler off the event loop (the Dapr clients block) and answers
    Dapr: SUCCESS once handled (dead letters included), RETRY on any fault, which is
    transient from Kafka's point of view."""
    try:
        await run_in_threadpool(handle, json.loads(await request.body()))
    except Exception:
        logger.exception("%s failed; asking for redelivery", what)
        return RETRY
    return SUCCESS


def build_channel(deps: Deps) -> FastAPI:
    channel = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, telemetry=TELEMETRY)
    limit_body_size(channel, MAX_CHANNEL_BODY_BYTES)
    require_app_token(channel)

    @channel.get("/dapr/subscribe")
    def list_subscriptions() -> list[dict[str, Any]]:
        return subscriptions()

    @channel.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    def handle_order_request(envelope: dict[str, Any]) -> None:
        raw = _raw_message(envelope)
        decision = intake.decide(
            raw,
            topic=ORDER_REQUESTS,
            now=datetime.now(UTC),
            unknown_skus=deps.catalog.unknown,
            traceparent=envelope.get("traceparent"),
        )
        if isinstance(decision, intake.Rejected):
            publish_dead_letter(deps, decision.dead_letter)
        elif isinstance(decision, intake.AcceptedBulk):
            with intake_span("intake bulk", decision.traceparent, decision.bulk.bulk_id):
                start_bulk(
                    deps.workflows(),
                    decision.bulk,
                    current_trace_id(),
                    deps.policy,
                    deps.bulk_concurrency,
                )
        else:
            with intake_span("intake order", decision.traceparent, decision.order.order_id):
                start_order(
                    deps.workflows(),
                    decision.order,
                    current_trace_id(),
                    deps.policy,
                    deps.read_model,
                )

    def handle_approval(envelope: dict[str, Any]) -> None:
        outcome = handle_decision(
            _raw_message(envelope),
            event_id=str(envelope.get("id")),
            topic=ORDER_APPROVALS,
            now=datetime.now(UTC),
            workflows=deps.workflows(),
            read_model=deps.read_model,
            policy=deps.policy,
        )
        if isinstance(outcome, intake.Rejected):
            publish_dead_letter(deps, outcome.dead_letter)

    @channel.post("/events/order-requests")
    async def on_order_request(request: Request) -> dict[str, str]:
        return await _deliver(handle_order_request, request, "intake")

    @channel.post("/events/order-approvals")
    async def on_approval(request: Request) -> dict[str, str]:
        return await _deliver(handle_approval, request, "approval handling")

    @channel.post("/events/order-events")
    async def on_order_events(request: Request) -> dict[str, Any]:
        body = json.loads(await request.body())
        if "entries" not in body:  # one event per delivery: a subscription without bulk
            return await _apply_order_event(body)
        batch = order_events_feed.read_bulk(body)
        for entry_id, reason in batch.dropped.items():
            logger.warning("dropping order-events entry %s: %s", entry_id, reason)
        try:
            # Off the event loop: the write waits for the read model's lock and the disk.
            await run_in_threadpool(deps.read_model.apply_many, batch.events)
        except Exception:
            logger.exception("applying %d order events failed; retrying", len(batch.events))
            return batch.statuses(applied=False)
        return batch.statuses(applied=True)

    async def _apply_order_event(envelope: dict[str, Any]) -> dict[str, str]:
        parsed = order_events_feed.read_event(envelope)
        if isinstance(parsed, str):
            logger.warning("dropping order event %s: %s", envelope.get("id"), parsed)
            return DROP
        await run_in_threadpool(deps.read_model.apply, *parsed)
        return SUCCESS

    return channel
