"""The load plan: open-loop arrival times and step ladders."""

import pytest

from bench.schedule import Profile, Step, floor_rates_for, ladder, parse_rates


def test_a_step_sends_rate_times_duration_arrivals_evenly_spaced() -> None:
    step = Step(rate=4, duration_s=10)
    offsets = step.offsets()
    assert step.count == 40
    assert len(offsets) == 40
    assert offsets[0] == 0.0
    assert offsets[1] - offsets[0] == pytest.approx(0.25)
    assert offsets[-1] < step.duration_s


def test_fractional_rates_round_to_whole_arrivals_and_never_none() -> None:
    assert Step(rate=0.5, duration_s=12).count == 6
    assert Step(rate=0.01, duration_s=1).count == 1


@pytest.mark.parametrize(("rate", "duration"), [(0, 10), (-1, 10), (5, 0)])
def test_a_step_refuses_non_positive_rate_or_duration(rate: float, duration: float) -> None:
    with pytest.raises(ValueError):
        Step(rate=rate, duration_s=duration)


def test_a_ladder_keeps_the_order_and_the_duration() -> None:
    steps = ladder([1, 2, 4], 15)
    assert [s.rate for s in steps] == [1, 2, 4]
    assert {s.duration_s for s in steps} == {15}


@pytest.mark.parametrize("rates", [[], [2, 2], [3, 1]])
def test_a_ladder_must_climb(rates: list[float]) -> None:
    with pytest.raises(ValueError):
        ladder(rates, 10)


def test_rates_parse_from_spaces_or_commas() -> None:
    assert parse_rates("10 20,30") == [10.0, 20.0, 30.0]
    assert parse_rates(" 0.5 ") == [0.5]


@pytest.mark.parametrize("text", ["", "ten", "1 -2", "0"])
def test_bad_rates_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rates(text)


def test_the_floor_climbs_past_the_fleets_rates() -> None:
    assert floor_rates_for([1, 2, 4], [3, 8, 12]) == (1, 2, 4, 8, 12)


def test_a_profile_counts_the_orders_it_plans() -> None:
    profile = Profile(
        fleet_rates=(1, 2),
        floor_rates=(1, 2, 8),
        step_s=10,
        floor_step_s=5,
        settle_s=3,
        floor_settle_s=1,
        deadline_s=30,
        drain_cap_s=10,
    )
    assert profile.planned_orders() == 30
    assert [s.rate for s in profile.floor_steps()] == [1, 2, 8]
    assert {s.duration_s for s in profile.floor_steps()} == {5}
