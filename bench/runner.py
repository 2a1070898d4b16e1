"""One bench run: the fleet's ladder through Kafka, then the floor's ladder on its sidecar.

Both ladders go the same way: per step, arrivals on the open-loop schedule; after the
step, its orders get `drain_cap_s` to finish before the next step begins (so each step
starts from a quiet system); a step that cannot keep up ends the ladder, and the phase
ends only when every order has finished or passed its deadline, so that the next phase
(or another engineer's test) does not inherit a backlog.
"""

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import metrics
from bench.fleet_io import completed_per_workflow, fleet_pids, monitor_polls
from bench.floor import DEFAULT_POLLS, SYNC_MARK, FloorRuntime, saga_activity_count
from bench.loadgen import Fire, KafkaOrderSender, WorkflowStarter, run_open_loop
from bench.progress import Progress
from bench.sampler import ProcessSampler
from bench.schedule import Profile, Step
from bench.stats import completion_rate, latency_summary, latency_trend, rate_in_window
from bench.tracker import DONE, SYNC, Entry, FileTracker, KafkaTracker, Ledger
from fleet import topology
from fleet.runner.specs import ProcessSpec

SATURATION_SHARE = 0.85  # below this share of the offered rate, with a rising latency ...
RISING_LATENCY_S = 1.0  # ... that rose this much from the step's first arrivals to its last
FAR_BELOW_SHARE = 0.6  # below this share, whatever the latency does
BACKLOG_SHARE = 0.05  # more than this share still running after the drain: a backlog


@dataclass
class Window:
    """When a step ran, what the sidecar counted during its steady part."""

    index: int
    step: Step
    started: float
    ended: float
    steady_from: float
    sent: int
    max_lag_s: float
    runtime: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Extra:
    """Processes the bench starts for itself (the floor), sampled next to the fleet's."""

    pids: dict[str, int] = field(default_factory=dict)


def step_summary(
    workload: str,
    window: Window,
    entries: list[Entry],
    done_times: list[float],
    deadline_s: float,
) -> dict[str, Any]:
    """The figures of one step (pure): throughput in its steady window, latencies, errors."""
    ok: list[float] = []
    errors: dict[str, int] = {}
    for entry in entries:
        latency = entry.latency(DONE)
        if latency is not None and latency <= deadline_s:
            ok.append(latency)
        else:
            reason = entry.failure or ("late" if latency is not None else "timeout")
            errors[reason] = errors.get(reason, 0) + 1
    sync = [lat for e in entries if (lat := e.latency(SYNC)) is not None]
    ok_done = [
        e.milestones[DONE]
        for e in entries
        if (lat := e.latency(DONE)) is not None and lat <= deadline_s
    ]
    return {
        "workload": workload,
        "step": window.index + 1,
        "offered_per_s": window.step.rate,
        "duration_s": window.step.duration_s,
        "sent": len(entries),
        "completed": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": dict(sorted(errors.items())),
        "throughput_per_s": round(completion_rate(ok_done, window.step.rate), 2),
        # Every completion (any step's) in the step's steady part: the same figure when the
        # step is longer than the latency, noisier when it is not.
        "window_rate_per_s": round(rate_in_window(done_times, window.steady_from, window.ended), 2),
        "latency_ms": latency_summary(ok),
        "sync_latency_ms": latency_summary(sync),
        "latency_trend_ms": _ms(latency_trend(_in_send_order(entries, deadline_s))),
        "max_send_lag_ms": round(window.max_lag_s * 1000, 1),
        "runtime": window.runtime,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _in_send_order(entries: list[Entry], deadline_s: float) -> list[float]:
    ordered = sorted(entries, key=lambda e: e.scheduled)
    return [lat for e in ordered if (lat := e.latency(DONE)) is not None and lat <= deadline_s]


def is_saturated(
    offered: float, throughput: float, sent: int, unresolved: int, trend_s: float | None
) -> bool:
    """Fell behind: a backlog left after the drain, completing far below the offered rate,
    or somewhat below it while the latency climbs through the step (a growing queue)."""
    if sent > 0 and unresolved / sent > BACKLOG_SHARE:
        return True
    if throughput < FAR_BELOW_SHARE * offered:
        return True
    return throughput < SATURATION_SHARE * offered and (trend_s or 0.0) > RISING_LATENCY_S


@dataclass
class Ladder:
    workload: str
    ledger: Ledger
    fire: Fire
    metrics_port: int | None  # the workflow sidecar's; None: an engine without daprd's counters
    settle_s: float
    prefix: str


def _wait_until(
    condition: Callable[[], bool], until: float, tick: Callable[[], None], poll_s: float = 0.2
) -> bool:
    while not condition():
        if time.monotonic() >= until:
            return False
        tick()
        time.sleep(poll_s)
    return True


def _timed_step(
    index: int, step: Step, ladder: Ladder, fire: Fire, tick: Callable[[int], None]
) -> Window:
    """One step's arrivals, with the sidecar's counters read over its steady part."""
    settle = min(ladder.settle_s, step.duration_s / 2)
    snapshots: dict[str, metrics.Snapshot] = {}
    ports = (
        ()
        if ladder.metrics_port is None
        else (ladder.metrics_port, topology.SCHEDULER_METRICS_PORT)
    )

    def read() -> metrics.Snapshot:
        return metrics.scrape(*ports) if ports else {}

    def read_before() -> None:
        snapshots["before"] = read()

    steady = threading.Timer(settle, read_before)
    steady.start()
    stats = run_open_loop(step, [*_keys(ladder.prefix, index, step)], fire, on_tick=tick)
    steady.join()
    after = read()
    steady_from = stats.started + settle
    return Window(
        index=index,
        step=step,
        started=stats.started,
        ended=stats.ended,
        steady_from=steady_from,
        sent=stats.sent,
        max_lag_s=stats.max_lag_s,
        runtime=metrics.runtime_figures(
            snapshots.get("before", {}), after, stats.ended - steady_from
        ),
    )


def _keys(prefix: str, index: int, step: Step) -> list[str]:
    return [f"{prefix}-s{index + 1}-{n:05d}" for n in range(step.count)]


def run_ladder(
    ladder: Ladder,
    steps: list[Step],
    profile: Profile,
    progress: Progress,
    label: str,
) -> list[Window]:
    windows: list[Window] = []
    ledger = ladder.ledger
    for index, step in enumerate(steps):
        tag = f"{label} {step.rate:g}/s"

        def fire(key: str, scheduled: float, _index: int = index) -> None:
            ledger.register(key, _index, scheduled)
            ladder.fire(key, scheduled)

        def tick(sent: int, _step: Step = step, _index: int = index, _tag: str = tag) -> None:
            done = ledger.counts(_index)[1]
            progress.update(_tag, sent / _step.count, f"sent {sent}/{_step.count} finished {done}")

        window = _timed_step(index, step, ladder, fire, tick)
        windows.append(window)

        def drain_tick(_index: int = index, _tag: str = tag, _count: int = step.count) -> None:
            left = ledger.unresolved(_index)
            progress.update(_tag + " drain", 1 - left / _count, f"{left} still running")

        def drained(_index: int = index) -> bool:
            return ledger.unresolved(_index) == 0

        _wait_until(drained, time.monotonic() + profile.drain_cap_s, drain_tick)
        step_entries = ledger.entries(index)
        step_done = [e.milestones[DONE] for e in step_entries if DONE in e.milestones]
        throughput = completion_rate(step_done, step.rate)
        unresolved = ledger.unresolved(index)
        trend = latency_trend(_in_send_order(step_entries, profile.deadline_s))
        if profile.stop_when_saturated and is_saturated(
            step.rate, throughput, window.sent, unresolved, trend
        ):
            progress.note(
                f"  {label}: saturated at {step.rate:g}/s (completing {throughput:.1f}/s, "
                f"{unresolved} of {window.sent} still running after {profile.drain_cap_s:g}s); "
                "no higher steps"
            )
            break
    # No backlog left behind: wait until everything finished or passed its deadline.
    last = max((e.scheduled for e in ledger.entries()), default=time.monotonic())
    total = max(1, len(ledger))
    _wait_until(
        lambda: ledger.unresolved() == 0,
        last + profile.deadline_s,
        lambda: progress.update(
            f"{label} finishing", 1 - ledger.unresolved() / total, f"{ledger.unresolved()} left"
        ),
    )
    return windows


def preflight(ladder: Ladder, count: int, timeout_s: float, progress: Progress, what: str) -> None:
    """A few arrivals before the ladder: proves the path works and warms it up."""
    for n in range(count):
        key = f"{ladder.prefix}-warm-{n}"
        now = time.monotonic()
        ladder.ledger.register(key, -1, now)
        ladder.fire(key, now)
    ok = _wait_until(
        lambda: ladder.ledger.unresolved(-1) == 0,
        time.monotonic() + timeout_s,
        lambda: progress.update(f"warm-up {what}", 0.5, "waiting for the first completions"),
    )
    entries = ladder.ledger.entries(-1)
    failed = [e for e in entries if DONE not in e.milestones]
    if not ok or failed:
        reasons = sorted({e.failure or "no completion" for e in failed})
        raise RuntimeError(
            f"{what}: {len(failed)} of {count} warm-up arrivals did not complete within "
            f"{timeout_s:.0f}s ({', '.join(reasons)})"
        )


@dataclass
class RunContext:
    specs: list[ProcessSpec]
    profile: Profile
    sku: str
    sampler: ProcessSampler
    extra: Extra
    progress: Progress
    run_id: str
    floor: bool = True


BUSY_BYSTANDER_PCT = 25.0  # a fleet process this busy while only the floor runs skews it
FLOORS = ("floor", "peer-floor")  # workloads that use no fleet app
BENCH_OWNED = ("floor:", "peer:")  # name prefixes of the processes the bench starts itself


def busy_bystanders(processes: dict[str, float], workload: str) -> list[str]:
    """During a floor, fleet processes other than the shared control plane should idle."""
    if workload not in FLOORS:
        return []
    shared = {"scheduler", "placement", "sentry", "bench"}
    return sorted(
        name
        for name, cpu in processes.items()
        if cpu > BUSY_BYSTANDER_PCT and name not in shared and not name.startswith(BENCH_OWNED)
    )


def attach_samples(
    windows: list[Window], summaries: list[dict[str, Any]], ctx: RunContext, workload: str
) -> None:
    for window, summary in zip(windows, summaries, strict=True):
        processes, host_cpu = ctx.sampler.summary(window.steady_from, window.ended)
        summary["processes"] = {
            name: {
                "cpu_pct": f.cpu_pct,
                "rss_mb": f.rss_mb_max,
                "rss_mb_mean": f.rss_mb_mean,
                "threads": f.threads_max,
            }
            for name, f in processes.items()
        }
        disturbed = ctx.sampler.disturbances(window.started, window.ended)
        disturbed["busy"] = busy_bystanders(
            {name: f.cpu_pct for name, f in processes.items()}, workload
        )
        summary["disturbed"] = {kind: names for kind, names in disturbed.items() if names}
        measured = sum(f.cpu_pct for f in processes.values())
        summary["host_cpu_pct"] = host_cpu
        summary["other_cpu_pct"] = None if host_cpu is None else round(host_cpu - measured, 1)


def fleet_phase(ctx: RunContext, run_no: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    spans_before = metrics.zipkin_spans(topology.ZIPKIN_URL)
    ledger = Ledger()
    prefix = f"bench-{ctx.run_id}-r{run_no}"
    tracker = KafkaTracker(ledger, prefix).start()
    sender = KafkaOrderSender(ledger, ctx.sku)
    sender.warm_up()
    ladder = Ladder(
        "fleet",
        ledger,
        sender.fire,
        topology.ORCHESTRATOR.dapr_metrics_port,
        ctx.profile.settle_s,
        prefix,
    )
    try:
        preflight(ladder, 2, 60, ctx.progress, "fleet")
        windows = run_ladder(ladder, ctx.profile.fleet_steps(), ctx.profile, ctx.progress, "fleet")
    finally:
        sender.close()
        tracker.stop()
    done = ledger.done_times()
    summaries = [
        step_summary("fleet", w, ledger.entries(w.index), done, ctx.profile.deadline_s)
        for w in windows
    ]
    attach_samples(windows, summaries, ctx, "fleet")
    entries = [e for e in ledger.entries() if e.step >= 0]
    completed = [e.key for e in entries if DONE in e.milestones]
    chooser = random.Random(0)
    polls = monitor_polls(chooser.sample(completed, min(5, len(completed))))
    # Orders the tracker never saw complete: does their workflow say otherwise? If so, the
    # tracker lost events (e.g. Kafka restarted under it) and the errors are not the fleet's.
    unseen = [e.key for e in entries if DONE not in e.milestones and e.failure is None]
    checked = chooser.sample(unseen, min(10, len(unseen)))
    missed = completed_per_workflow(checked)
    if missed:
        ctx.progress.note(
            f"  ! {len(missed)} of {len(checked)} orders counted as timeouts completed per "
            "their workflow: the tracker lost order events (was Kafka restarted?)"
        )
    span = (min(e.scheduled for e in entries), time.monotonic()) if entries else (0.0, 0.0)
    spans_after = metrics.zipkin_spans(topology.ZIPKIN_URL)
    spans = None if spans_before is None or spans_after is None else spans_after - spans_before
    extra = {
        # Every sidecar and app traces every order (samplingRate 1) into Zipkin's heap.
        "zipkin_spans_per_order": round(spans / len(entries), 1) if spans and entries else None,
        "zipkin_heap_used_mb": metrics.zipkin_heap_used_mb(topology.ZIPKIN_URL),
        "monitor_polls_sampled": polls,
        "unmatched_events": ledger.unmatched,
        "tracker_check": {"checked": len(checked), "completed_but_unseen": len(missed)},
        "disturbed": {k: v for k, v in ctx.sampler.disturbances(*span).items() if v},
    }
    return summaries, extra


def floor_phase(
    ctx: RunContext, run_no: int, activities: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    runtime = FloorRuntime(ctx.specs, f"{ctx.run_id}-r{run_no}")
    ctx.progress.update("floor sidecar", 0.0, "starting bench-floor sidecar and worker")
    runtime.start()
    ctx.extra.pids.update({f"floor:{k}": v for k, v in runtime.pids().items()})
    ledger = Ledger()
    tracker = FileTracker(ledger, runtime.out).start()
    starter = WorkflowStarter(ledger, runtime.workflow_client_starter(activities))
    prefix = f"floor-{ctx.run_id}-r{run_no}"
    ladder = Ladder(
        "floor", ledger, starter.fire, runtime.ports.metrics, ctx.profile.floor_settle_s, prefix
    )
    try:
        preflight(ladder, 2, 60, ctx.progress, "floor")
        windows = run_ladder(ladder, ctx.profile.floor_steps(), ctx.profile, ctx.progress, "floor")
        done = ledger.done_times()
        summaries = [
            step_summary("floor", w, ledger.entries(w.index), done, ctx.profile.deadline_s)
            for w in windows
        ]
        attach_samples(windows, summaries, ctx, "floor")
        entries = ledger.entries()
        span = (min(e.scheduled for e in entries), time.monotonic()) if entries else (0.0, 0.0)
        disturbed = {k: v for k, v in ctx.sampler.disturbances(*span).items() if v}
        busy = sorted({name for s in summaries for name in s["disturbed"].get("busy", [])})
        if busy:
            disturbed["busy"] = busy
    finally:
        starter.close()
        tracker.stop()
        runtime.stop()
        runtime.clean()
        ctx.extra.pids.clear()
    return summaries, {"activities": activities, "sync_mark": SYNC_MARK, "disturbed": disturbed}


def sampler_targets(extra: Extra) -> Callable[[], dict[str, int]]:
    me = os.getpid()

    def targets() -> dict[str, int]:
        return {**fleet_pids(), **extra.pids, "bench": me}

    return targets


def floor_activity_count(polls: list[int]) -> int:
    """The saga's activity count with the median number of monitor polls seen."""
    if not polls:
        return saga_activity_count(DEFAULT_POLLS)
    ordered = sorted(polls)
    return saga_activity_count(ordered[len(ordered) // 2])
