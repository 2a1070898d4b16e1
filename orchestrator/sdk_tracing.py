"""The workflow SDK's per-activity span, replaced by the sidecar's trace context alone.

With OpenTelemetry installed the SDK opens an `activity: <name>` span around every
activity (11 per order), exported to Zipkin by the orchestrator. daprd already records
each activity (`activity||<name>`) with the same timing seen from the engine, and what
an activity calls only needs a current trace context for our gRPC interceptor to
forward. So the SDK's tracer is swapped for one that makes the sidecar's context current
without recording or exporting a span: the calls' spans become children of daprd's
activity span and the order stays one connected trace.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dapr.ext.workflow._durabletask import worker as sdk_worker
from opentelemetry import context as otel_context
from opentelemetry import trace


class ContextOnlyTracer:
    """The one call the SDK makes on its tracer, without a span of its own."""

    @contextmanager
    def start_as_current_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[trace.Span]:
        # The extracted context holds the sidecar's span as a non-recording remote span:
        # current while the activity runs, so `traceparent` names it on every call.
        token = otel_context.attach(context or otel_context.get_current())
        try:
            yield trace.get_current_span()
        finally:
            otel_context.detach(token)


def use_context_only_activity_spans() -> None:
    """Before the worker starts. The SDK reads its module's tracer at every activity."""
    if getattr(sdk_worker, "otel_tracer", None) is None:
        return  # OpenTelemetry missing: the SDK opens no span either
    # Duck-typed: the SDK calls only start_as_current_span(name=, context=, attributes=).
    sdk_worker.otel_tracer = ContextOnlyTracer()  # type: ignore[assignment]
