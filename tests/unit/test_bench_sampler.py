"""Reading /proc: CPU ticks, RSS, thread counts, and who was disturbed."""

from bench.sampler import (
    CLOCK_TICKS,
    Sample,
    disturbances,
    figures,
    parent_pid,
    parse_host_stat,
    parse_stat,
    parse_status,
    read_host,
    read_process,
)

STAT = (
    "4242 (python -m (odd) name) S 1 4242 4242 0 -1 4194560 9000 0 3 0 "
    "150 25 0 0 20 0 23 0 123456 987654321 27000 18446744073709551615"
)
STATUS = "Name:\tpython\nState:\tS (sleeping)\nVmRSS:\t  110880 kB\nThreads:\t23\n"


def test_stat_fields_are_read_after_the_last_parenthesis() -> None:
    assert parse_stat(STAT) == ("S", 150, 25)


def test_the_parent_is_read_after_the_last_parenthesis() -> None:
    # A forking server's backends are found by their parent: PostgreSQL's call setsid().
    assert parent_pid(STAT) == 1


def test_status_gives_rss_and_threads() -> None:
    assert parse_status(STATUS) == (110880, 23)
    assert parse_status("Name:\tkthreadd\n") == (0, 0)


def test_host_stat_counts_idle_and_iowait_as_not_busy() -> None:
    busy, total = parse_host_stat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n")
    assert (busy, total) == (150, 1000)


def test_this_process_can_be_read_from_proc() -> None:
    import os

    sample = read_process("me", os.getpid(), 1.0)
    assert sample is not None
    assert sample.rss_kib > 0 and sample.threads >= 1
    assert read_host(1.0).total_ticks > 0


def test_a_gone_process_reads_as_none() -> None:
    assert read_process("ghost", 2**22 + 12345, 1.0) is None


def _sample(t: float, ticks: int, rss_mib: float, pid: int = 1, state: str = "S") -> Sample:
    return Sample(t, "app", pid, ticks, int(rss_mib * 1024), 5, state)


def test_cpu_percent_is_of_one_core_over_the_span_of_the_samples() -> None:
    samples = [_sample(0.0, 0, 100), _sample(10.0, 5 * CLOCK_TICKS, 120)]
    found = figures(samples)
    assert found is not None
    assert found.cpu_pct == 50.0
    assert found.rss_mb_max == 120.0 and found.rss_mb_mean == 110.0 and found.rss_mb_last == 120.0


def test_one_sample_gives_no_figures() -> None:
    assert figures([_sample(0.0, 0, 100)]) is None


def test_restarts_stops_and_deaths_are_reported_by_name() -> None:
    samples = [
        _sample(0.0, 0, 10, pid=1),
        _sample(1.0, 0, 10, pid=2),  # a new pid: restarted
        Sample(0.0, "paused", 7, 0, 1, 1, "T"),
        Sample(10.0, "paused", 7, 0, 1, 1, "S"),
        Sample(0.0, "gone", 9, 0, 1, 1, "S"),
        Sample(10.0, "steady", 8, 0, 1, 1, "S"),
    ]
    assert disturbances(samples) == {
        "restarted": ["app"],
        "stopped": ["paused"],
        "missing": ["app", "gone"],
    }
