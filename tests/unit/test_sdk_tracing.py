"""The SDK's activity span: the sidecar's trace context is current, no span is recorded."""

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from dapr.ext.workflow._durabletask import worker as sdk_worker
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from observability.tracing import AsyncTraceparentInterceptor, current_traceparent
from orchestrator.activities import diagnostics
from orchestrator.runtime import ACTIVITIES
from orchestrator.sdk_tracing import ContextOnlyTracer, use_context_only_activity_spans

SIDECAR = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def restore_sdk_tracer() -> Iterator[None]:
    original = sdk_worker.otel_tracer
    yield
    sdk_worker.otel_tracer = original


def test_the_sdk_module_still_has_the_tracer_we_replace() -> None:
    # A newer SDK that renamed it would open its own spans again: this says so.
    assert hasattr(sdk_worker, "otel_tracer") and hasattr(sdk_worker, "otel_propagator")


def test_calls_inside_an_activity_carry_the_sidecars_span(restore_sdk_tracer: None) -> None:
    use_context_only_activity_spans()
    assert isinstance(sdk_worker.otel_tracer, ContextOnlyTracer)
    context = TraceContextTextMapPropagator().extract(carrier={"traceparent": SIDECAR})
    with sdk_worker.otel_tracer.start_as_current_span(name="activity: x", context=context) as span:
        assert not span.is_recording()
        assert current_traceparent() == SIDECAR
    assert current_traceparent() is None


def test_async_activities_calls_carry_the_sidecars_span(restore_sdk_tracer: None) -> None:
    # Async activities run as tasks on the worker's loop; the span the SDK makes current
    # around the await must reach the asyncio client's metadata.
    use_context_only_activity_spans()
    context = TraceContextTextMapPropagator().extract(carrier={"traceparent": SIDECAR})
    sent: list[Any] = []

    async def continuation(details: Any, request: Any) -> str:
        sent.append(details.metadata)
        return "reply"

    async def activity() -> str:
        with sdk_worker.otel_tracer.start_as_current_span(name="activity: x", context=context):
            details = grpc.aio.ClientCallDetails("/m", None, [("dapr-app-id", "a")], None, None)
            reply: str = await AsyncTraceparentInterceptor().intercept_unary_unary(
                continuation, details, b""
            )
            return reply

    assert asyncio.run(activity()) == "reply"
    assert sent == [[("dapr-app-id", "a"), ("traceparent", SIDECAR)]]


def test_every_activity_of_an_order_is_async() -> None:
    # A sync one holds one of the worker's cpu_count + 4 threads while it waits on a
    # service. The doctor's probes stay sync: they run once per check, not per order.
    blocking = [
        fn.__name__
        for fn in ACTIVITIES
        if fn.__module__ != diagnostics.__name__ and not inspect.iscoroutinefunction(fn)
    ]
    assert blocking == []
