"""Recorded workflow histories: small, readable JSON that converts back to the SDK's events.

A recorded history is one workflow instance's events (one generation of it, for a workflow
that continues as new) exactly as the sidecar stored them, minus what replay never reads:
routers, trace contexts, execution ids, task execution ids, stack traces, the inputs of
scheduled activities and child workflows (replay takes their results from the history),
and every timestamp but the one that sets the workflow's clock (`workflowStarted`).
Payloads the code reads back (inputs, results, event data) are stored as JSON values, not
as escaped strings, so a person can read them.

The format is protobuf's JSON form of `HistoryEvent` (field names as in the durabletask
protos), one event per line.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dapr.ext.workflow._durabletask.internal import protos as pb
from google.protobuf import json_format

# What replay needs of each event type; anything else is noise. `None`: keep it all.
_KEEP: dict[str, frozenset[str] | None] = {
    "workflowStarted": frozenset({"version"}),
    "executionStarted": frozenset({"name", "version", "input", "parentInstance"}),
    "executionCompleted": frozenset({"workflowStatus", "result", "failureDetails"}),
    "executionTerminated": frozenset({"input", "recurse"}),
    "taskScheduled": frozenset({"name", "version"}),
    "taskCompleted": frozenset({"taskScheduledId", "result"}),
    "taskFailed": frozenset({"taskScheduledId", "failureDetails"}),
    "childWorkflowInstanceCreated": frozenset({"instanceId", "name", "version"}),
    "childWorkflowInstanceCompleted": frozenset({"taskScheduledId", "result"}),
    "childWorkflowInstanceFailed": frozenset({"taskScheduledId", "failureDetails"}),
    "timerCreated": None,
    "timerFired": frozenset({"timerId", "fireAt"}),
    "eventRaised": frozenset({"name", "input"}),
    "eventSent": frozenset({"instanceId", "name", "input"}),
}
_FAILURE_KEEP = frozenset({"errorType", "errorMessage", "isNonRetriable"})
_PARENT_KEEP = frozenset({"name", "taskScheduledId", "workflowInstance"})
# String payloads the code decodes as JSON: stored expanded, re-encoded on load.
_PAYLOADS = frozenset({"input", "result"})
# Events the workflow's code caused (its actions, as the sidecar recorded them).
ACTION_EVENTS = frozenset(
    {"taskScheduled", "timerCreated", "childWorkflowInstanceCreated", "executionCompleted",
     "eventSent", "detachedWorkflowInstanceCreated"}
)  # fmt: skip


def event_type(event: dict[str, Any]) -> str:
    kinds = [key for key in event if key not in ("eventId", "timestamp", "router")]
    if len(kinds) != 1:
        raise ValueError(f"not one history event: {event!r}")
    return kinds[0]


def compact(event: pb.HistoryEvent) -> dict[str, Any]:
    """The stored form of one event: what replay needs, payloads as JSON values."""
    raw = json_format.MessageToDict(event)
    kind = event.WhichOneof("eventType")
    if kind is None:
        raise ValueError(f"history event without a type: {raw!r}")
    body: dict[str, Any] = raw.get(kind, {})
    keep = _KEEP.get(kind)
    if keep is not None:
        body = {key: value for key, value in body.items() if key in keep}
    for key in ("failureDetails",):
        if key in body:
            body[key] = {k: v for k, v in body[key].items() if k in _FAILURE_KEEP}
    if "parentInstance" in body:
        parent = {k: v for k, v in body["parentInstance"].items() if k in _PARENT_KEEP}
        if "workflowInstance" in parent:
            parent["workflowInstance"] = {"instanceId": parent["workflowInstance"]["instanceId"]}
        body["parentInstance"] = parent
    for key in _PAYLOADS & body.keys():
        body[key] = json.loads(body[key]) if body[key] != "" else None
    stored: dict[str, Any] = {"eventId": raw.get("eventId", 0)}
    if kind == "workflowStarted":
        stored["timestamp"] = raw["timestamp"]  # the workflow's clock for this work item
    stored[kind] = body
    return stored


def expand(stored: dict[str, Any]) -> pb.HistoryEvent:
    """The SDK's event from its stored form."""
    kind = event_type(stored)
    body = dict(stored[kind])
    for key in _PAYLOADS & body.keys():
        if body[key] is None:
            del body[key]
        else:
            body[key] = json.dumps(body[key])
    message = {**stored, kind: body}
    event = pb.HistoryEvent()
    json_format.ParseDict(message, event)
    return event


@dataclass(frozen=True)
class RecordedHistory:
    """One workflow instance's history (one generation of it), as recorded on a fleet."""

    path: str  # the business path it was recorded for: "completed", "cancel_charge", ...
    name: str  # its role within the path: "order", "monitor.gen1", "order-3.monitor", ...
    instance_id: str
    workflow: str
    events: tuple[dict[str, Any], ...]
    note: str | None = None
    recorded: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path}/{self.name}"

    @property
    def complete(self) -> bool:
        return any(event_type(e) == "executionCompleted" for e in self.events)

    def proto_events(self) -> list[pb.HistoryEvent]:
        return [expand(e) for e in self.events]

    def work_items(self) -> list[int]:
        """Where each work item begins (the index of its `workflowStarted` event). A history
        cut just before one of them is the instance as it stood between two work items: at a
        wait point, as an in-flight order is when a new release meets it."""
        return [i for i, e in enumerate(self.events) if event_type(e) == "workflowStarted"]

    def truncated(self, end: int, why: str) -> "RecordedHistory":
        """The history's first `end` events: the instance still in flight at that point."""
        if end not in self.work_items()[1:]:
            raise ValueError(f"{self.label}: event {end} does not begin a work item")
        return replace(self, name=f"{self.name}[:{end}]", events=self.events[:end], note=why)

    def find(self, kind: str, name: str | None = None) -> Iterator[int]:
        """The indexes of events of `kind` (with this `name`, when given)."""
        for index, event in enumerate(self.events):
            if event_type(event) == kind and (name is None or event[kind].get("name") == name):
                yield index


def dumps(history: RecordedHistory) -> str:
    """One key per line, one event per line: readable, and a regeneration diffs per event."""
    head: dict[str, Any] = {
        "path": history.path,
        "name": history.name,
        "instance_id": history.instance_id,
        "workflow": history.workflow,
    }
    if history.note:
        head["note"] = history.note
    head["recorded"] = history.recorded
    lines = ["{"]
    lines += [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append('  "events": [')
    events = [f"    {json.dumps(event, ensure_ascii=False)}" for event in history.events]
    lines.append(",\n".join(events))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def loads(text: str) -> RecordedHistory:
    data = json.loads(text)
    return RecordedHistory(
        path=data["path"],
        name=data["name"],
        instance_id=data["instance_id"],
        workflow=data["workflow"],
        events=tuple(data["events"]),
        note=data.get("note"),
        recorded=data.get("recorded", {}),
    )


def file_for(root: Path, history: RecordedHistory) -> Path:
    return root / history.path / f"{history.name}.json"


def write(root: Path, history: RecordedHistory) -> Path:
    target = file_for(root, history)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(history))
    return target


def load_all(root: Path) -> list[RecordedHistory]:
    """Every recorded history under `root` (`<path>/<name>.json`), in a stable order."""
    return [loads(file.read_text()) for file in sorted(root.glob("*/*.json"))]


def by_path(histories: Iterable[RecordedHistory]) -> dict[str, list[RecordedHistory]]:
    paths: dict[str, list[RecordedHistory]] = {}
    for history in histories:
        paths.setdefault(history.path, []).append(history)
    return paths
