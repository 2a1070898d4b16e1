"""OpenTelemetry for the fleet's apps: spans to Zipkin, W3C trace context across every hop.

Dapr traces its own hops (invocation, pub/sub, workflow engine), but it cannot know that
a call an activity makes belongs to that activity (dapr/dapr#7927). So every app runs an
OpenTelemetry tracer whose spans go to the same Zipkin, and every Dapr call carries the
current span's `traceparent`: the workflow worker makes the sidecar's activity span
current while an activity runs (orchestrator/sdk_tracing.py), our gRPC interceptor
forwards it on each Dapr API call, and the apps continue the trace from the metadata
daprd hands them.
"""

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = logging.getLogger(__name__)
_PROPAGATOR = TraceContextTextMapPropagator()
TRACER_NAME = "order-fleet"

# Span attribute names must never carry these (payment tokens, API tokens, secrets).
_FORBIDDEN_ATTRIBUTE_PARTS = ("token", "secret", "password", "authorization")


def configure_tracing(service_name: str, default_endpoint: str | None = None) -> None:
    """Exports spans to Zipkin when ZIPKIN_ENDPOINT is set; a no-op tracer otherwise."""
    endpoint = os.environ.get("ZIPKIN_ENDPOINT", default_endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if endpoint:
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        # Short batches: the doctor and the tests read traces a moment after the work.
        provider.add_span_processor(
            BatchSpanProcessor(ZipkinExporter(endpoint=endpoint), schedule_delay_millis=500)
        )
    trace.set_tracer_provider(provider)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None


def _first(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def context_from(headers: Mapping[str, Any] | None) -> otel_context.Context:
    """The trace context carried by incoming headers or metadata (W3C `traceparent`)."""
    carrier = {}
    for key, value in (headers or {}).items():
        if key.lower() in {"traceparent", "tracestate"} and (text := _first(value)):
            carrier[key.lower()] = text
    return _PROPAGATOR.extract(carrier)


def safe_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    for name in attributes:
        if any(part in name.lower() for part in _FORBIDDEN_ATTRIBUTE_PARTS):
            raise ValueError(f"span attribute {name!r} could carry a credential")
    return {k: v for k, v in attributes.items() if v is not None}


@contextmanager
def span(
    name: str,
    *,
    parent: otel_context.Context | None = None,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    **attributes: Any,
) -> Iterator[Span]:
    """A span for meaningful work, child of `parent` (or of the current span)."""
    with tracer().start_as_current_span(
        name, context=parent, kind=kind, attributes=safe_attributes(attributes)
    ) as current:
        yield current


def mark_failed(current: Span, reason: str) -> None:
    """Tags a span as the step that failed (Zipkin shows `error`)."""
    current.set_status(Status(StatusCode.ERROR, reason))
    current.set_attribute("error", reason)


def _metadata_with_trace(metadata: Any) -> list[tuple[str, str]]:
    traced = list(metadata or [])
    traceparent = current_traceparent()
    if traceparent and not any(key == "traceparent" for key, _ in traced):
        traced.append(("traceparent", traceparent))
    return traced


class _ClientCallDetails(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, details: grpc.ClientCallDetails, metadata: Sequence[tuple[str, str]]):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class TraceparentInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[misc]
):
    """Adds the current span's `traceparent` to every Dapr API call that lacks one."""

    def _with_trace(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        return _ClientCallDetails(details, _metadata_with_trace(details.metadata))

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_trace(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_trace(details), request)


class AsyncTraceparentInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """The same for the asyncio client (async activities run on the worker's loop, where
    the activity's span is current in the task's context)."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        traced = details._replace(metadata=_metadata_with_trace(details.metadata))
        return await continuation(traced, request)
