"""daprd's workflow metrics, summed over labels and diffed between two snapshots."""

import pytest

from bench.metrics import parse, parse_heap_used_mb, runtime_figures
from bench.report import jobs_per_done

TEXT = """# HELP dapr_runtime_workflow_activity_execution_count The number of activities.
# TYPE dapr_runtime_workflow_activity_execution_count counter
dapr_runtime_workflow_activity_execution_count{activity_name="noop",status="success"} 100
dapr_runtime_workflow_activity_execution_count{activity_name="other",status="failed"} 5
dapr_runtime_workflow_activity_execution_latency_sum{activity_name="noop"} 250.5
dapr_runtime_workflow_activity_execution_latency_count{activity_name="noop"} 100
dapr_runtime_workflow_activity_execution_latency_bucket{activity_name="noop",le="1"} 3
go_gc_duration_seconds{quantile="0"} 1e-05
"""


def test_watched_series_are_summed_over_labels_and_others_ignored() -> None:
    found = parse(TEXT)
    assert found["dapr_runtime_workflow_activity_execution_count"] == 105
    assert found["dapr_runtime_workflow_activity_execution_latency_sum"] == 250.5
    assert "go_gc_duration_seconds" not in found
    assert not any(name.endswith("_bucket") for name in found)


def test_runtime_figures_are_rates_and_means_between_snapshots() -> None:
    before = parse(TEXT)
    after = dict(before)
    after["dapr_runtime_workflow_activity_execution_count"] += 200
    after["dapr_runtime_workflow_activity_execution_latency_sum"] += 600
    after["dapr_runtime_workflow_activity_execution_latency_count"] += 200
    figures = runtime_figures(before, after, 10.0)
    assert figures["activities_per_s"] == 20.0
    assert figures["activity_ms_mean"] == pytest.approx(3.0)
    assert figures["workflow_exec_ms_mean"] is None
    assert figures["scheduler_jobs_per_s"] == 0.0


def test_scheduler_jobs_are_a_rate_and_per_completion_in_the_report() -> None:
    before = parse('dapr_scheduler_jobs_created_total{type="actor"} 1000\n')
    after = parse('dapr_scheduler_jobs_created_total{type="actor"} 1330\n')
    figures = runtime_figures(before, after, 10.0)
    assert figures["scheduler_jobs_per_s"] == 33.0
    assert jobs_per_done({"runtime": figures, "throughput_per_s": 1.0}) == 33.0
    assert jobs_per_done({"runtime": {}, "throughput_per_s": 1.0}) is None


def test_no_snapshot_no_figures() -> None:
    assert runtime_figures({}, parse(TEXT), 10.0) == {}


def test_zipkins_heap_is_the_sum_of_its_heap_pools_in_mb() -> None:
    text = (
        'jvm_memory_used_bytes{area="heap",id="G1 Old Gen",} 1.048576E8\n'
        'jvm_memory_used_bytes{area="heap",id="G1 Eden Space",} 1048576.0\n'
        'jvm_memory_used_bytes{area="nonheap",id="Metaspace",} 5.0E7\n'
    )
    assert parse_heap_used_mb(text) == 101.0
    assert parse_heap_used_mb("") is None
