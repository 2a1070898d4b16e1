"""Wiring only: build the gRPC callback app, register its methods, serve."""

from dapr.ext.grpc import App

from observability.logging import configure_logging
from services.diagnostics import register_ping
from services.serve import serve
from services.settings import ServiceSettings

APP_ID = "payment"


def build_app() -> App:
    app = App()
    register_ping(app, APP_ID)
    return app


def main() -> None:
    configure_logging(APP_ID)
    serve(build_app(), ServiceSettings.from_env(APP_ID))
