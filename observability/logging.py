"""Structured JSON logs: one object per line, always with app, order_id and trace_id."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from observability.tracing import current_trace_id

_CONTEXT_FIELDS = ("order_id", "trace_id", "step", "probe_id")


class JsonFormatter(logging.Formatter):
    def __init__(self, app_id: str) -> None:
        super().__init__()
        self._app_id = app_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "app": self._app_id,
            "logger": record.name,
            "msg": record.getMessage(),
            "order_id": getattr(record, "order_id", None),
            "trace_id": getattr(record, "trace_id", None) or current_trace_id(),
        }
        for name in _CONTEXT_FIELDS[2:]:
            if (value := getattr(record, name, None)) is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app_id: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(app_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The SDKs' own chatter at INFO drowns the fleet's logs (and costs CPU: the workflow
    # SDK writes a line per orchestration step, ~60 per order).
    for noisy in ("kafka", "grpc", "httpx", "uvicorn.access", "durabletask-worker",
                  "durabletask-client"):  # fmt: skip
        logging.getLogger(noisy).setLevel(logging.WARNING)
