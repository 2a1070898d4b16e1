"""Wiring only: build the gRPC callback app, register its methods, serve."""

import os

from dapr.clients import DaprClient
from dapr.ext.grpc import App

from contracts.commands import (
    ChargeOutcome,
    ChargeRequest,
    Method,
    OrderRef,
    ScreenRequest,
    ScreenVerdict,
)
from observability.logging import configure_logging
from observability.tracing import configure_tracing
from services.app_token import new_app
from services.diagnostics import register_ping
from services.methods import register_method
from services.payment.handlers import Payments
from services.serve import serve
from services.settings import ServiceSettings
from services.state import DaprStateStore, KeyValueStore

APP_ID = "payment"


def build_app(store: KeyValueStore, flaky_failures: int) -> App:
    app = new_app()
    register_ping(app, APP_ID)
    payments = Payments(store, flaky_failures=flaky_failures)
    register_method(
        app,
        Method.SCREEN,
        ScreenRequest,
        payments.screen,
        span_name="screen",
        attributes=lambda c: {"amount": str(c.amount), "currency": c.currency},
        failure=lambda r: r.reason if r.verdict != ScreenVerdict.CLEAR else None,
    )
    register_method(
        app,
        Method.CHARGE,
        ChargeRequest,
        payments.charge,
        span_name="charge",
        attributes=lambda c: {"amount": str(c.amount), "currency": c.currency},
        failure=lambda r: r.reason if r.outcome != ChargeOutcome.CHARGED else None,
    )
    register_method(app, Method.REFUND, OrderRef, payments.refund, span_name="refund")
    register_method(app, Method.LEDGER, OrderRef, payments.ledger, span_name="read ledger")
    return app


def _flaky_failures() -> int:
    raw = os.environ.get("PAYMENT_FLAKY_FAILURES", "2")
    if not raw.isdigit():
        raise SystemExit(f"PAYMENT_FLAKY_FAILURES must be a whole number >= 0, not {raw!r}")
    return int(raw)


def main() -> None:
    configure_logging(APP_ID)
    configure_tracing(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    flaky_failures = _flaky_failures()
    with DaprClient() as dapr:
        serve(build_app(DaprStateStore(dapr, f"{APP_ID}-store"), flaky_failures), settings)
