"""Receives diagnostic probes and answers whether one arrived (the doctor's pub/sub hop)."""

import json
import logging
from datetime import UTC, datetime

from cloudevents.sdk.event import v1
from dapr.clients import DaprClient
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.clients.grpc._response import TopicEventResponse
from dapr.ext.grpc import App
from pydantic import ValidationError

from contracts.diagnostics import RECEIPT_METHOD, Probe, ProbeReceipt
from contracts.topics import DIAGNOSTICS, PUBSUB
from services.notifications.subscriptions import event_payload

logger = logging.getLogger(__name__)
STORE = "notifications-store"


def _key(probe_id: str) -> str:
    return f"diagnostics:probe:{probe_id}"


def register_probe_handlers(app: App, dapr: DaprClient) -> None:
    def on_probe(event: v1.Event) -> TopicEventResponse:
        try:
            probe = Probe.model_validate_json(event_payload(event))
        except ValidationError as error:
            logger.warning("dropping malformed probe: %s", error)
            return TopicEventResponse("drop")
        receipt = ProbeReceipt(
            probe_id=probe.probe_id, received=True, received_at=datetime.now(UTC)
        )
        dapr.save_state(STORE, _key(probe.probe_id), receipt.model_dump_json())
        logger.info("diagnostic probe received", extra={"probe_id": probe.probe_id})
        return TopicEventResponse("success")

    def receipt(request: InvokeMethodRequest) -> str:
        probe_id = Probe.model_validate(json.loads(request.data or b"{}")).probe_id
        stored = dapr.get_state(STORE, _key(probe_id)).data
        if stored:
            return stored.decode()
        return ProbeReceipt(probe_id=probe_id, received=False).model_dump_json()

    app.subscribe(pubsub_name=PUBSUB, topic=DIAGNOSTICS)(on_probe)
    app.method(RECEIPT_METHOD)(receipt)
