"""Registers every workflow and activity under a stable name and starts the worker."""

import logging
import threading

from dapr.ext.workflow import WorkflowRuntime

from contracts.diagnostics import DOCTOR_WORKFLOW
from orchestrator.activities import diagnostics
from orchestrator.workflows.doctor import fleet_doctor

logger = logging.getLogger(__name__)


def build_runtime() -> WorkflowRuntime:
    runtime = WorkflowRuntime(worker_ready_timeout=120.0)
    runtime.register_workflow(fleet_doctor, name=DOCTOR_WORKFLOW)
    for activity in (
        diagnostics.ping_service,
        diagnostics.publish_probe,
        diagnostics.check_receipt,
    ):
        runtime.register_activity(activity, name=activity.__name__)
    return runtime


class RuntimeHandle:
    """Starts the worker in the background; `ready` tells the health check when it is."""

    def __init__(self, runtime: WorkflowRuntime) -> None:
        self.runtime = runtime
        self.ready = threading.Event()
        self.failed: BaseException | None = None

    def start_in_background(self) -> None:
        threading.Thread(target=self._start, name="workflow-runtime", daemon=True).start()

    def _start(self) -> None:
        try:
            self.runtime.start()
        except Exception as error:
            self.failed = error
            logger.exception("workflow runtime failed to start")
            return
        logger.info("workflow runtime connected to its sidecar")
        self.ready.set()

    def stop(self) -> None:
        if self.ready.is_set():
            self.runtime.shutdown()
