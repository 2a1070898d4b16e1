"""The orchestrator's own sidecar, as the worker watchdog sees it: its worker count, and
a way to ask it to exit (the platform restarts it)."""

import os

import httpx


class OwnSidecar:
    def __init__(self) -> None:
        self._url = f"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}/v1.0"
        token = os.environ.get("DAPR_API_TOKEN")
        self._headers = {"dapr-api-token": token} if token else {}

    def connected_workers(self) -> int | None:
        """Workers the sidecar counts for this app (it can be negative: a broken count);
        None when the sidecar cannot be asked."""
        try:
            response = httpx.get(f"{self._url}/metadata", headers=self._headers, timeout=3.0)
            response.raise_for_status()
        except httpx.HTTPError:
            return None
        # The field is left out when the count is zero.
        workflows = response.json().get("workflows") or {}
        return int(workflows.get("connectedWorkers") or 0)

    def shutdown(self) -> None:
        httpx.post(f"{self._url}/shutdown", headers=self._headers, timeout=5.0).raise_for_status()
