"""The notifications topic subscription and the history method, on the gRPC app."""

import json
import logging

from cloudevents.sdk.event import v1
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.clients.grpc._response import TopicEventResponse
from dapr.ext.grpc import App
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from contracts.notifications import HISTORY_METHOD, CustomerRef, Notification
from contracts.topics import NOTIFICATIONS, PUBSUB
from observability.tracing import context_from, span
from services.notifications import handlers
from services.state import KeyValueStore

logger = logging.getLogger(__name__)


def event_payload(event: v1.Event) -> bytes | str:
    data = event.Data()
    # The gRPC servicer hands over raw bytes; a parsed body is re-serialised for validation.
    return data if isinstance(data, bytes | str) else json.dumps(data)


def register_notification_handlers(app: App, store: KeyValueStore) -> None:
    def on_notification(event: v1.Event) -> TopicEventResponse:
        try:
            notification = Notification.model_validate_json(event_payload(event))
        except ValidationError as error:
            # A malformed message would never become valid: drop it (Dapr dead-letters it).
            logger.warning("dropping malformed notification %s: %s", event.EventID(), error)
            return TopicEventResponse("drop")
        extensions = event.Extensions() or {}
        with span(
            "record notification",
            parent=context_from({"traceparent": extensions.get("traceparent")}),
            kind=SpanKind.CONSUMER,
            order_id=notification.order_id,
            kind_of_notification=notification.kind.value,
        ) as current:
            if not handlers.record(store, notification):
                current.set_attribute("duplicate", True)
        return TopicEventResponse("success")

    def history(request: InvokeMethodRequest) -> str:
        customer = CustomerRef.model_validate_json(request.data or b"{}")
        return handlers.history(store, customer).model_dump_json()

    app.subscribe(
        pubsub_name=PUBSUB, topic=NOTIFICATIONS, dead_letter_topic=f"{NOTIFICATIONS}.dlq"
    )(on_notification)
    app.method(HISTORY_METHOD)(history)
