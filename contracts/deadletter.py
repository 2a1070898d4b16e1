"""Dead-letter records: what intake writes to `<topic>.dlq` instead of blocking a partition."""

from datetime import datetime

from pydantic import BaseModel, Field

DEAD_LETTER_TYPE = "com.orderfleet.deadletter.v1"
# Kafka messages are capped at 8 MiB here; larger originals are kept in part with their hash.
MAX_ORIGINAL_CHARS = 6 * 1024 * 1024


class FieldError(BaseModel):
    field: str
    message: str


class DeadLetter(BaseModel):
    topic: str
    reason: str
    errors: list[FieldError] = Field(default_factory=list)
    received_at: datetime
    order_id: str | None = None
    original: str = Field(description="the message as received (base64 if it was not text)")
    original_encoding: str = "utf-8"
    original_bytes: int
    original_sha256: str
    truncated: bool = False
