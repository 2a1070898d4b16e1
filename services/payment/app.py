"""Wiring only: build the gRPC callback app, register its methods, serve."""

import logging
import os
from collections.abc import Callable
from typing import TypeVar

from dapr.clients import DaprClient
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.ext.grpc import App
from pydantic import BaseModel, ValidationError

from contracts.commands import ChargeRequest, Method, OrderRef, ServiceError
from observability.logging import configure_logging
from services.diagnostics import register_ping
from services.payment.handlers import Payments
from services.serve import serve
from services.settings import ServiceSettings
from services.state import DaprStateStore, KeyValueStore

APP_ID = "payment"
logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def build_app(store: KeyValueStore, flaky_failures: int) -> App:
    app = App()
    register_ping(app, APP_ID)
    payments = Payments(store, flaky_failures=flaky_failures)
    _method(app, Method.CHARGE, ChargeRequest, payments.charge)
    _method(app, Method.REFUND, OrderRef, payments.refund)
    _method(app, Method.LEDGER, OrderRef, payments.ledger)
    return app


def _method(app: App, name: str, model: type[M], handle: Callable[[M], BaseModel]) -> None:
    def invoked(request: InvokeMethodRequest) -> str:
        try:
            command = model.model_validate_json(request.data or b"{}")
        except ValidationError as error:
            # The error text may echo the payment token, so only the field paths are logged.
            fields = [".".join(map(str, e["loc"])) for e in error.errors()]
            logger.warning("invalid %s request: fields %s", name, fields)
            details: list[dict[str, object]] = [
                {"loc": e["loc"], "type": e["type"]} for e in error.errors()
            ]
            raise ValueError(
                ServiceError(error=f"invalid {name} request", details=details).model_dump_json()
            ) from None
        return handle(command).model_dump_json()

    app.method(name)(invoked)


def _flaky_failures() -> int:
    raw = os.environ.get("PAYMENT_FLAKY_FAILURES", "2")
    if not raw.isdigit():
        raise SystemExit(f"PAYMENT_FLAKY_FAILURES must be a whole number >= 0, not {raw!r}")
    return int(raw)


def main() -> None:
    configure_logging(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    flaky_failures = _flaky_failures()
    with DaprClient() as dapr:
        serve(build_app(DaprStateStore(dapr, f"{APP_ID}-store"), flaky_failures), settings)
