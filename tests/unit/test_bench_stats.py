"""The bench's statistics: percentiles, completion rates, latency trends, slopes."""

import random

import pytest

from bench.stats import (
    completion_rate,
    latency_summary,
    latency_trend,
    percentile,
    rate_in_window,
    slope,
    slope_per_minute,
)


def test_percentile_interpolates_between_closest_ranks_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_one_value_is_that_value_and_of_none_is_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_percentile_does_not_depend_on_input_order() -> None:
    values = [float(v) for v in range(100)]
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)
    assert percentile(shuffled, 95) == percentile(values, 95)


def test_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary_is_in_milliseconds_and_empty_is_all_none() -> None:
    summary = latency_summary([0.1, 0.2, 0.3])
    assert summary["p50"] == 200.0
    assert summary["max"] == 300.0
    assert summary["mean"] == 200.0
    assert set(latency_summary([]).values()) == {None}


def test_rate_in_window_counts_half_open_intervals() -> None:
    assert rate_in_window([0.0, 0.5, 1.0, 1.5, 2.0], 0.0, 2.0) == 2.0
    assert rate_in_window([1.0], 2.0, 2.0) == 0.0


def test_completion_rate_equals_the_offered_rate_whatever_the_constant_latency() -> None:
    for latency in (0.1, 5.0, 30.0):
        done = [i / 4 + latency for i in range(60)]
        assert completion_rate(done, 4.0) == pytest.approx(4.0)


def test_completion_rate_is_the_capacity_when_arrivals_outpace_it() -> None:
    # 10/s offered, completions leave one every 1/3 s: a system doing 3/s.
    done = [5 + i / 3 for i in range(100)]
    assert completion_rate(done, 10.0) == pytest.approx(3.0)


def test_completion_rate_shrugs_off_latency_jitter_on_average() -> None:
    chooser = random.Random(3)
    rates = [
        completion_rate([i / 2 + max(0.0, chooser.gauss(5, 1)) for i in range(60)], 2.0)
        for _ in range(200)
    ]
    assert sum(rates) / len(rates) == pytest.approx(2.0, rel=0.05)


def test_completion_rate_of_few_or_no_completions() -> None:
    assert completion_rate([], 5.0) == 0.0
    assert completion_rate([1.0], 2.0) == pytest.approx(2.0)


def test_latency_trend_is_flat_when_keeping_up_and_rises_with_a_queue() -> None:
    assert latency_trend([5.0] * 50) == 0.0
    growing = [5.0 + 0.1 * i for i in range(50)]
    assert latency_trend(growing) == pytest.approx(4.0)
    assert latency_trend([1.0, 2.0]) is None


def test_slope_is_the_least_squares_fit() -> None:
    points = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]
    assert slope(points) == pytest.approx(2.0)
    noisy = [(float(x), 10 + 0.5 * x + (1 if x % 2 else -1)) for x in range(100)]
    assert slope(noisy) == pytest.approx(0.5, abs=0.01)


def test_slope_per_minute_scales_a_per_second_trend() -> None:
    # 100 MB growing 1 MB every 10 s is 6 MB/min.
    points = [(t, 100 + t / 10) for t in range(0, 600, 1)]
    assert slope_per_minute([(float(t), y) for t, y in points]) == pytest.approx(6.0)


def test_slope_needs_two_distinct_x() -> None:
    assert slope([]) is None
    assert slope([(1.0, 2.0)]) is None
    assert slope([(1.0, 2.0), (1.0, 3.0)]) is None
