"""Pure statistics: percentiles, rates in a window, least-squares slopes."""

import math
from collections.abc import Iterable, Sequence

PERCENTILES: tuple[int, ...] = (50, 95, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    Matches numpy's default ('linear') method; None for no values.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99, mean and max in milliseconds (None when nothing completed)."""
    summary: dict[str, float | None] = {}
    for q in PERCENTILES:
        value = percentile(seconds, q)
        summary[f"p{q}"] = None if value is None else round(value * 1000, 1)
    summary["mean"] = round(sum(seconds) / len(seconds) * 1000, 1) if seconds else None
    summary["max"] = round(max(seconds) * 1000, 1) if seconds else None
    return summary


def rate_in_window(times: Iterable[float], start: float, end: float) -> float:
    """Events per second whose time falls in [start, end)."""
    if end <= start:
        return 0.0
    return sum(1 for t in times if start <= t < end) / (end - start)


def completion_rate(done_times: Sequence[float], offered: float, trim: float = 0.1) -> float:
    """How fast a step's own arrivals were completed, from their completion times alone.

    The rate between the `trim` and `1 - trim` quantiles of the completion times: a
    constant latency shifts every completion alike and drops out; jitter in the latency
    moves mostly the first and last few, which are trimmed. When the system keeps up this
    is the offered rate; when it cannot, completions spread out at its capacity. With
    fewer than 5 completions: n / (span + 1/offered).
    """
    times = sorted(done_times)
    n = len(times)
    if n == 0:
        return 0.0
    if n < 5:
        return n / (times[-1] - times[0] + 1.0 / offered)
    low = math.floor(trim * n)
    high = max(low + 1, math.ceil((1 - trim) * n) - 1)
    span = times[high] - times[low]
    if span <= 0:
        return n / (times[-1] - times[0] + 1.0 / offered)
    return (high - low) / span


def latency_trend(latencies_in_send_order: Sequence[float], share: float = 0.2) -> float | None:
    """Median latency of the last `share` of a step's arrivals minus that of the first:
    near 0 when the system keeps up, growing with the queue when it does not."""
    n = len(latencies_in_send_order)
    k = max(1, int(n * share))
    if n < 2 * k or n < 4:
        return None
    first = percentile(latencies_in_send_order[:k], 50)
    last = percentile(latencies_in_send_order[-k:], 50)
    return None if first is None or last is None else last - first


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x; None with fewer than two distinct x values."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y per minute, for samples taken at x seconds."""
    per_second = slope(points)
    return None if per_second is None else per_second * 60


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)
