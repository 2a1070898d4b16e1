"""The peer's two phases of a bench run: the Temporal saga, then the Temporal floor.

They go exactly like the fleet's and the floor's (bench/runner.py): the same open-loop
ladder, warm-up, drain and saturation rule, the same step figures and process samples.
The saga's orders are tracked on Kafka by the fleet's own tracker (its events are the
fleet's events); the floor's milestones come from the worker's file, as the Dapr floor's.
"""

import time
from typing import Any

from bench.floor import SYNC_MARK
from bench.loadgen import WorkflowStarter, order_payload
from bench.peer.runtime import SERVER, WORKER, TemporalRuntime
from bench.peer.workflows import FLOOR_WORKFLOW, ORDER_WORKFLOW
from bench.runner import Ladder, RunContext, attach_samples, preflight, run_ladder, step_summary
from bench.tracker import DONE, Entry, FileTracker, KafkaTracker, Ledger
from contracts.orders import OrderRequest
from orchestrator.workflows.inputs import MonitorResult, OrderWorkflowInput
from orchestrator.workflows.monitor import monitor_instance_id

SAGA_LABEL = "temporal saga"
FLOOR_LABEL = "temporal floor"


def saga_input(key: str, sku: str) -> dict[str, Any]:
    """The bench's order (bench/loadgen.py) as the fleet's intake hands it to its workflow."""
    order = OrderRequest.model_validate(order_payload(key, sku))
    return OrderWorkflowInput(order=order).model_dump(mode="json")


def _disturbed(ctx: RunContext, entries: list[Entry], summaries: list[dict[str, Any]]) -> Any:
    """Fleet processes restarted, stopped or busy with other work during the phase."""
    span = (min(e.scheduled for e in entries), time.monotonic()) if entries else (0.0, 0.0)
    disturbed = {k: v for k, v in ctx.sampler.disturbances(*span).items() if v}
    busy = sorted({name for s in summaries for name in s["disturbed"].get("busy", [])})
    if busy:
        disturbed["busy"] = busy
    return disturbed


def _track_pids(ctx: RunContext, runtime: TemporalRuntime) -> None:
    ctx.extra.pids.update({f"peer:{name}": pid for name, pid in runtime.pids().items()})


def peer_saga_phase(
    ctx: RunContext, run_no: int, runtime: TemporalRuntime
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    queue = f"peer-saga-{ctx.run_id}-r{run_no}"
    ctx.progress.update(SAGA_LABEL, 0.0, "starting the saga worker")
    runtime.start_worker("saga", queue)
    _track_pids(ctx, runtime)
    ledger = Ledger()
    prefix = f"peer-{ctx.run_id}-r{run_no}"
    tracker = KafkaTracker(ledger, prefix).start()

    def start(key: str) -> None:
        runtime.start_workflow(ORDER_WORKFLOW, saga_input(key, ctx.sku), key, queue)

    starter = WorkflowStarter(ledger, start)
    ladder = Ladder("peer", ledger, starter.fire, None, ctx.profile.settle_s, prefix)
    try:
        preflight(ladder, 2, 60, ctx.progress, SAGA_LABEL)
        windows = run_ladder(
            ladder, ctx.profile.peer_steps(), ctx.profile, ctx.progress, SAGA_LABEL
        )
        done = ledger.done_times()
        summaries = [
            step_summary("peer", w, ledger.entries(w.index), done, ctx.profile.deadline_s)
            for w in windows
        ]
        attach_samples(windows, summaries, ctx, "peer")
        completed = [e.key for e in ledger.entries() if e.step >= 0 and DONE in e.milestones]
        polls = monitor_polls(runtime, completed[:: max(1, len(completed) // 5)][:5])
        disturbed = _disturbed(ctx, ledger.entries(), summaries)
    finally:
        starter.close()
        tracker.stop()
        runtime.stop_worker()
        _forget_pids(ctx)
    extra = {"monitor_polls_sampled": polls, "unmatched_events": ledger.unmatched}
    return summaries, {**extra, "disturbed": disturbed}


def monitor_polls(runtime: TemporalRuntime, order_ids: list[str]) -> list[int]:
    """How many looks the peer's delivery monitor took (its last generation's result)."""
    polls = []
    for order_id in order_ids:
        handle = runtime.client.get_workflow_handle(monitor_instance_id(order_id))
        try:
            result = runtime.run(handle.result(follow_runs=True))
        except Exception:  # a missing or failed monitor only leaves this sample out
            continue
        polls.append(MonitorResult.model_validate(result).polls)
    return polls


def peer_floor_phase(
    ctx: RunContext, run_no: int, runtime: TemporalRuntime, activities: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    queue = f"peer-floor-{ctx.run_id}-r{run_no}"
    ctx.progress.update(FLOOR_LABEL, 0.0, "starting the floor worker")
    runtime.start_worker("floor", queue)
    _track_pids(ctx, runtime)
    ledger = Ledger()
    tracker = FileTracker(ledger, runtime.out).start()
    spec = {"activities": activities, "mark": SYNC_MARK}

    def start(key: str) -> None:
        runtime.start_workflow(FLOOR_WORKFLOW, spec, key, queue)

    starter = WorkflowStarter(ledger, start)
    prefix = f"peer-floor-{ctx.run_id}-r{run_no}"
    ladder = Ladder("peer-floor", ledger, starter.fire, None, ctx.profile.floor_settle_s, prefix)
    try:
        preflight(ladder, 2, 60, ctx.progress, FLOOR_LABEL)
        steps = ctx.profile.peer_floor_steps()
        windows = run_ladder(ladder, steps, ctx.profile, ctx.progress, FLOOR_LABEL)
        done = ledger.done_times()
        summaries = [
            step_summary("peer-floor", w, ledger.entries(w.index), done, ctx.profile.deadline_s)
            for w in windows
        ]
        attach_samples(windows, summaries, ctx, "peer-floor")
        disturbed = _disturbed(ctx, ledger.entries(), summaries)
    finally:
        starter.close()
        tracker.stop()
        runtime.stop_worker()
        _forget_pids(ctx)
    return summaries, {"activities": activities, "sync_mark": SYNC_MARK, "disturbed": disturbed}


def _forget_pids(ctx: RunContext, *names: str) -> None:
    for name in names or (WORKER,):
        ctx.extra.pids.pop(f"peer:{name}", None)


def peer_phases(ctx: RunContext, run_no: int, activities: int) -> dict[str, Any]:
    """Both peer phases on one dev server, started for this run and stopped after it."""
    runtime = TemporalRuntime(ctx.specs, f"{ctx.run_id}-r{run_no}")
    ctx.progress.update("temporal server", 0.0, f"starting on {runtime.ports.address}")
    try:
        runtime.start_server()
        _track_pids(ctx, runtime)
        ctx.progress.note(
            f"  temporal dev server on {runtime.ports.address} (data in {runtime.home})"
        )
        saga_steps, saga_extra = peer_saga_phase(ctx, run_no, runtime)
        ctx.progress.note(f"temporal floor: {activities} no-op activities each")
        floor_steps, floor_extra = peer_floor_phase(ctx, run_no, runtime, activities)
    finally:
        runtime.stop()
        runtime.clean()
        _forget_pids(ctx, WORKER, SERVER)
    return {
        "peer_steps": saga_steps,
        "peer_floor_steps": floor_steps,
        "peer": saga_extra,
        "peer_floor": floor_extra,
    }
