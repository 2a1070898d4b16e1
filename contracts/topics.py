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


# The CloudEvents Kafka protocol binding tells a structured-mode event (the whole
# CloudEvent as JSON in the value, as everything we publish is) by this record header;
# strict consumers (the Java SDK's deserializer, for one) read binary mode without it.
# Dapr's Kafka component turns publish metadata into record headers.
STRUCTURED_CLOUDEVENT = "application/cloudevents+json"
STRUCTURED_MODE_METADATA: Final = {"content-type": STRUCTURED_CLOUDEVENT}
STRUCTURED_MODE_HEADERS: Final = [("content-type", STRUCTURED_CLOUDEVENT.encode())]
