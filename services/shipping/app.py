"""Wiring only: build the gRPC callback app, register its methods, serve."""

import json
import logging
import math
import os
from collections.abc import Callable
from typing import TypeVar

from dapr.clients import DaprClient
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.ext.grpc import App
from pydantic import BaseModel, ValidationError

from contracts.commands import CreateShipmentRequest, Method, OrderRef, ServiceError
from observability.logging import configure_logging
from services.diagnostics import register_ping
from services.serve import serve
from services.settings import ServiceSettings
from services.shipping.handlers import Shipping
from services.state import DaprStateStore, KeyValueStore

APP_ID = "shipping"
logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def build_app(store: KeyValueStore, step_seconds: float) -> App:
    app = App()
    register_ping(app, APP_ID)
    shipping = Shipping(store, step_seconds=step_seconds)
    _method(app, Method.CREATE_SHIPMENT, CreateShipmentRequest, shipping.create)
    _method(app, Method.CANCEL_SHIPMENT, OrderRef, shipping.cancel)
    _method(app, Method.SHIPMENT_STATUS, OrderRef, shipping.status)
    return app


def _method(app: App, name: str, model: type[M], handle: Callable[[M], BaseModel]) -> None:
    def invoked(request: InvokeMethodRequest) -> str:
        try:
            command = model.model_validate_json(request.data or b"{}")
        except ValidationError as error:
            logger.warning("invalid %s request: %s", name, error)
            details = json.loads(error.json(include_url=False))
            raise ValueError(
                ServiceError(error=f"invalid {name} request", details=details).model_dump_json()
            ) from error
        return handle(command).model_dump_json()

    app.method(name)(invoked)


def _step_seconds() -> float:
    raw = os.environ.get("SHIPPING_STEP_SECONDS", "2.0")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SystemExit(f"SHIPPING_STEP_SECONDS must be a number of seconds > 0, not {raw!r}")
    return value


def main() -> None:
    configure_logging(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    step_seconds = _step_seconds()
    with DaprClient() as dapr:
        serve(build_app(DaprStateStore(dapr, f"{APP_ID}-store"), step_seconds), settings)
