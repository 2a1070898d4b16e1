"""The peer's Temporal workflows: the order saga, its delivery monitor, and the floor.

Thin: the saga itself is bench/peer/saga.py, run against `TemporalEngine`. Everything
the workflows import passes through Temporal's sandbox (imported once, outside it): it is
the fleet's deterministic contract and helper code, and re-importing pydantic models per
workflow run would measure the sandbox, not the engine.
"""

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from bench.peer import policies
    from bench.peer.saga import Engine, OrderSaga, StepFailed, monitor_generation
    from orchestrator.workflows.inputs import MonitorInput, OrderWorkflowInput
    from orchestrator.workflows.monitor import monitor_instance_id

ORDER_WORKFLOW = "peer_order"
MONITOR_WORKFLOW = "peer_shipment_monitor"
FLOOR_WORKFLOW = "peer_floor"
NOOP_ACTIVITY = "noop"


class TemporalEngine(Engine):
    def now(self) -> datetime:
        # Naive UTC like Dapr's current_utc_datetime: the saga compares it with the
        # monitor's deadlines and stamps events with it.
        return workflow.now().replace(tzinfo=None)

    async def call(self, activity: str, request: dict[str, Any], *, until_success: bool) -> Any:
        try:
            return await workflow.execute_activity(
                activity,
                request,
                start_to_close_timeout=policies.ATTEMPT_TIMEOUT,
                retry_policy=policies.UNTIL_SUCCESS if until_success else policies.STEP,
            )
        except ActivityError as error:
            raise StepFailed(f"{activity} failed after retries: {error.cause or error}") from error

    async def sleep_until(self, moment: datetime) -> None:
        wait = moment - self.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)

    async def monitor(self, watch: MonitorInput) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_child_workflow(
            MONITOR_WORKFLOW,
            watch.model_dump(mode="json"),
            id=monitor_instance_id(watch.order_id),
        )
        return result


@workflow.defn(name=ORDER_WORKFLOW)
class PeerOrder:
    @workflow.run
    async def run(self, raw_input: dict[str, Any]) -> dict[str, Any]:
        saga = OrderSaga(TemporalEngine(), OrderWorkflowInput.model_validate(raw_input))
        return await saga.run()


@workflow.defn(name=MONITOR_WORKFLOW)
class PeerShipmentMonitor:
    @workflow.run
    async def run(self, raw_input: dict[str, Any]) -> dict[str, Any]:
        outcome = await monitor_generation(TemporalEngine(), MonitorInput.model_validate(raw_input))
        if isinstance(outcome, MonitorInput):
            # Each look continues as new, as the fleet's monitor: a bounded history.
            workflow.continue_as_new(outcome.model_dump(mode="json"))
        return outcome.model_dump(mode="json")


@workflow.defn(name=FLOOR_WORKFLOW)
class PeerFloor:
    """`activities` no-op activities one after the other, like bench/floor_worker.py."""

    @workflow.run
    async def run(self, spec: dict[str, int]) -> int:
        total = spec["activities"]
        for i in range(1, total + 1):
            await workflow.execute_activity(
                NOOP_ACTIVITY,
                {"i": i, "n": total, "mark": spec["mark"]},
                start_to_close_timeout=policies.ATTEMPT_TIMEOUT,
            )
        return total
