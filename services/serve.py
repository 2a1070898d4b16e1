"""Starts a service app's gRPC callback server on loopback and serves until stopped."""

import logging
import signal
from types import FrameType

from dapr.ext.grpc import App

from services.settings import ServiceSettings

logger = logging.getLogger(__name__)


def serve(app: App, settings: ServiceSettings) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping on signal %s", signum)
        app.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("serving app callbacks on 127.0.0.1:%s", settings.app_port)
    app.run(settings.app_port, listen_address="127.0.0.1")
