"""The real fleet, started once per test session by the same runner as `make run`."""

from collections.abc import Iterator

import pytest

from fleet.runner import supervisor
from fleet.runner.specs import ProcessSpec
from fleet.stack import specs as fleet_specs


@pytest.fixture(scope="session")
def fleet() -> Iterator[list[ProcessSpec]]:
    specs = fleet_specs()
    started = supervisor.up(specs)
    yield specs
    # Leave a fleet the developer had already running as it was.
    if started:
        supervisor.down(specs)
