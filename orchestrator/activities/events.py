"""Publishes order events as CloudEvents on `order-events`.

The workflow's durable history is the outbox: a step is recorded before its event is
published, the publish activity is retried until it succeeds, and the event id is
derived from (order, sequence, type), so a republished event is a duplicate consumers
drop by id, never a second fact. The Kafka key is the order id, keeping each order's
events in order on one partition.
"""

from typing import Any

from cloudevents.conversion import to_json
from cloudevents.http import CloudEvent
from dapr.ext.workflow import WorkflowActivityContext

from contracts.events import EVENT_SOURCE, ORDER_EVENT, event_id
from contracts.notifications import NOTIFICATION_SOURCE, Notification
from contracts.topics import NOTIFICATIONS, ORDER_EVENTS, PUBSUB
from orchestrator.activities.dapr_client import dapr


def build_cloudevent(event_data: dict[str, Any]) -> CloudEvent:
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


def publish_order_event(ctx: WorkflowActivityContext, event_data: dict[str, Any]) -> str:
    cloudevent = build_cloudevent(event_data)
    dapr().publish_event(
        PUBSUB,
        ORDER_EVENTS,
        data=to_json(cloudevent),
        data_content_type="application/cloudevents+json",
        publish_metadata={"partitionKey": str(cloudevent["subject"])},
    )
    return str(cloudevent["id"])


def publish_notification(ctx: WorkflowActivityContext, notification_data: dict[str, Any]) -> str:
    notification = Notification.model_validate(notification_data)
    cloudevent = CloudEvent(
        {
            "id": notification.notification_id,
            "source": NOTIFICATION_SOURCE,
            "type": notification.kind.event_type,
            "subject": notification.order_id,
            "time": notification.occurred_at.isoformat(),
            "datacontenttype": "application/json",
        },
        notification.model_dump(mode="json"),
    )
    dapr().publish_event(
        PUBSUB,
        NOTIFICATIONS,
        data=to_json(cloudevent),
        data_content_type="application/cloudevents+json",
        publish_metadata={"partitionKey": notification.customer_id},
    )
    return notification.notification_id
