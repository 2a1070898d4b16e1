"""The load plan: steps of fixed offered rates and the open-loop send times within a step."""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step of the ladder: `rate` arrivals per second for `duration_s` seconds."""

    rate: float
    duration_s: float

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"a step's rate must be positive, got {self.rate}")
        if self.duration_s <= 0:
            raise ValueError(f"a step's duration must be positive, got {self.duration_s}")

    @property
    def count(self) -> int:
        return max(1, round(self.rate * self.duration_s))

    def offsets(self) -> list[float]:
        """Send times relative to the step's start: evenly spaced, regardless of completions."""
        interval = 1.0 / self.rate
        return [i * interval for i in range(self.count)]


def ladder(rates: Sequence[float], duration_s: float) -> list[Step]:
    """Steps in the order given; rates must be positive and strictly increasing."""
    if not rates:
        raise ValueError("at least one rate is needed")
    for low, high in itertools.pairwise(rates):
        if high <= low:
            raise ValueError(f"rates must increase step by step, got {list(rates)}")
    return [Step(rate, duration_s) for rate in rates]


def parse_rates(text: str) -> list[float]:
    """'10 20 30' or '10,20,30' → [10.0, 20.0, 30.0]."""
    parts = text.replace(",", " ").split()
    try:
        rates = [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"rates must be numbers, got {text!r}") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise ValueError(f"rates must be positive numbers, got {text!r}")
    return rates


@dataclass(frozen=True)
class Profile:
    """Everything that shapes one bench run (QUICK and full differ only in these numbers)."""

    fleet_rates: tuple[float, ...]
    floor_rates: tuple[float, ...]
    step_s: float
    floor_step_s: float
    settle_s: float  # the first seconds of a step are not counted in its throughput
    floor_settle_s: float
    deadline_s: float  # an order not finished this long after its send time is an error
    drain_cap_s: float  # how long to let a step's orders finish before the next step
    stop_when_saturated: bool = True
    # The peer engine's saga (steps as long as the fleet's) and floor (as the floor's);
    # empty without a peer.
    peer_rates: tuple[float, ...] = ()
    peer_floor_rates: tuple[float, ...] = ()

    def fleet_steps(self) -> list[Step]:
        return ladder(self.fleet_rates, self.step_s)

    def floor_steps(self) -> list[Step]:
        return ladder(self.floor_rates, self.floor_step_s)

    def peer_steps(self) -> list[Step]:
        return ladder(self.peer_rates, self.step_s) if self.peer_rates else []

    def peer_floor_steps(self) -> list[Step]:
        return ladder(self.peer_floor_rates, self.floor_step_s) if self.peer_floor_rates else []

    def planned_orders(self) -> int:
        """Orders that take stock: the fleet's and the peer saga's."""
        return sum(step.count for step in [*self.fleet_steps(), *self.peer_steps()])


def floor_rates_for(fleet_rates: Sequence[float], extra: Sequence[float]) -> tuple[float, ...]:
    """The floor runs at the fleet's rates, then at higher ones until it saturates too."""
    top = max(fleet_rates)
    return tuple(sorted({*fleet_rates, *(rate for rate in extra if rate > top)}))
