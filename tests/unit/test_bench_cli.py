"""The bench's command line: profiles, overrides, and the default command."""

from bench import cli
from bench.schedule import Profile


def _profile(*argv: str) -> Profile:
    arguments = cli.parser().parse_args(["run", *argv])
    return cli.profile_from(arguments)


def test_quick_is_a_short_ladder_and_the_floor_climbs_past_it() -> None:
    quick = _profile("--quick")
    assert len(quick.fleet_rates) <= 3 and quick.step_s <= 15
    assert quick.floor_rates[: len(quick.fleet_rates)] == quick.fleet_rates
    assert max(quick.floor_rates) > max(quick.fleet_rates)
    assert quick.planned_orders() < _profile().planned_orders()


def test_rates_override_the_fleet_ladder_and_extend_the_floors() -> None:
    profile = _profile("--quick", "--rates", "1 2")
    assert profile.fleet_rates == (1.0, 2.0)
    assert profile.floor_rates == (1.0, 2.0, *cli.QUICK_FLOOR_EXTRA_RATES)


def test_floor_rates_step_seconds_and_no_stop_apply() -> None:
    profile = _profile("--floor-rates", "3 6", "--step-seconds", "12", "--no-stop")
    assert profile.floor_rates == (3.0, 6.0)
    assert profile.step_s == 12
    assert not profile.stop_when_saturated


def test_the_headline_marks_a_peak_that_never_saturated_as_a_lower_bound() -> None:
    figures = {
        "peak_orders_per_s": 4.4,
        "sustained_orders_per_s": 3.0,
        "floor_peak_per_s": 9.9,
        "fleet_to_floor_ratio": 0.444,
        "p99_ms_at_80pct": 4631.8,
        "sync_p99_ms_at_80pct": 261.2,
        "fleet_saturated": True,
        "floor_saturated": False,
    }
    text = cli.headline(figures)
    assert "peak 4.4 orders/s" in text and "floor ≥9.9/s" in text
    assert "p99 at 80% of peak 4631.8 ms" in text
