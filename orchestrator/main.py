"""Composition root: the workflow worker, the app channel and the public API in one process."""

import asyncio
import logging
from functools import cache

import uvicorn
from dapr.ext.workflow import DaprWorkflowClient

from observability.logging import configure_logging
from orchestrator.api.app import build_api
from orchestrator.channel import build_channel
from orchestrator.runtime import RuntimeHandle, build_runtime
from orchestrator.settings import OrchestratorSettings

logger = logging.getLogger(__name__)


@cache
def workflow_client() -> DaprWorkflowClient:
    return DaprWorkflowClient()


async def serve(settings: OrchestratorSettings, handle: RuntimeHandle) -> None:
    api = build_api(handle.ready.is_set, workflow_client)
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                build_channel(), host="127.0.0.1", port=settings.app_port, log_config=None
            )
        ),
        uvicorn.Server(
            uvicorn.Config(api, host=settings.api_host, port=settings.api_port, log_config=None)
        ),
    ]
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    configure_logging("orchestrator")
    settings = OrchestratorSettings.from_env()
    handle = RuntimeHandle(build_runtime())
    handle.start_in_background()
    try:
        asyncio.run(serve(settings, handle))
    finally:
        handle.stop()
        logger.info("orchestrator stopped")
