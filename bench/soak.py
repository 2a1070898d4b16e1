"""The soak: one fixed rate for a long time; does any process's memory keep growing?"""

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.loadgen import KafkaOrderSender, run_open_loop
from bench.progress import Progress
from bench.runner import Extra, Ladder, preflight, sampler_targets
from bench.sampler import ProcessSampler, Sample, figures
from bench.schedule import Step
from bench.stats import latency_summary, slope_per_minute
from bench.tracker import DONE, Entry, KafkaTracker, Ledger
from fleet import topology


def memory_slopes(
    by_name: dict[str, list[Sample]], warmup_s: float
) -> dict[str, dict[str, float | None]]:
    """Per process: least-squares RSS slope in MB/min over the samples after the warm-up."""
    result: dict[str, dict[str, float | None]] = {}
    for name, series in sorted(by_name.items()):
        if not series:
            continue
        origin = series[0].t
        steady = [s for s in series if s.t - origin >= warmup_s] or series
        points = [(s.t - origin, s.rss_kib / 1024) for s in steady]
        slope = slope_per_minute(points)
        f = figures(series)
        result[name] = {
            "rss_mb_start": round(series[0].rss_kib / 1024, 1),
            "rss_mb_end": round(series[-1].rss_kib / 1024, 1),
            "rss_mb_max": f.rss_mb_max if f else None,
            "slope_mb_per_min": None if slope is None else round(slope, 3),
            "cpu_pct": f.cpu_pct if f else None,
            "samples": len(steady),
        }
    return result


def per_minute(entries: Sequence[Entry], started: float, deadline_s: float) -> list[dict[str, Any]]:
    """Orders by the minute they were sent in: completed, errors, latency percentiles."""
    buckets: dict[int, list[Entry]] = {}
    for entry in entries:
        buckets.setdefault(int((entry.scheduled - started) // 60), []).append(entry)
    rows = []
    for minute in sorted(buckets):
        chosen = buckets[minute]
        ok = [lat for e in chosen if (lat := e.latency(DONE)) is not None and lat <= deadline_s]
        rows.append(
            {
                "minute": minute + 1,
                "sent": len(chosen),
                "completed": len(ok),
                "errors": len(chosen) - len(ok),
                "latency_ms": latency_summary(ok),
            }
        )
    return rows


def run_soak(
    *, rate: float, minutes: float, warmup_s: float, deadline_s: float, sku: str,
    run_id: str, progress: Progress,
) -> dict[str, Any]:  # fmt: skip
    extra = Extra()
    sampler = ProcessSampler(sampler_targets(extra)).start()
    ledger = Ledger()
    prefix = f"soak-{run_id}"
    tracker = KafkaTracker(ledger, prefix).start()
    sender = KafkaOrderSender(ledger, sku)
    sender.warm_up()
    ladder = Ladder(
        "fleet", ledger, sender.fire, topology.ORCHESTRATOR.dapr_metrics_port, 0, prefix
    )
    step = Step(rate, minutes * 60)
    try:
        preflight(ladder, 2, 60, progress, "fleet")
        keys = [f"{prefix}-{n:06d}" for n in range(step.count)]

        def fire(key: str, scheduled: float) -> None:
            ledger.register(key, 0, scheduled)
            sender.fire(key, scheduled)

        def tick(sent: int) -> None:
            left = ledger.unresolved(0)
            progress.update(
                f"soak {rate:g}/s", sent / step.count, f"sent {sent}/{step.count}, {left} running"
            )

        stats = run_open_loop(step, keys, fire, on_tick=tick)
        until = time.monotonic() + deadline_s
        while ledger.unresolved(0) and time.monotonic() < until:
            progress.update("soak finishing", 1.0, f"{ledger.unresolved(0)} still running")
            time.sleep(0.5)
    finally:
        sender.close()
        tracker.stop()
        sampler.stop()
    by_name, _ = sampler.between(stats.started, stats.ended)
    disturbed = sampler.disturbances(stats.started, stats.ended)
    entries = ledger.entries(0)
    ok = [lat for e in entries if (lat := e.latency(DONE)) is not None and lat <= deadline_s]
    return {
        "rate_per_s": rate,
        "minutes": minutes,
        "warmup_s": warmup_s,
        "sent": len(entries),
        "completed": len(ok),
        "errors": len(entries) - len(ok),
        "max_send_lag_ms": round(stats.max_lag_s * 1000, 1),
        "latency_ms": latency_summary(ok),
        # A restarted process's slope covers only its new pid's samples.
        "disturbed": {kind: names for kind, names in disturbed.items() if names},
        "memory": memory_slopes(by_name, warmup_s),
        "per_minute": per_minute(entries, stats.started, deadline_s),
        "rss_series": {
            name: [[round(s.t - stats.started, 1), round(s.rss_kib / 1024, 2)] for s in series]
            for name, series in by_name.items()
        },
    }


def soak_markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Soak",
        "",
        f"{result['rate_per_s']:g} orders/s for {result['minutes']:g} min: {result['sent']} sent, "
        f"{result['completed']} completed, {result['errors']} errors; end-to-end p50 "
        f"{result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms.",
        "",
        f"Memory slope = least squares over RSS samples (1/s) after a {result['warmup_s']:g} s "
        "warm-up.",
        "",
        *(
            [f"**Disturbed** by other work (restarted/stopped/missing): {result['disturbed']}", ""]
            if result.get("disturbed")
            else []
        ),
        "| process | RSS start MB | RSS end MB | slope MB/min | CPU % |",
        "|---|---|---|---|---|",
    ]
    ranked = sorted(
        result["memory"].items(), key=lambda item: -(item[1]["slope_mb_per_min"] or 0.0)
    )
    for name, m in ranked:
        lines.append(
            f"| {name} | {m['rss_mb_start']} | {m['rss_mb_end']} | {m['slope_mb_per_min']} "
            f"| {m['cpu_pct']} |"
        )
    lines += [
        "",
        "| minute | sent | completed | errors | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["per_minute"]:
        lines.append(
            f"| {row['minute']} | {row['sent']} | {row['completed']} | {row['errors']} "
            f"| {row['latency_ms']['p50']} | {row['latency_ms']['p99']} |"
        )
    return "\n".join(lines) + "\n"


def soak_plot(path: Path, result: dict[str, Any]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(12, 5.5))
    palette = plt.get_cmap("tab20")
    for i, (name, series) in enumerate(sorted(result["rss_series"].items())):
        if series:
            ax.plot(
                [p[0] / 60 for p in series],
                [p[1] for p in series],
                label=name,
                color=palette(i % 20),
            )
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MB)")
    ax.set_yscale("log")
    ax.set_title(f"RSS per process, soak at {result['rate_per_s']:g} orders/s")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_soak(result: dict[str, Any], out_dir: Path, stamp: str) -> dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"json": f"soak-{stamp}.json", "md": f"soak-{stamp}.md", "png": f"soak-{stamp}.png"}
    if not soak_plot(out_dir / files["png"], result):
        del files["png"]
    result["files"] = files
    (out_dir / files["md"]).write_text(soak_markdown(result))
    text = json.dumps(result, indent=2)
    (out_dir / files["json"]).write_text(text)
    (out_dir / "latest-soak.json").write_text(text)
    return files
