"""The scaled profile's one PostgreSQL goes away: orders wait, none is lost, `fleet status`
says it is down, and the fleet carries on by itself once it is back."""

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from contracts.topics import ORDER_REQUESTS
from fleet.runner import state
from tests.e2e.fleet_client import api_sku, order, publish, wait_for
from tests.targets.base import Target
from tests.targets.local import LocalTarget
from tests.targets.test_deployment import _final, _net

OUTAGE_S = 20.0


@pytest.fixture
def scaled_local(target: Target) -> LocalTarget:
    if not isinstance(target, LocalTarget) or target.replicas < 2:
        pytest.skip("only the local runner's scaled profile runs its own PostgreSQL")
    return target


def _status(name: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "fleet.cli", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = {row["name"]: row["state"] for row in json.loads(result.stdout)}
    return str(rows[name])


def test_orders_wait_out_a_database_outage_and_none_is_lost(scaled_local: LocalTarget) -> None:
    sku = api_sku(stock=20)
    victim = state.alive_pid("postgres")
    assert victim is not None
    state.hold("postgres", OUTAGE_S + 60)  # down for the outage, then the keeper's again
    os.killpg(victim, signal.SIGKILL)
    placed = [order(sku=sku) for _ in range(6)]
    for payload in placed:  # Kafka takes them; the fleet cannot store anything yet
        publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
    assert _status("postgres") == "down"
    time.sleep(OUTAGE_S)  # the outage itself: how long the database stays away
    state.release("postgres")
    wait_for(
        lambda: state.alive_pid("postgres") not in (None, victim),
        timeout=120,
        what="the keeper to bring PostgreSQL back",
    )
    for payload in placed:
        order_id = str(payload["order_id"])
        assert _final(scaled_local, order_id, timeout=420)["status"] == "COMPLETED", order_id
        assert _net(scaled_local, order_id) == Decimal("12.50")
