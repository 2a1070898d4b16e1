"""The Dapr clients the orchestrator shares: one gRPC channel per process for blocking
calls, and one per event loop for async activities (an asyncio channel belongs to the
loop it was made on; the workflow worker runs its async activities on its own loop).

Every call carries the current span's trace context, so what an activity does joins the
activity's trace instead of starting a new one.
"""

import asyncio
import weakref
from functools import cache

from dapr.aio.clients import DaprClient as AsyncDaprClient
from dapr.clients import DaprClient

from observability.tracing import AsyncTraceparentInterceptor, TraceparentInterceptor

_ASYNC_CLIENTS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncDaprClient]" = (
    weakref.WeakKeyDictionary()
)


@cache
def dapr() -> DaprClient:
    return DaprClient(interceptors=[TraceparentInterceptor()])


def async_dapr() -> AsyncDaprClient:
    """The running loop's client, made on first use."""
    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop)
    if client is None:
        client = AsyncDaprClient(interceptors=[AsyncTraceparentInterceptor()])
        _ASYNC_CLIENTS[loop] = client
    return client
