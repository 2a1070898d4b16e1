"""Publishes what workflows announce: order events on `order-events`, notifications on
`notifications`, both as CloudEvents, in bulk.

The workflow's durable history is the outbox: a step is recorded before its events are
published, the publish activity is retried until it succeeds, and every id is derived
from the message's content, so a republished message is a duplicate consumers drop by
id, never a second fact. Order events are keyed by order id (one partition, in order);
notifications by customer id.
"""

from collections.abc import Iterable
from typing import Any

from cloudevents.conversion import to_json
from cloudevents.http import CloudEvent
from dapr.ext.workflow import WorkflowActivityContext

from contracts.events import EVENT_SOURCE, ORDER_EVENT, event_id
from contracts.notifications import NOTIFICATION_SOURCE, Notification
from contracts.topics import (
    NOTIFICATIONS,
    ORDER_EVENTS,
    PUBSUB,
    STRUCTURED_CLOUDEVENT,
    STRUCTURED_MODE_METADATA,
)
from orchestrator.activities.dapr_client import async_dapr


class PublishFailed(RuntimeError):
    """Some entries of a bulk publish did not land; the activity's retry sends them all
    again (consumers drop the ones that had landed, by id)."""


def order_cloudevent(event_data: dict[str, Any]) -> CloudEvent:
    event = ORDER_EVENT.validate_python(event_data)
    attributes = {
        "id": event_id(event.order_id, event.sequence, event.type),
        "source": EVENT_SOURCE,
        "type": event.type.value,
        "subject": event.order_id,
        "time": event.occurred_at.isoformat(),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, event.model_dump(mode="json"))


def notification_cloudevent(notification_data: dict[str, Any]) -> CloudEvent:
    notification = Notification.model_validate(notification_data)
    attributes = {
        "id": notification.notification_id,
        "source": NOTIFICATION_SOURCE,
        "type": notification.kind.event_type,
        "subject": notification.order_id,
        "time": notification.occurred_at.isoformat(),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, notification.model_dump(mode="json"))


async def _bulk_publish(topic: str, keyed: Iterable[tuple[str, CloudEvent]]) -> list[str]:
    """One bulk publish per partition key, so each key's messages stay in order."""
    by_key: dict[str, list[CloudEvent]] = {}
    for key, cloudevent in keyed:
        by_key.setdefault(key, []).append(cloudevent)
    published = []
    for key, batch in by_key.items():
        response = await async_dapr().publish_events(
            PUBSUB,
            topic,
            data=[to_json(cloudevent) for cloudevent in batch],
            data_content_type=STRUCTURED_CLOUDEVENT,
            publish_metadata={**STRUCTURED_MODE_METADATA, "partitionKey": key},
        )
        if response.failed_entries:
            reasons = {entry.error for entry in response.failed_entries}
            raise PublishFailed(
                f"{len(response.failed_entries)} of {len(batch)} messages to {topic} failed: "
                + "; ".join(sorted(reasons))
            )
        published += [str(cloudevent["id"]) for cloudevent in batch]
    return published


async def publish_outbound(ctx: WorkflowActivityContext, batch: dict[str, Any]) -> list[str]:
    """Publishes a batch {"events": [...], "notifications": [...]}; returns the ids."""
    events = [order_cloudevent(event) for event in batch.get("events", [])]
    notifications = [
        (str(n["customer_id"]), notification_cloudevent(n)) for n in batch.get("notifications", [])
    ]
    published = await _bulk_publish(
        ORDER_EVENTS, [(str(event["subject"]), event) for event in events]
    )
    return published + await _bulk_publish(NOTIFICATIONS, notifications)
