"""Notification use cases: record one (dropping redeliveries by id) and read a history."""

import json
import logging

from contracts.notifications import CustomerRef, Notification, NotificationHistory
from services.state import KeyValueStore, Write, retry_on_conflict

logger = logging.getLogger(__name__)

# A customer's history keeps the newest entries; old ones age out rather than grow forever.
MAX_HISTORY = 500


def _key(customer_id: str) -> str:
    return f"customer:{customer_id}:notifications"


def record(store: KeyValueStore, notification: Notification) -> bool:
    """Appends the notification to its customer's history; False if it was already there."""

    def attempt() -> bool:
        raw, etag = store.get(_key(notification.customer_id))
        history = NotificationHistory.model_validate_json(raw) if raw else None
        entries = history.notifications if history else []
        if any(n.notification_id == notification.notification_id for n in entries):
            return False
        entries = [*entries, notification][-MAX_HISTORY:]
        updated = NotificationHistory(customer_id=notification.customer_id, notifications=entries)
        store.transact(
            [
                Write(
                    _key(notification.customer_id),
                    updated.model_dump_json(),
                    etag=etag,
                    must_not_exist=etag is None,
                )
            ]
        )
        return True

    added = retry_on_conflict(attempt)
    logger.info(
        "notification %s %s",
        notification.kind.value,
        "recorded" if added else "already recorded (redelivery dropped)",
        extra={"order_id": notification.order_id},
    )
    return added


def history(store: KeyValueStore, customer: CustomerRef) -> NotificationHistory:
    raw, _ = store.get(_key(customer.customer_id))
    if not raw:
        return NotificationHistory(customer_id=customer.customer_id, notifications=[])
    return NotificationHistory.model_validate(json.loads(raw))
