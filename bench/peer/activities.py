"""The peer's activities: the fleet's own activity functions, registered with Temporal.

The fleet's activities (orchestrator/activities/) take Dapr's activity context first and
never read it; here they run with none, under the same names, on a worker whose Dapr
client talks to the orchestrator's sidecar. So a quote, a reservation, a charge, a
shipment or a publish goes through exactly the code and the daprd the fleet's use.
"""

from collections.abc import Awaitable, Callable
from typing import Any, cast

from dapr.ext.workflow import WorkflowActivityContext
from temporalio import activity

from bench.floor_worker import Recorder
from bench.peer.workflows import NOOP_ACTIVITY
from orchestrator.activities import events, inventory, payment, shipping

FleetActivity = Callable[[WorkflowActivityContext, dict[str, Any]], Awaitable[Any]]

# Every activity the happy path calls (bench/peer/saga.py).
FLEET_ACTIVITIES: tuple[FleetActivity, ...] = (
    inventory.quote_order,
    inventory.reserve_line,
    inventory.commit_stock,
    payment.charge_payment,
    shipping.create_shipment,
    shipping.shipment_status,
    events.publish_outbound,
)
_NO_CONTEXT = cast(WorkflowActivityContext, None)  # the fleet's activities never read it


def as_temporal(fleet_activity: FleetActivity) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    """A Temporal activity that awaits the fleet's one (async there too: both engines run
    them on their worker's event loop), registered under its name."""

    async def run(request: dict[str, Any]) -> Any:
        return await fleet_activity(_NO_CONTEXT, request)

    run.__name__ = run.__qualname__ = fleet_activity.__name__
    return activity.defn(name=fleet_activity.__name__)(run)


def saga_activities() -> list[Callable[..., Any]]:
    return [as_temporal(fn) for fn in FLEET_ACTIVITIES]


class FloorActivities:
    """The floor's no-op, recording the two milestones as bench/floor_worker.py does."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    @activity.defn(name=NOOP_ACTIVITY)
    def noop(self, step: dict[str, int]) -> None:
        if step["i"] == step["n"]:
            self._recorder.record(activity.info().workflow_id or "-", "completed")
        elif step["i"] == step["mark"]:
            self._recorder.record(activity.info().workflow_id or "-", "sync")
