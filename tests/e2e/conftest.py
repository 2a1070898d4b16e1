"""The real fleet, started once per test session by the same runner as `make run`."""

from collections.abc import Iterator

import pytest

from contracts.topics import ORDER_APPROVALS, ORDER_EVENTS, ORDER_REQUESTS, dead_letter
from fleet.lifecycle import choose_profile
from fleet.provision.pieces import MissingPiece
from fleet.runner import supervisor
from fleet.runner.specs import ProcessSpec
from fleet.stack import require_provisioned
from fleet.stack import specs as fleet_specs
from fleet.topology import SINGLE
from tests.e2e.fleet_client import TopicLog


@pytest.fixture(scope="session")
def fleet() -> Iterator[list[ProcessSpec]]:
    try:
        require_provisioned()  # tests never build: `make test` provisions before them
    except MissingPiece as missing:
        pytest.fail(str(missing), pytrace=False)
    choose_profile(1)  # these tests are the single profile's, whatever ran last
    specs = fleet_specs(SINGLE)
    started = supervisor.up(specs)
    yield specs
    # Leave a fleet the developer had already running as it was.
    if started:
        supervisor.down(specs)


@pytest.fixture(scope="session")
def order_events(fleet: list[ProcessSpec]) -> Iterator[TopicLog]:
    log = TopicLog(ORDER_EVENTS)
    yield log
    log.close()


@pytest.fixture(scope="session")
def dead_letters(fleet: list[ProcessSpec]) -> Iterator[TopicLog]:
    log = TopicLog(dead_letter(ORDER_REQUESTS))
    yield log
    log.close()


@pytest.fixture(scope="session")
def approval_dead_letters(fleet: list[ProcessSpec]) -> Iterator[TopicLog]:
    log = TopicLog(dead_letter(ORDER_APPROVALS))
    yield log
    log.close()
