"""The soak's figures: memory slopes per process and orders by minute."""

import pytest

from bench.sampler import Sample
from bench.soak import memory_slopes, per_minute, soak_markdown
from bench.tracker import DONE, Entry


def _series(name: str, mb_per_min: float, seconds: int = 600) -> list[Sample]:
    return [
        Sample(float(t), name, 1, t, int((100 + mb_per_min * t / 60) * 1024), 4)
        for t in range(seconds)
    ]


def test_a_growing_process_has_a_positive_slope_and_a_flat_one_none_to_speak_of() -> None:
    slopes = memory_slopes({"leaky": _series("leaky", 2.0), "flat": _series("flat", 0.0)}, 60)
    assert slopes["leaky"]["slope_mb_per_min"] == pytest.approx(2.0, abs=0.01)
    assert slopes["flat"]["slope_mb_per_min"] == pytest.approx(0.0, abs=0.01)
    assert slopes["leaky"]["samples"] == 540  # the first minute is warm-up
    assert slopes["leaky"]["rss_mb_start"] == 100.0


def test_a_warm_up_longer_than_the_soak_uses_every_sample() -> None:
    slopes = memory_slopes({"short": _series("short", 1.0, seconds=30)}, 60)
    assert slopes["short"]["samples"] == 30


def test_orders_are_bucketed_by_the_minute_they_were_sent_in() -> None:
    entries = [
        Entry("a", 0, 10.0, 10.0, {DONE: 15.0}),
        Entry("b", 0, 70.0, 70.0, {DONE: 75.0}),
        Entry("c", 0, 80.0, 80.0, {}),
        Entry("d", 0, 90.0, 90.0, {DONE: 190.0}),  # past the 60 s deadline
    ]
    rows = per_minute(entries, 0.0, deadline_s=60)
    assert [(r["minute"], r["sent"], r["completed"], r["errors"]) for r in rows] == [
        (1, 1, 1, 0),
        (2, 3, 1, 2),
    ]
    assert rows[0]["latency_ms"]["p50"] == 5000.0


def test_the_soak_summary_ranks_the_steepest_slope_first() -> None:
    result = {
        "rate_per_s": 2.0,
        "minutes": 10.0,
        "sent": 1200,
        "completed": 1200,
        "errors": 0,
        "warmup_s": 60.0,
        "latency_ms": {"p50": 4400.0, "p99": 4900.0},
        "memory": memory_slopes({"a": _series("a", 0.1), "b": _series("b", 3.0)}, 60),
        "per_minute": [],
    }
    text = soak_markdown(result)
    assert text.index("| b |") < text.index("| a |")
