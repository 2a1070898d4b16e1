"""Wiring only: build the gRPC callback app, register its methods, serve."""

import math
import os

from dapr.clients import DaprClient
from dapr.ext.grpc import App

from contracts.commands import CreateShipmentRequest, Method, OrderRef, ShipmentState
from observability.logging import configure_logging
from observability.tracing import configure_tracing
from services.app_token import new_app
from services.diagnostics import register_ping
from services.methods import register_method
from services.serve import serve
from services.settings import ServiceSettings
from services.shipping.handlers import Shipping
from services.state import DaprStateStore, KeyValueStore

APP_ID = "shipping"


def build_app(store: KeyValueStore, step_seconds: float) -> App:
    app = new_app()
    register_ping(app, APP_ID)
    shipping = Shipping(store, step_seconds=step_seconds)
    register_method(
        app,
        Method.CREATE_SHIPMENT,
        CreateShipmentRequest,
        shipping.create,
        span_name="create shipment",
        attributes=lambda r: {"country": r.address.country, "line_count": len(r.items)},
        failure=lambda s: s.reason if s.state == ShipmentState.UNDELIVERABLE else None,
    )
    register_method(
        app, Method.CANCEL_SHIPMENT, OrderRef, shipping.cancel, span_name="cancel shipment"
    )
    register_method(
        app, Method.SHIPMENT_STATUS, OrderRef, shipping.status, span_name="shipment status"
    )
    return app


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
    configure_tracing(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    step_seconds = _step_seconds()
    with DaprClient() as dapr:
        serve(build_app(DaprStateStore(dapr, f"{APP_ID}-store"), step_seconds), settings)
