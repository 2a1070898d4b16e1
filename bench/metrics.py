"""The sidecar's own workflow metrics (Prometheus text), summed over labels and diffed.

daprd reports activity and workflow latencies in milliseconds; a difference of two
snapshots gives the activities executed, their mean latency and the workflows run in
between, for the fleet's orchestrator and for the floor's sidecar alike.
"""

import httpx

WATCHED = (
    "dapr_runtime_workflow_activity_execution_count",
    "dapr_runtime_workflow_activity_execution_latency_sum",
    "dapr_runtime_workflow_activity_execution_latency_count",
    "dapr_runtime_workflow_execution_count",
    "dapr_runtime_workflow_execution_latency_sum",
    "dapr_runtime_workflow_execution_latency_count",
    "dapr_runtime_workflow_scheduling_latency_sum",
    "dapr_runtime_workflow_scheduling_latency_count",
    # The scheduler's: every activity, timer, child workflow and retention period is a job.
    "dapr_scheduler_jobs_created_total",
)

Snapshot = dict[str, float]


def parse(text: str, names: tuple[str, ...] = WATCHED) -> Snapshot:
    """Sums each named series over all its label sets; a name never seen is absent."""
    totals: Snapshot = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name not in names:
            continue
        try:
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        totals[name] = totals.get(name, 0.0) + value
    return totals


def scrape(*ports: int, timeout_s: float = 3.0) -> Snapshot:
    """The watched metrics of the processes whose metrics endpoints are on `ports`, merged
    ({} if any is down: a partial snapshot would make differences meaningless)."""
    totals: Snapshot = {}
    for port in ports:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s)
            response.raise_for_status()
        except httpx.HTTPError:
            return {}
        for name, value in parse(response.text).items():
            totals[name] = totals.get(name, 0.0) + value
    return totals


def _mean(before: Snapshot, after: Snapshot, stem: str) -> float | None:
    count = after.get(f"{stem}_count", 0.0) - before.get(f"{stem}_count", 0.0)
    total = after.get(f"{stem}_sum", 0.0) - before.get(f"{stem}_sum", 0.0)
    return round(total / count, 2) if count > 0 else None


def runtime_figures(before: Snapshot, after: Snapshot, seconds: float) -> dict[str, float | None]:
    """What the sidecar did between two snapshots taken `seconds` apart."""
    if not before or not after or seconds <= 0:
        return {}
    activities = after.get("dapr_runtime_workflow_activity_execution_count", 0.0) - before.get(
        "dapr_runtime_workflow_activity_execution_count", 0.0
    )
    jobs = after.get("dapr_scheduler_jobs_created_total", 0.0) - before.get(
        "dapr_scheduler_jobs_created_total", 0.0
    )
    return {
        "activities_per_s": round(activities / seconds, 1),
        "scheduler_jobs_per_s": round(jobs / seconds, 1),
        "activity_ms_mean": _mean(
            before, after, "dapr_runtime_workflow_activity_execution_latency"
        ),
        "workflow_exec_ms_mean": _mean(before, after, "dapr_runtime_workflow_execution_latency"),
        "workflow_sched_ms_mean": _mean(before, after, "dapr_runtime_workflow_scheduling_latency"),
    }


ZIPKIN_SPANS_COUNTER = "counter.zipkin_collector.spans.http"


def zipkin_spans(base_url: str, timeout_s: float = 3.0) -> float | None:
    """Spans Zipkin has collected since it started (None if it does not answer)."""
    try:
        response = httpx.get(f"{base_url}/metrics", timeout=timeout_s)
        response.raise_for_status()
        value = response.json().get(ZIPKIN_SPANS_COUNTER)
    except (httpx.HTTPError, ValueError):
        return None
    return float(value) if isinstance(value, int | float) else None


def parse_heap_used_mb(text: str) -> float | None:
    """JVM heap in use, from Prometheus text (`jvm_memory_used_bytes{area="heap",...}`)."""
    total = 0.0
    found = False
    for line in text.splitlines():
        if line.startswith("jvm_memory_used_bytes{") and 'area="heap"' in line:
            try:
                total += float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
            found = True
    return round(total / 1024 / 1024, 1) if found else None


def zipkin_heap_used_mb(base_url: str, timeout_s: float = 3.0) -> float | None:
    """Zipkin keeps every span in its heap (STORAGE_TYPE=mem): how full is it?"""
    try:
        response = httpx.get(f"{base_url}/prometheus", timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return parse_heap_used_mb(response.text)
