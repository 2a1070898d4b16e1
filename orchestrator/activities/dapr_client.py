"""The one Dapr client the orchestrator's activities share (one gRPC channel per process)."""

from functools import cache

from dapr.clients import DaprClient


@cache
def dapr() -> DaprClient:
    return DaprClient()
