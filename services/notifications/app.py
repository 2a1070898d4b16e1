"""Wiring only: build the gRPC callback app, register its handlers, serve."""

from dapr.clients import DaprClient
from dapr.ext.grpc import App

from observability.logging import configure_logging
from observability.tracing import configure_tracing
from services.app_token import new_app
from services.diagnostics import register_ping
from services.notifications.probes import register_probe_handlers
from services.notifications.subscriptions import register_notification_handlers
from services.serve import serve
from services.settings import ServiceSettings
from services.state import DaprStateStore

APP_ID = "notifications"


def build_app(dapr: DaprClient) -> App:
    app = new_app()
    register_ping(app, APP_ID)
    register_probe_handlers(app, dapr)
    register_notification_handlers(app, DaprStateStore(dapr, f"{APP_ID}-store"))
    return app


def main() -> None:
    configure_logging(APP_ID)
    configure_tracing(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    with DaprClient() as dapr:
        serve(build_app(dapr), settings)
