"""Registers every workflow and activity under a stable name and starts the worker."""

import logging
import threading
from collections.abc import Callable
from typing import Any

from dapr.ext.workflow import WorkflowRuntime

from contracts.diagnostics import DOCTOR_WORKFLOW
from orchestrator.activities import diagnostics, events, inventory, payment, shipping
from orchestrator.orders import BULK_WORKFLOW, ORDER_WORKFLOW
from orchestrator.workflows.bulk import bulk_orders
from orchestrator.workflows.doctor import fleet_doctor
from orchestrator.workflows.monitor import shipment_monitor
from orchestrator.workflows.order import order_workflow

logger = logging.getLogger(__name__)

ACTIVITIES: tuple[Callable[..., Any], ...] = (
    diagnostics.ping_service,
    diagnostics.publish_probe,
    diagnostics.check_receipt,
    inventory.quote_order,
    inventory.reserve_line,
    inventory.release_stock,
    inventory.commit_stock,
    payment.charge_payment,
    payment.refund_payment,
    shipping.create_shipment,
    shipping.cancel_shipment,
    shipping.shipment_status,
    events.publish_order_event,
    events.publish_notification,
)


def build_runtime() -> WorkflowRuntime:
    runtime = WorkflowRuntime(worker_ready_timeout=120.0)
    runtime.register_workflow(fleet_doctor, name=DOCTOR_WORKFLOW)
    runtime.register_workflow(order_workflow, name=ORDER_WORKFLOW)
    # The child's registration name is its function name, which call_child_workflow sends.
    runtime.register_workflow(shipment_monitor, name=shipment_monitor.__name__)
    runtime.register_workflow(bulk_orders, name=BULK_WORKFLOW)
    for activity in ACTIVITIES:
        # Registration names are the function names: stable, and what call_activity sends.
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
