"""The orchestrator's shared collaborators, built once in the composition root."""

from collections.abc import Callable
from dataclasses import dataclass

from dapr.clients import DaprClient
from dapr.ext.workflow import DaprWorkflowClient

from orchestrator.orders import SkuCatalog
from orchestrator.readmodel import ReadModel
from orchestrator.workflows.inputs import OrderPolicy


@dataclass(frozen=True)
class Deps:
    workflows: Callable[[], DaprWorkflowClient]
    dapr: Callable[[], DaprClient]
    read_model: ReadModel
    catalog: SkuCatalog
    is_ready: Callable[[], bool]
    policy: OrderPolicy
    bulk_concurrency: int
    # The workflow worker's watchdog: reconnects, sidecar restarts, how long it is stalled.
    worker_status: Callable[[], dict[str, object]] = dict
