"""Carries on an order whose workflow instance the runtime broke.

When a workflow turn is cut short while its save commits (the scheduler's stream dropped
as the scheduler restarted, the store's context cancelled under load), daprd 1.18 takes
the committed turn for a failed one and runs the same events again: the history then
holds actions that today's code never asked for, the next replay fails the instance with
a NonDeterminismError, and daprd holds the instance stalled (it can be neither purged
nor created again while it is). Seen in chaos runs under heavy load.

The order's steps are all idempotent per order (a reservation, a charge, a shipment are
recorded by the services and returned again on a repeat), so a fresh instance with the
same input, `<order>:recovery-<n>`, walks through what was already done and on to the
order's end; its events carry the same ids and consumers drop the repeats. The read
model records the recovery, and everything that addresses the order (reads, cancel,
approvals, nudges) goes to the new instance from then on (orchestrator/instances.py).

The same holds for an instance the runtime can no longer load at all: its metadata
lists inbox or history rows the store does not have ("declared in metadata but missing
from state store"; seen once in a full chaos run, after kills of the orchestrator and
its sidecar). Reads retry that error first (orders.get_state), since it is also what a
read racing a save sees; the sweeper asks only about orders quiet for a while. Its input
then comes from the read model, which keeps every order's start input.

Only these failures are recovered, a few times per order: any other failure is a fault to
look at, not to repeat.
"""

import json
import logging
from collections.abc import Callable

from dapr.ext.workflow import DaprWorkflowClient, WorkflowStatus

from orchestrator.instances import recovery_instance_id
from orchestrator.orders import ORDER_WORKFLOW, get_state
from orchestrator.readmodel import ReadModel

logger = logging.getLogger(__name__)

BROKEN_BY_THE_RUNTIME = "NonDeterminismError"
UNLOADABLE = "missing from state store"
MAX_RECOVERIES = 3


class OrderRecovery:
    def __init__(self, workflows: Callable[[], DaprWorkflowClient], read_model: ReadModel) -> None:
        self._workflows = workflows
        self._read_model = read_model

    def __call__(self, order_id: str) -> bool:
        """True when the order's current instance was broken by the runtime and a
        recovery instance now carries the order on."""
        broken = self._broken(order_id)
        if broken is None:
            return False
        why, workflow_input = broken
        previous = self._read_model.recovery(order_id)
        attempt = (previous[1] if previous else 0) + 1
        if attempt > MAX_RECOVERIES or not workflow_input:
            return False
        instance_id = recovery_instance_id(order_id, attempt)
        self._workflows().schedule_new_workflow(
            ORDER_WORKFLOW, input=json.loads(workflow_input), instance_id=instance_id
        )
        self._read_model.record_recovery(order_id, instance_id, attempt)
        logger.warning(
            "the runtime broke this order's workflow (%s); %s carries it on (%d of %d)",
            why[:120],
            instance_id,
            attempt,
            MAX_RECOVERIES,
            extra={"order_id": order_id},
        )
        return True

    def _broken(self, order_id: str) -> tuple[str, str | None] | None:
        """(what broke, the input to start again from) when the current instance is
        broken by the runtime, else None."""
        try:
            state = get_state(self._workflows(), order_id)  # the current instance's
        except Exception as error:  # the SDK raises bare gRPC errors
            if UNLOADABLE not in str(error):
                raise
            return str(error), self._read_model.started_input(order_id)
        if state is None or state.runtime_status != WorkflowStatus.FAILED:
            return None
        details = state.failure_details
        if details is None or details.error_type != BROKEN_BY_THE_RUNTIME:
            return None
        return details.message, state.serialized_input
