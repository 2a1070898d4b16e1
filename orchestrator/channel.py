"""The Dapr app channel: what the orchestrator's sidecar calls (subscriptions, config).

Kept apart from the public API so that nothing public can pose as the sidecar.
"""

from fastapi import FastAPI


def build_channel() -> FastAPI:
    channel = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @channel.get("/dapr/subscribe")
    def subscriptions() -> list[dict[str, object]]:
        return []

    @channel.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return channel
