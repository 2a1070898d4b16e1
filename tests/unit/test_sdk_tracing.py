"""The SDK's activity span: the sidecar's trace context is current, no span is recorded."""

from collections.abc import Iterator

import pytest
from dapr.ext.workflow._durabletask import worker as sdk_worker
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from observability.tracing import current_traceparent
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
