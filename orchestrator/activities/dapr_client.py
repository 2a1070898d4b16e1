"""The one Dapr client the orchestrator shares (one gRPC channel per process).

Every call carries the current span's trace context, so what an activity does joins the
activity's trace instead of starting a new one.
"""

from functools import cache

from dapr.clients import DaprClient

from observability.tracing import TraceparentInterceptor


@cache
def dapr() -> DaprClient:
    return DaprClient(interceptors=[TraceparentInterceptor()])
