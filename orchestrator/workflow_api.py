"""A workflow client whose calls carry the current span's trace context.

A workflow started over gRPC continues the trace of the `StartInstance` call, so starting
an order inside its intake span makes the workflow, its activities and every service
they call one trace. The SDK's `DaprWorkflowClient` accepts no interceptors, so its inner
durabletask client is rebuilt with ours (the same address, TLS and API token handling).
"""

from functools import cache
from typing import Any

from dapr.clients.grpc.interceptors import DaprClientTimeoutInterceptor
from dapr.conf import settings
from dapr.conf.helpers import GrpcEndpoint
from dapr.ext.workflow import DaprWorkflowClient
from dapr.ext.workflow._durabletask import client as durabletask_client
from dapr.ext.workflow.util import getAddress

from observability.tracing import TraceparentInterceptor
from orchestrator import instances
from orchestrator.sdk_logging import sdk_logger_options


class WorkflowAlreadyExists(Exception):
    """An instance with this id exists already (a duplicate request)."""


@cache
def workflow_client() -> DaprWorkflowClient:
    logger_options = sdk_logger_options()
    client = DaprWorkflowClient(logger_options=logger_options)
    endpoint = GrpcEndpoint(getAddress(None, None))
    metadata = [("dapr-api-token", settings.DAPR_API_TOKEN)] if settings.DAPR_API_TOKEN else None
    client._DaprWorkflowClient__obj = durabletask_client.TaskHubGrpcClient(  # type: ignore[attr-defined]
        host_address=endpoint.endpoint,
        metadata=metadata,
        secure_channel=endpoint.tls,
        interceptors=[TraceparentInterceptor(), DaprClientTimeoutInterceptor()],
        log_handler=logger_options.log_handler,
    )
    return client


def start_workflow(name: str, instance_id: str, workflow_input: dict[str, Any]) -> None:
    try:
        workflow_client().schedule_new_workflow(name, input=workflow_input, instance_id=instance_id)
    except Exception as error:  # the SDK raises bare gRPC errors
        if "already exists" in str(error).lower():
            raise WorkflowAlreadyExists(instance_id) from error
        raise


def raise_event(instance_id: str, event_name: str, data: dict[str, Any]) -> None:
    """To the instance that carries the order now (orchestrator/instances.py)."""
    workflow_client().raise_workflow_event(instances.current(instance_id), event_name, data=data)
