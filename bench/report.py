"""Headline figures (pure), and the files in bench/results/: JSON, CSV, markdown, PNG."""

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.stats import median

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCHEMA = 1
RISING_LATENCY_MS = 500.0  # latency rising this much through a step: a queue is building


def peak(steps: Sequence[dict[str, Any]]) -> float | None:
    """The highest completion rate measured in any step; a step cannot complete faster than
    it offered, so a measurement above the offered rate (noise) counts as the offered rate."""
    rates = [min(float(s["throughput_per_s"]), float(s["offered_per_s"])) for s in steps]
    return round(max(rates), 2) if rates else None


def saturated(steps: Sequence[dict[str, Any]]) -> bool:
    """Did any step fall behind (completing clearly less than offered, errors, or a queue
    building up)? If none did, the peak is only a lower bound."""
    return any(
        s["throughput_per_s"] < 0.85 * s["offered_per_s"]
        or s["errors"] > 0
        or (s.get("latency_trend_ms") or 0.0) >= RISING_LATENCY_MS
        for s in steps
    )


def sustained(steps: Sequence[dict[str, Any]], share: float = 0.9) -> float | None:
    """The highest offered rate completed at ≥ `share` of it, without errors and without a
    queue building up (latency rising less than RISING_LATENCY_MS through the step)."""
    kept = [
        float(s["offered_per_s"])
        for s in steps
        if s["errors"] == 0
        and s["throughput_per_s"] >= share * s["offered_per_s"]
        and (s.get("latency_trend_ms") or 0.0) < RISING_LATENCY_MS
    ]
    return max(kept) if kept else None


def step_at_share(steps: Sequence[dict[str, Any]], share: float) -> dict[str, Any] | None:
    """The step with the highest offered rate at or below `share` of the peak throughput."""
    top = peak(steps)
    if top is None:
        return None
    below = [s for s in steps if s["offered_per_s"] <= share * top + 1e-9]
    return max(below, key=lambda s: s["offered_per_s"]) if below else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top and bottom else None


def peer_figures(
    peer: Sequence[dict[str, Any]],
    peer_floor: Sequence[dict[str, Any]],
    fleet_peak: float | None,
    floor_peak: float | None,
) -> dict[str, Any]:
    """The peer engine's saga and floor, and how the Dapr figures compare with them."""
    saga_peak = peak(peer)
    peer_floor_peak = peak(peer_floor)
    at_80 = step_at_share(peer, 0.8)
    floor_80 = step_at_share(peer_floor, 0.8)
    return {
        "peer_saga_per_s": saga_peak,
        "peer_saga_sustained_per_s": sustained(peer),
        "peer_floor_per_s": peer_floor_peak,
        "peer_floor_sustained_per_s": sustained(peer_floor),
        "peer_saturated": saturated(peer),
        "peer_floor_saturated": saturated(peer_floor),
        "peer_p99_ms_at_80pct": at_80["latency_ms"]["p99"] if at_80 else None,
        "peer_sync_p99_ms_at_80pct": at_80["sync_latency_ms"]["p99"] if at_80 else None,
        "peer_rate_at_80pct": at_80["offered_per_s"] if at_80 else None,
        "peer_floor_p99_ms_at_80pct": floor_80["latency_ms"]["p99"] if floor_80 else None,
        "peer_floor_sync_p99_ms_at_80pct": (
            floor_80["sync_latency_ms"]["p99"] if floor_80 else None
        ),
        "peer_floor_rate_at_80pct": floor_80["offered_per_s"] if floor_80 else None,
        "peer_to_peer_floor_ratio": _ratio(saga_peak, peer_floor_peak),
        "fleet_to_peer_ratio": _ratio(fleet_peak, saga_peak),
        "floor_to_peer_floor_ratio": _ratio(floor_peak, peer_floor_peak),
    }


def run_figures(
    fleet: Sequence[dict[str, Any]],
    floor: Sequence[dict[str, Any]],
    peer: Sequence[dict[str, Any]] | None = None,
    peer_floor: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The headline figures of one run (with the peer's when it ran)."""
    fleet_peak = peak(fleet)
    floor_peak = peak(floor)
    at_80 = step_at_share(fleet, 0.8)
    floor_80 = step_at_share(floor, 0.8)
    peers = {} if peer is None else peer_figures(peer, peer_floor or [], fleet_peak, floor_peak)
    return {
        "peak_orders_per_s": fleet_peak,
        "sustained_orders_per_s": sustained(fleet),
        "floor_peak_per_s": floor_peak,
        "floor_sustained_per_s": sustained(floor),
        # If no step fell behind, the peak is only a lower bound.
        "fleet_saturated": saturated(fleet),
        "floor_saturated": saturated(floor),
        "fleet_to_floor_ratio": (
            round(fleet_peak / floor_peak, 3) if fleet_peak and floor_peak else None
        ),
        "p99_ms_at_80pct": at_80["latency_ms"]["p99"] if at_80 else None,
        "sync_p99_ms_at_80pct": at_80["sync_latency_ms"]["p99"] if at_80 else None,
        "rate_at_80pct": at_80["offered_per_s"] if at_80 else None,
        "floor_p99_ms_at_80pct": floor_80["latency_ms"]["p99"] if floor_80 else None,
        "floor_sync_p99_ms_at_80pct": floor_80["sync_latency_ms"]["p99"] if floor_80 else None,
        "floor_rate_at_80pct": floor_80["offered_per_s"] if floor_80 else None,
        **peers,
    }


HEADLINE = (
    "peak_orders_per_s",
    "sustained_orders_per_s",
    "floor_peak_per_s",
    "fleet_to_floor_ratio",
    "p99_ms_at_80pct",
    "sync_p99_ms_at_80pct",
)
# With a peer (make bench PEER=temporal), medians over runs like the headline.
PEER_HEADLINE = (
    "peer_saga_per_s",
    "peer_floor_per_s",
    "peer_p99_ms_at_80pct",
    "peer_sync_p99_ms_at_80pct",
    "peer_to_peer_floor_ratio",
    "fleet_to_peer_ratio",
    "floor_to_peer_floor_ratio",
)
# The step lists of latest.json, each with its run number.
STEP_LISTS = ("steps", "floor_steps", "peer_steps", "peer_floor_steps")


def build_summary(
    runs: Sequence[dict[str, Any]], config: dict[str, Any], host: dict[str, Any]
) -> dict[str, Any]:
    """latest.json: the headline figures (the median over runs), then every run's steps."""
    figures = [run["figures"] for run in runs]
    peer = config.get("peer")
    headline: dict[str, Any] = {}
    for name in (*HEADLINE, *(PEER_HEADLINE if peer else ())):
        values = [f[name] for f in figures if f.get(name) is not None]
        middle = median(values) if values else None
        headline[name] = None if middle is None else round(middle, 3)
    last = figures[-1] if figures else {}
    extra: dict[str, Any] = {}
    if peer:
        extra = {
            "peer": peer,
            "peer_rate_at_80pct": last.get("peer_rate_at_80pct"),
            "peer_saturated": any(f.get("peer_saturated") for f in figures),
            "peer_floor_saturated": any(f.get("peer_floor_saturated") for f in figures),
        }
    for name in ("floor_p99_ms_at_80pct", "floor_sync_p99_ms_at_80pct", "floor_rate_at_80pct"):
        extra[name] = last.get(name)
    lists = {
        name: [{"run": i + 1, **s} for i, run in enumerate(runs) for s in run.get(key, [])]
        for name, key in zip(STEP_LISTS, _RUN_KEYS, strict=True)
        if name in ("steps", "floor_steps") or peer
    }
    return {
        "schema": SCHEMA,
        **headline,
        "rate_at_80pct": last.get("rate_at_80pct"),
        "fleet_saturated": any(f.get("fleet_saturated") for f in figures),
        "floor_saturated": any(f.get("floor_saturated") for f in figures),
        **extra,
        "runs_count": len(runs),
        "per_run": [{"run": i + 1, **f} for i, f in enumerate(figures)],
        **lists,
        "runs": [{k: v for k, v in run.items() if not k.endswith("_steps")} for run in runs],
        "config": config,
        "host": host,
    }


# Where each of STEP_LISTS is in a run's record.
_RUN_KEYS = ("fleet_steps", "floor_steps", "peer_steps", "peer_floor_steps")


def all_steps(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for name in STEP_LISTS for step in summary.get(name, [])]


CSV_COLUMNS = (
    "run",
    "workload",
    "step",
    "offered_per_s",
    "duration_s",
    "sent",
    "completed",
    "errors",
    "throughput_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "sync_p50_ms",
    "sync_p95_ms",
    "sync_p99_ms",
    "max_send_lag_ms",
    "activities_per_s",
    "activity_ms_mean",
    "scheduler_jobs_per_s",
    "host_cpu_pct",
    "other_cpu_pct",
)


def csv_rows(summary: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    steps = all_steps(summary)
    processes = sorted({name for s in steps for name in s.get("processes", {})})
    columns = [*CSV_COLUMNS]
    columns += [f"cpu_pct:{name}" for name in processes]
    columns += [f"rss_mb:{name}" for name in processes]
    rows = []
    for s in steps:
        row: dict[str, Any] = {k: s.get(k) for k in CSV_COLUMNS if k in s}
        for q in ("p50", "p95", "p99"):
            row[f"{q}_ms"] = s["latency_ms"][q]
            row[f"sync_{q}_ms"] = s["sync_latency_ms"][q]
        runtime = s.get("runtime") or {}
        row["activities_per_s"] = runtime.get("activities_per_s")
        row["activity_ms_mean"] = runtime.get("activity_ms_mean")
        row["scheduler_jobs_per_s"] = runtime.get("scheduler_jobs_per_s")
        for name, p in s.get("processes", {}).items():
            row[f"cpu_pct:{name}"] = p["cpu_pct"]
            row[f"rss_mb:{name}"] = p["rss_mb"]
        rows.append(row)
    return columns, rows


def jobs_per_done(step: dict[str, Any]) -> float | None:
    """Scheduler jobs created per completed order (or floor workflow) in the step."""
    jobs = (step.get("runtime") or {}).get("scheduler_jobs_per_s")
    done = step.get("throughput_per_s")
    return round(jobs / done, 1) if jobs is not None and done else None


def write_csv(path: Path, summary: dict[str, Any]) -> None:
    columns, rows = csv_rows(summary)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{value}{unit}"


def top_processes(step: dict[str, Any], count: int = 6) -> list[tuple[str, float]]:
    procs = step.get("processes", {})
    ranked = sorted(((n, p["cpu_pct"]) for n, p in procs.items()), key=lambda x: -x[1])
    return ranked[:count]


def markdown(summary: dict[str, Any], files: dict[str, str]) -> str:
    config = summary["config"]
    host = summary["host"]
    floor_bound = "" if summary["floor_saturated"] else " (never fell behind: a lower bound)"
    fleet_bound = "" if summary["fleet_saturated"] else " (never fell behind: a lower bound)"
    lines = [
        "# Order saga benchmark",
        "",
        f"{summary['runs_count']} run(s), {'QUICK' if config.get('quick') else 'full'} profile, "
        f"{config.get('started_at', '')}; host {host.get('cpus')} CPUs, "
        f"load average before {host.get('loadavg_before')}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| peak orders/s (fleet) | {_fmt(summary['peak_orders_per_s'])}{fleet_bound} |",
        f"| sustained orders/s (≥90% of offered, no errors, latency flat) | "
        f"{_fmt(summary['sustained_orders_per_s'])} |",
        f"| floor peak workflows/s | {_fmt(summary['floor_peak_per_s'])}{floor_bound} |",
        f"| fleet / floor | {_fmt(summary['fleet_to_floor_ratio'])} |",
        f"| p99 end-to-end at 80% of peak ({_fmt(summary['rate_at_80pct'])}/s) | "
        f"{_fmt(summary['p99_ms_at_80pct'], ' ms')} |",
        f"| p99 to shipment_created at 80% of peak | "
        f"{_fmt(summary['sync_p99_ms_at_80pct'], ' ms')} |",
        "",
    ]
    if summary.get("peer"):
        lines += side_by_side(summary)
    if host.get("busy_before_load"):
        lines += [
            f"**Busy before any load** (CPU % of one core): {host['busy_before_load']}; "
            "every figure below is skewed by it.",
            "",
        ]
    disturbed = [
        f"run {run['run']} {phase}: {run[phase]['disturbed']}"
        for run in summary["runs"]
        for phase in ("fleet", "floor", "peer", "peer_floor")
        if (run.get(phase) or {}).get("disturbed")
    ]
    if disturbed:
        lines += [
            "**Disturbed**: fleet processes restarted, stopped or vanished during the run "
            "(someone else's work on the shared fleet); steps marked `!` are not clean:",
            "",
            *(f"- {item}" for item in disturbed),
            "",
        ]
    if summary["runs_count"] > 1:
        lines += [
            "## Runs",
            "",
            "| run | peak/s | floor/s | ratio | p99 ms @80% |",
            "|---|---|---|---|---|",
        ]
        for r in summary["per_run"]:
            lines.append(
                f"| {r['run']} | {_fmt(r['peak_orders_per_s'])} | {_fmt(r['floor_peak_per_s'])} "
                f"| {_fmt(r['fleet_to_floor_ratio'])} | {_fmt(r['p99_ms_at_80pct'])} |"
            )
        lines.append("")
    sections = [("Fleet (order saga through Kafka)", "steps"), ("Floor", "floor_steps")]
    if summary.get("peer"):
        sections += [("Temporal saga", "peer_steps"), ("Temporal floor", "peer_floor_steps")]
    for workload, key in sections:
        lines += [
            f"## {workload}",
            "",
            "| run | offered/s | done/s | sent | errors | p50 | p95 | p99 | sync p50 | sync p99 "
            "| act/s | act ms | jobs/done | host CPU% | other CPU% | top CPU% |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in summary[key]:
            runtime = s.get("runtime") or {}
            top = ", ".join(f"{n} {c:.0f}" for n, c in top_processes(s, 4))
            cells = [
                f"{s['run']}{' !' if s.get('disturbed') else ''}",
                f"{s['offered_per_s']:g}",
                f"{s['throughput_per_s']:.1f}",
                s["sent"],
                s["errors"],
                *(_fmt(s["latency_ms"][q]) for q in ("p50", "p95", "p99")),
                *(_fmt(s["sync_latency_ms"][q]) for q in ("p50", "p99")),
                _fmt(runtime.get("activities_per_s")),
                _fmt(runtime.get("activity_ms_mean")),
                _fmt(jobs_per_done(s)),
                _fmt(s.get("host_cpu_pct")),
                _fmt(s.get("other_cpu_pct")),
                top,
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
    lines += ["## Per run", ""]
    for run in summary["runs"]:
        fleet = run.get("fleet") or {}
        lines.append(
            f"- run {run['run']}: monitor polls sampled {fleet.get('monitor_polls_sampled')}, "
            f"Zipkin {fleet.get('zipkin_spans_per_order')} spans per order, Zipkin heap "
            f"{fleet.get('zipkin_heap_used_mb')} MB after the fleet phase, tracker check "
            f"{fleet.get('tracker_check')}"
        )
    lines.append("")
    lines += [
        "## How it was measured",
        "",
        "- Open loop: arrivals on a fixed schedule per step, whatever completes. Orders are "
        "CloudEvents on `order-requests` (kafka-python), one line, quantity 1, `tok_visa`, DE, "
        "on a SKU created for the run.",
        "- End-to-end latency = the bench consumer's receive time of "
        "`com.orderfleet.order.completed.v1` (subject = order id) on `order-events` minus the "
        "order's scheduled send time (the producer call happens within `max_send_lag_ms` of "
        "it). `data.occurred_at` (the workflow's clock) is not used. `sync` = the same for "
        "`shipment_created`. Both include the intake (Kafka → daprd → orchestrator → start).",
        "- The delivery monitor waits for the shipping app's simulated delivery "
        "(SHIPPING_STEP_SECONDS=2: ~4 s + 1 s polls), which dominates the end-to-end latency.",
        "- done/s = the rate at which the step's own arrivals completed, between the 10th and "
        "90th percentile of their completion times (a constant latency drops out; jitter "
        "mostly moves the trimmed ends); a step that keeps up completes at its offered rate. "
        "(`window_rate_per_s` in the JSON counts every completion in the step's steady part "
        f"instead: after {config.get('settle_s')} s, floor {config.get('floor_settle_s')} s.) "
        "Peak = the best done/s of any step, never above its offered rate. Errors = orders "
        f"not completed within {config.get('deadline_s')} s of their send time, or ending "
        "otherwise (rejected, compensated, dead-lettered, ...). Percentiles are over completed "
        "orders.",
        f"- Floor: `bench/floor_worker.py`, a workflow of {config.get('floor_activities')} no-op "
        "activities (the saga's count for a one-line order, with the median monitor polls "
        "observed) on its own daprd (app id `bench-floor`, same flags, mTLS, tracing and "
        "config as the orchestrator's, its own sqlite actor store), started with "
        "DaprWorkflowClient; completion = the last activity's `time.monotonic()`, sync = "
        f"activity {config.get('sync_mark')}.",
        "- CPU% is of one core (200% = both cores of a 2-core host), from /proc/<pid>/stat "
        "over the step's steady part; `other` = whole-host busy time not spent by the "
        "fleet, the floor or the bench (other engineers' work: noise). act/s and act ms = "
        "daprd's own activity counters (`dapr_runtime_workflow_activity_execution_*`); "
        "jobs/done = the scheduler's `dapr_scheduler_jobs_created_total` per completion "
        "(activities, timers, child workflows and retention periods are all jobs).",
        "",
        *(peer_method(summary) if summary.get("peer") else []),
        "Files: " + ", ".join(f"`{name}`" for name in files.values()),
        "",
    ]
    return "\n".join(lines)


def _bound(value: Any, saturated: bool) -> str:
    return _fmt(value) if saturated or value is None else f"≥{_fmt(value)}"


# Per workload of the side-by-side table: its label, then the figures of its columns.
SIDE_BY_SIDE = (
    ("Dapr fleet (order saga)", "peak_orders_per_s", "fleet_saturated",
     "sustained_orders_per_s", "rate_at_80pct", "p99_ms_at_80pct", "sync_p99_ms_at_80pct"),
    ("Dapr floor (no-op activities)", "floor_peak_per_s", "floor_saturated",
     "floor_sustained_per_s", "floor_rate_at_80pct", "floor_p99_ms_at_80pct",
     "floor_sync_p99_ms_at_80pct"),
    ("Temporal saga", "peer_saga_per_s", "peer_saturated", "peer_saga_sustained_per_s",
     "peer_rate_at_80pct", "peer_p99_ms_at_80pct", "peer_sync_p99_ms_at_80pct"),
    ("Temporal floor (no-op activities)", "peer_floor_per_s", "peer_floor_saturated",
     "peer_floor_sustained_per_s", "peer_floor_rate_at_80pct", "peer_floor_p99_ms_at_80pct",
     "peer_floor_sync_p99_ms_at_80pct"),
)  # fmt: skip


def side_by_side(summary: dict[str, Any]) -> list[str]:
    """The fleet, the Dapr floor, the peer's saga and the peer's floor, in one table:
    headline figures are medians over runs, the others the last run's."""
    peer = summary["peer"]
    last = (summary.get("per_run") or [{}])[-1]

    def value(name: str | None) -> Any:
        if name is None:
            return None
        found = summary.get(name)
        return found if found is not None else last.get(name)

    versions = ", ".join(f"{k} {v}" for k, v in peer["version"].items())
    lines = [
        f"## Side by side: Dapr {summary['host'].get('dapr_runtime')} and {peer['name']} "
        f"({versions})",
        "",
        "| workload | peak/s | sustained/s | at 80% of peak | p99 end-to-end | "
        "p99 to shipment_created |",
        "|---|---|---|---|---|---|",
    ]
    for label, top, bound, kept, rate, p99, sync in SIDE_BY_SIDE:
        cells = [
            label,
            _bound(value(top), bool(value(bound))),
            _fmt(value(kept)),
            f"{_fmt(value(rate))}/s" if rate else "-",
            _fmt(value(p99), " ms"),
            _fmt(value(sync), " ms"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| ratio | value |",
        "|---|---|",
        f"| Dapr fleet / Dapr floor | {_fmt(value('fleet_to_floor_ratio'))} |",
        f"| Temporal saga / Temporal floor | {_fmt(value('peer_to_peer_floor_ratio'))} |",
        f"| Dapr fleet / Temporal saga | {_fmt(value('fleet_to_peer_ratio'))} |",
        f"| Dapr floor / Temporal floor | {_fmt(value('floor_to_peer_floor_ratio'))} |",
        "",
    ]
    return lines


def peer_method(summary: dict[str, Any]) -> list[str]:
    config = summary["config"]
    return [
        f"- Temporal saga: `bench/peer/`, the saga's happy path as a Temporal workflow "
        "(Temporal CLI dev server on SQLite, Python SDK) whose activities are the fleet's own "
        "functions calling inventory, payment and shipping and publishing to Kafka through "
        "the orchestrator's daprd; started with the Temporal client (no Kafka intake), "
        "measured on `order-events` like the fleet. Temporal floor: "
        f"{config.get('floor_activities')} sequential no-op activities, like the Dapr floor.",
        "",
    ]


def plot(path: Path, summary: dict[str, Any]) -> bool:
    """Throughput against offered load, latency percentiles, CPU per process; False if
    matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(18, 5.5))
    runs = sorted({s["run"] for s in summary["steps"]})
    top_offered = max([s["offered_per_s"] for s in all_steps(summary)] or [1])
    ax1.plot([0, top_offered], [0, top_offered], color="grey", linestyle=":", label="offered")
    for run in runs:
        throughput_series = (
            ("steps", "fleet", "o"),
            ("floor_steps", "floor", "s"),
            ("peer_steps", "temporal saga", "^"),
            ("peer_floor_steps", "temporal floor", "v"),
        )
        for key, name, marker in throughput_series:
            if key not in summary:
                continue
            steps = [s for s in summary[key] if s["run"] == run]
            suffix = f" run {run}" if len(runs) > 1 else ""
            ax1.plot(
                [s["offered_per_s"] for s in steps],
                [s["throughput_per_s"] for s in steps],
                marker=marker,
                label=f"{name}{suffix}",
            )
    ax1.set_xlabel("offered load (arrivals/s)")
    ax1.set_ylabel("completed per s")
    ax1.set_title("Throughput")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)

    first = [s for s in summary["steps"] if s["run"] == runs[0]] if runs else []
    floor_first = [s for s in summary["floor_steps"] if s["run"] == (runs[0] if runs else 1)]
    peer_first = [s for s in summary.get("peer_steps", []) if s["run"] == (runs[0] if runs else 1)]
    series = (
        (first, "latency_ms", "fleet e2e", "-"),
        (first, "sync_latency_ms", "fleet to shipment_created", "--"),
        (floor_first, "latency_ms", "floor", ":"),
        (peer_first, "latency_ms", "temporal saga e2e", "-."),
    )
    for steps, field, name, style in series:
        for q, colour in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
            points = [(s["offered_per_s"], s[field][q]) for s in steps if s[field][q] is not None]
            if points:
                ax2.plot(
                    *zip(*points, strict=True), linestyle=style, color=colour, marker=".",
                    label=f"{name} {q}",
                )  # fmt: skip
    ax2.set_yscale("log")
    ax2.set_xlabel("offered load (arrivals/s)")
    ax2.set_ylabel("latency (ms, log)")
    ax2.set_title("Latency percentiles (run 1)")
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, which="both")

    names = sorted({n for s in first for n, _ in top_processes(s, 7)})
    bottoms = [0.0] * len(first)
    labels = [f"{s['offered_per_s']:g}" for s in first]
    for name in names:
        values = [s.get("processes", {}).get(name, {}).get("cpu_pct", 0.0) for s in first]
        ax3.bar(labels, values, bottom=bottoms, label=name)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    other = [max(0.0, s.get("other_cpu_pct") or 0.0) for s in first]
    ax3.bar(labels, other, bottom=bottoms, label="other (not fleet)", color="lightgrey")
    ax3.set_xlabel("fleet offered load (orders/s)")
    ax3.set_ylabel("CPU % of one core")
    ax3.set_title("CPU by process (fleet steps, run 1)")
    ax3.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_all(summary: dict[str, Any], out_dir: Path, stamp: str) -> dict[str, str]:
    """Writes bench-<stamp>.{json,csv,md,png} and latest.* copies; returns the file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "json": f"bench-{stamp}.json",
        "csv": f"bench-{stamp}.csv",
        "md": f"bench-{stamp}.md",
        "png": f"bench-{stamp}.png",
    }
    summary["files"] = files
    if not plot(out_dir / files["png"], summary):
        del files["png"]
    write_csv(out_dir / files["csv"], summary)
    (out_dir / files["md"]).write_text(markdown(summary, files))
    text = json.dumps(summary, indent=2)
    (out_dir / files["json"]).write_text(text)
    (out_dir / "latest.json").write_text(text)
    for kind in ("csv", "md", "png"):
        if kind in files:
            (out_dir / f"latest.{kind}").write_bytes((out_dir / files[kind]).read_bytes())
    return files
