"""Topic names and the pub/sub component that carries them."""

from typing import Final

PUBSUB: Final = "orderpubsub"

ORDER_REQUESTS: Final = "order-requests"
ORDER_EVENTS: Final = "order-events"
ORDER_APPROVALS: Final = "order-approvals"
NOTIFICATIONS: Final = "notifications"
DIAGNOSTICS: Final = "fleet-diagnostics"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"
