"""FastAPI's own OpenTelemetry: a span per request, not four.

FastAPI (0.165+) also traces dependency resolution, the endpoint and serialization as
spans of their own: three more spans for every request and sidecar delivery, saying
nothing the request span does not, built on the event loop. Nothing reads its metrics
(no meter provider is set), so they are off too.
"""

from fastapi.telemetry import TelemetryConfig

TELEMETRY: TelemetryConfig = {"operation_spans": False, "metrics": False}
