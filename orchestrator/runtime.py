"""Registers every workflow and activity under a stable name and starts the worker."""

import logging
from collections.abc import Callable
from typing import Any

from dapr.ext.workflow import WorkflowRuntime

from contracts.diagnostics import DOCTOR_WORKFLOW
from orchestrator.activities import diagnostics, events, inventory, payment, shipping
from orchestrator.orders import BULK_WORKFLOW, ORDER_WORKFLOW
from orchestrator.sdk_logging import sdk_logger_options
from orchestrator.sdk_tracing import use_context_only_activity_spans
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
    payment.screen_payment,
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
    use_context_only_activity_spans()
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
