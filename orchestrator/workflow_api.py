"""Starts workflows and raises their events through the sidecar's HTTP workflow API.

The HTTP API takes a `traceparent` header, so the workflow's spans continue the trace of
whatever started it (an order's intake span). The SDK's workflow client has no way to
pass trace context, which is why starting and raising go through here.
"""

import os
from typing import Any

import httpx

from observability.tracing import current_traceparent


class WorkflowAlreadyExists(Exception):
    """An instance with this id exists already (a duplicate request)."""


def _base() -> str:
    return f"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}/v1.0/workflows/dapr"


def _headers() -> dict[str, str]:
    traceparent = current_traceparent()
    return {"traceparent": traceparent} if traceparent else {}


def start_workflow(name: str, instance_id: str, workflow_input: dict[str, Any]) -> None:
    response = httpx.post(
        f"{_base()}/{name}/start",
        params={"instanceID": instance_id},
        json=workflow_input,
        headers=_headers(),
        timeout=30,
    )
    if response.status_code >= 400:
        if "already exists" in response.text.lower():
            raise WorkflowAlreadyExists(instance_id)
        response.raise_for_status()


def raise_event(instance_id: str, event_name: str, data: dict[str, Any]) -> None:
    response = httpx.post(
        f"{_base()}/{instance_id}/raiseEvent/{event_name}",
        json=data,
        headers=_headers(),
        timeout=30,
    )
    response.raise_for_status()
