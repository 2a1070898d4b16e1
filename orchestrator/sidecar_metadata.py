"""What the orchestrator's sidecar says about its workflow workers (GET /v1.0/metadata)."""

import os

import httpx


def connected_workers() -> int | None:
    """Workers the sidecar counts for this app; None when the sidecar cannot be asked."""
    token = os.environ.get("DAPR_API_TOKEN")
    try:
        response = httpx.get(
            f"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}/v1.0/metadata",
            headers={"dapr-api-token": token} if token else {},
            timeout=3.0,
        )
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    workflows = response.json().get("workflows") or {}
    return int(workflows.get("connectedWorkers") or 0)
