"""Composition root: the workflow worker, the app channel and the public API in one process."""

import asyncio
import logging

import uvicorn

from observability.logging import configure_logging
from observability.tracing import configure_tracing
from orchestrator import instances
from orchestrator.activities.dapr_client import dapr
from orchestrator.api.app import build_api
from orchestrator.auth import AuthSettings, TokenVerifier
from orchestrator.channel import build_channel
from orchestrator.deps import Deps
from orchestrator.orders import SkuCatalog, fetch_catalog_skus
from orchestrator.readmodel import ReadModel
from orchestrator.recovery import OrderRecovery
from orchestrator.runtime import build_runtime
from orchestrator.settings import OrchestratorSettings
from orchestrator.sidecar_metadata import OwnSidecar
from orchestrator.timer_sweeper import start_sweeper
from orchestrator.worker_watchdog import RuntimeHandle
from orchestrator.workflow_api import raise_event, workflow_client

logger = logging.getLogger(__name__)


async def serve(settings: OrchestratorSettings, deps: Deps, verifier: TokenVerifier) -> None:
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                build_channel(deps), host="127.0.0.1", port=settings.app_port, log_config=None
            )
        ),
        uvicorn.Server(
            uvicorn.Config(
                build_api(deps, verifier),
                host=settings.api_host,
                port=settings.api_port,
                log_config=None,
            )
        ),
    ]
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    configure_logging("orchestrator")
    # Before the workflow worker starts: what activities call is traced on this provider.
    configure_tracing("orchestrator")
    settings = OrchestratorSettings.from_env()
    verifier = TokenVerifier(AuthSettings.from_env())
    handle = RuntimeHandle(build_runtime, OwnSidecar())
    handle.start_in_background()
    deps = Deps(
        workflows=workflow_client,
        dapr=dapr,
        read_model=ReadModel(settings.read_model),
        catalog=SkuCatalog(fetch_catalog_skus),
        is_ready=handle.ready.is_set,
        policy=settings.policy,
        bulk_concurrency=settings.bulk_concurrency,
        worker_status=handle.status,
    )
    # An order a broken instance hands on is addressed by its recovery instance.
    instances.use(deps.read_model.recovery_instance)
    start_sweeper(
        deps.read_model, raise_event, recover=OrderRecovery(workflow_client, deps.read_model)
    )
    try:
        asyncio.run(serve(settings, deps, verifier))
    finally:
        handle.stop()
        logger.info("orchestrator stopped")
