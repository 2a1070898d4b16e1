"""Headline figures and the shape of latest.json, CSV and markdown."""

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.runner import Window, busy_bystanders, is_saturated, step_summary
from bench.schedule import Step
from bench.tracker import DONE, SYNC, Entry


def _step(offered: float, done: float, p99: float, errors: int = 0) -> dict[str, Any]:
    latency = {"p50": p99 / 2, "p95": p99 * 0.9, "p99": p99, "mean": p99 / 2, "max": p99}
    return {
        "workload": "fleet",
        "step": 1,
        "offered_per_s": offered,
        "duration_s": 15.0,
        "sent": int(offered * 15),
        "completed": int(done * 15),
        "errors": errors,
        "error_kinds": {"timeout": errors} if errors else {},
        "throughput_per_s": done,
        "window_rate_per_s": done,
        "latency_ms": latency,
        "sync_latency_ms": {k: v / 20 for k, v in latency.items()},
        "latency_trend_ms": 0.0,
        "max_send_lag_ms": 0.4,
        "runtime": {"activities_per_s": done * 20, "activity_ms_mean": 7.0},
        "processes": {"orchestrator": {"cpu_pct": 30.0, "rss_mb": 110.0, "threads": 21}},
        "host_cpu_pct": 120.0,
        "other_cpu_pct": 3.0,
        "disturbed": {},
    }


FLEET = [_step(1, 1.0, 4500), _step(2, 2.0, 4600), _step(3, 2.9, 5200), _step(4, 3.1, 9000, 4)]
FLOOR = [_step(1, 1.0, 250), _step(4, 4.0, 260), _step(8, 7.3, 2400), _step(12, 7.4, 4800)]


def test_peak_is_the_best_measured_rate_never_above_what_was_offered() -> None:
    assert report.peak(FLEET) == 3.1
    assert report.peak([_step(2, 2.3, 100)]) == 2.0
    assert report.peak([]) is None


def test_sustained_is_the_highest_rate_kept_up_with_without_errors_or_a_queue() -> None:
    assert report.sustained(FLEET) == 3.0
    assert report.sustained([_step(1, 0.5, 100)]) is None
    queueing = {**_step(3, 2.9, 5200), "latency_trend_ms": 900.0}
    assert report.sustained([_step(1, 1.0, 4500), queueing]) == 1.0


def test_p99_at_80pct_comes_from_the_highest_step_at_or_below_80pct_of_peak() -> None:
    figures = report.run_figures(FLEET, FLOOR)
    # peak 3.1 → 80% = 2.48 → the 2/s step
    assert figures["rate_at_80pct"] == 2
    assert figures["p99_ms_at_80pct"] == 4600
    assert figures["sync_p99_ms_at_80pct"] == 230
    assert figures["floor_peak_per_s"] == 7.4
    assert figures["fleet_to_floor_ratio"] == pytest.approx(3.1 / 7.4, abs=1e-3)
    assert figures["fleet_saturated"] and figures["floor_saturated"]


def test_a_floor_that_never_fell_behind_is_not_called_saturated() -> None:
    assert not report.run_figures(FLEET, FLOOR[:2])["floor_saturated"]


def test_a_queue_building_up_is_saturation_even_at_the_offered_rate() -> None:
    queueing = {**_step(6, 5.8, 7900), "latency_trend_ms": 930.0}
    assert report.saturated([_step(1, 1.0, 4500), queueing])


def _summary(runs: int = 1) -> dict[str, Any]:
    one = {
        "figures": report.run_figures(FLEET, FLOOR),
        "fleet": {"monitor_polls_sampled": [5, 5]},
        "floor": {"activities": 20},
        "fleet_steps": FLEET,
        "floor_steps": FLOOR,
    }
    return report.build_summary(
        [{"run": i + 1, **one} for i in range(runs)],
        {"quick": True, "settle_s": 6, "floor_settle_s": 2, "deadline_s": 30},
        {"cpus": 2, "loadavg_before": [1.0, 1.0, 1.0]},
    )


def test_latest_json_has_the_headline_figures_and_per_step_data() -> None:
    summary = _summary()
    for key in ("peak_orders_per_s", "floor_peak_per_s", "p99_ms_at_80pct"):
        assert isinstance(summary[key], float | int)
    assert summary["runs_count"] == 1
    assert len(summary["steps"]) == 4 and len(summary["floor_steps"]) == 4
    assert {s["run"] for s in summary["steps"]} == {1}
    assert all("fleet_steps" not in run for run in summary["runs"])
    json.dumps(summary)  # JSON all the way down


def test_three_runs_report_each_and_the_median() -> None:
    summary = _summary(runs=3)
    assert [r["run"] for r in summary["per_run"]] == [1, 2, 3]
    assert len(summary["steps"]) == 12
    assert summary["peak_orders_per_s"] == 3.1


def test_files_are_written_with_latest_copies(tmp_path: Path) -> None:
    summary = _summary()
    files = report.write_all(summary, tmp_path, "stamp")
    assert (tmp_path / "latest.json").exists()
    assert json.loads((tmp_path / "latest.json").read_text())["peak_orders_per_s"] == 3.1
    with (tmp_path / files["csv"]).open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert rows[0]["p99_ms"] == "4500" and rows[0]["cpu_pct:orchestrator"] == "30.0"
    text = (tmp_path / files["md"]).read_text()
    assert "peak orders/s" in text and "| 1 | 4 | 3.1 |" in text
    if "png" in files:
        assert (tmp_path / files["png"]).stat().st_size > 10_000


def _entry(key: str, sent: float, done: float | None, failure: str | None = None) -> Entry:
    milestones = {} if done is None else {DONE: done, SYNC: sent + 0.2}
    return Entry(key, 0, sent, sent, milestones, failure, None)


def test_a_step_summary_counts_timeouts_late_completions_and_failures_as_errors() -> None:
    window = Window(0, Step(2, 5), started=0.0, ended=5.0, steady_from=2.0, sent=10, max_lag_s=0)
    entries = [_entry(f"o{i}", i / 2, i / 2 + 4.0) for i in range(7)]
    entries += [
        _entry("late", 3.5, 3.5 + 45.0),
        _entry("lost", 4.0, None),
        _entry("no", 4.5, None, "compensated"),
    ]
    done = [e.milestones[DONE] for e in entries if DONE in e.milestones]
    summary = step_summary("fleet", window, entries, done, deadline_s=30)
    assert summary["sent"] == 10 and summary["completed"] == 7
    assert summary["error_kinds"] == {"compensated": 1, "late": 1, "timeout": 1}
    assert summary["latency_ms"]["p50"] == 4000.0
    assert summary["sync_latency_ms"]["p50"] == 200.0
    assert summary["throughput_per_s"] == pytest.approx(2.0)
    assert summary["latency_trend_ms"] == 0.0


def test_saturation_is_a_backlog_a_far_lower_rate_or_a_lower_rate_with_rising_latency() -> None:
    assert not is_saturated(4, 3.9, 60, 0, 0.1)
    assert is_saturated(4, 3.9, 60, 10, 0.1)  # backlog after the drain
    assert is_saturated(4, 2.0, 60, 0, 0.0)  # far below
    assert not is_saturated(4, 3.3, 60, 0, 0.2)  # a little below, latency flat: noise
    assert is_saturated(4, 3.3, 60, 0, 2.5)  # a little below, and a growing queue


def test_a_busy_fleet_process_during_the_floor_is_a_disturbance() -> None:
    cpu = {"zipkin": 169.0, "scheduler": 40.0, "floor:bench-floor": 30.0, "kafka": 2.0}
    assert busy_bystanders(cpu, "floor") == ["zipkin"]
    assert busy_bystanders(cpu, "fleet") == []


def test_the_summary_warns_when_the_fleet_was_busy_before_the_load(tmp_path: Path) -> None:
    summary = _summary()
    summary["host"]["busy_before_load"] = {"zipkin": 199.0}
    files = report.write_all(summary, tmp_path, "busy")
    assert "Busy before any load" in (tmp_path / files["md"]).read_text()
