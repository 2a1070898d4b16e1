"""Registers every workflow and activity under a stable name and starts the worker."""

import logging
import threading
from collections.abc import Callable
from typing import Any

from dapr.ext.workflow import WorkflowRuntime

from contracts.diagnostics import DOCTOR_WORKFLOW
from orchestrator.activities import diagnostics, events, inventory, payment, shipping
from orchestrator.orders import BULK_WORKFLOW, ORDER_WORKFLOW
from orchestrator.sdk_logging import sdk_logger_options
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
    events.publish_outbound,
)


WORKFLOWS: tuple[Callable[..., Any], ...] = (
    fleet_doctor,
    order_workflow,
    shipment_monitor,
    bulk_orders,
)
# Marks the SDK leaves on registered functions; they make a second registration fail.
_REGISTRATION_MARKS = ("_workflow_registered", "_activity_registered", "_dapr_alternate_name")


def _forget_registrations() -> None:
    """Lets a fresh runtime register the same functions (the watchdog's reconnect)."""
    for fn in (*WORKFLOWS, *ACTIVITIES):
        for mark in _REGISTRATION_MARKS:
            fn.__dict__.pop(mark, None)


def build_runtime() -> WorkflowRuntime:
    _forget_registrations()
    runtime = WorkflowRuntime(worker_ready_timeout=120.0, logger_options=sdk_logger_options())
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
    """Runs the workflow worker in the background and keeps it registered with its sidecar.

    `ready` tells the health check when work can flow. A watchdog reconnects the worker when
    the sidecar no longer counts it: after the app restarts, daprd 1.18 can process the old
    stream's close after the new stream's open, leaving no registered worker and every
    workflow stalled ("actor type ... workflow not registered"). A fresh stream re-registers.
    """

    def __init__(
        self,
        build: Callable[[], WorkflowRuntime],
        connected_workers: Callable[[], int | None],
        *,
        check_every_s: float = 5.0,
    ) -> None:
        self._build = build
        self._connected_workers = connected_workers
        self._check_every_s = check_every_s
        self.runtime = build()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.reconnects = 0
        self._stopping = threading.Event()

    def start_in_background(self) -> None:
        threading.Thread(target=self._run, name="workflow-runtime", daemon=True).start()

    def _start(self) -> bool:
        try:
            self.runtime.start()
        except Exception as error:
            self.failed = error
            logger.exception("workflow runtime failed to start")
            return False
        logger.info("workflow runtime connected to its sidecar")
        self.ready.set()
        return True

    def _run(self) -> None:
        if not self._start():
            return
        unregistered = 0
        while not self._stopping.wait(self._check_every_s):
            count = self._connected_workers()
            unregistered = unregistered + 1 if count == 0 else 0
            if unregistered >= 2:
                self._reconnect()
                unregistered = 0

    def _reconnect(self) -> None:
        logger.warning("the sidecar lost this app's workflow worker; reconnecting it")
        self.ready.clear()
        try:
            self.runtime.shutdown()
        except Exception:  # a half-dead stream may fail to close; the new one matters
            logger.exception("closing the old workflow worker failed")
        self.runtime = self._build()
        self.reconnects += 1
        self._start()

    def stop(self) -> None:
        self._stopping.set()
        if self.ready.is_set():
            self.runtime.shutdown()
