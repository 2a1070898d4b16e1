"""`order-events` deliveries into the read model, a batch per request (bulk subscribe).

An order emits about eight events; one HTTP delivery and one sqlite transaction per batch
cost the sidecar and the orchestrator far less than one per event. Dapr wants a status per
entry: SUCCESS once applied (a redelivery included), DROP for an entry that is not an
order event (nothing could ever apply it), RETRY when the write failed.
"""

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from contracts.events import ORDER_EVENT, OrderEvent

SUCCESS = "SUCCESS"
DROP = "DROP"
RETRY = "RETRY"

# Batches of up to this many events, or whatever arrived within the wait: the read model
# lags the stream by at most that wait, which nothing reads at that resolution.
MAX_BATCH = 100
MAX_BATCH_WAIT_MS = 50


def bulk_subscribe() -> dict[str, Any]:
    return {"enabled": True, "maxMessagesCount": MAX_BATCH, "maxAwaitDurationMs": MAX_BATCH_WAIT_MS}


@dataclass
class Batch:
    events: list[tuple[str, OrderEvent]] = field(default_factory=list)  # (event id, event)
    entry_ids: list[str] = field(default_factory=list)  # the entries of `events`, in order
    dropped: dict[str, str] = field(default_factory=dict)  # entry id -> why

    def statuses(self, applied: bool) -> dict[str, list[dict[str, str]]]:
        status = SUCCESS if applied else RETRY
        return {
            "statuses": [{"entryId": entry, "status": status} for entry in self.entry_ids]
            + [{"entryId": entry, "status": DROP} for entry in self.dropped]
        }


def read_bulk(body: dict[str, Any]) -> Batch:
    """The order events of a bulk delivery (`{"entries": [{"entryId", "event"}, ...]}`)."""
    batch = Batch()
    for entry in body.get("entries") or []:
        entry_id = entry.get("entryId") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not entry_id:
            continue  # Dapr rejects blank entry ids before delivery; nothing to answer
        parsed = read_event(entry.get("event"))
        if isinstance(parsed, str):
            batch.dropped[entry_id] = parsed
        else:
            batch.events.append(parsed)
            batch.entry_ids.append(entry_id)
    return batch


def read_event(envelope: Any) -> tuple[str, OrderEvent] | str:
    """A CloudEvent's id and order event, or why it is not one."""
    if not isinstance(envelope, dict) or not envelope.get("id"):
        return "not a CloudEvent with an id"
    try:
        return str(envelope["id"]), ORDER_EVENT.validate_python(envelope.get("data"))
    except ValidationError as error:
        return f"not an order event: {error.error_count()} error(s): {error.errors()[0]['msg']}"
