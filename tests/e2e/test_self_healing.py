"""The fleet heals itself: no test or suite restarts anything here, only the fleet's own
keeper and the orchestrator's worker watchdog do."""

import os
import signal

from contracts.topics import ORDER_REQUESTS
from fleet.runner import state
from fleet.runner.specs import ProcessSpec
from tests.e2e.fleet_client import TopicLog, ledger, money, new_sku, order, publish, wait_for

BURSTS = 5
ORDERS_PER_BURST = 6


def _orchestrator_healthy(fleet: list[ProcessSpec], not_pid: int) -> bool:
    [spec] = [s for s in fleet if s.name == "orchestrator"]
    pid = state.alive_pid("orchestrator")
    return pid is not None and pid != not_pid and spec.health()


def _wait_back(fleet: list[ProcessSpec], victim: int) -> None:
    wait_for(
        lambda: _orchestrator_healthy(fleet, victim),
        timeout=180,
        what="the orchestrator to come back by itself",
    )


def test_orders_complete_when_the_orchestrator_is_killed_five_times_in_a_row(
    fleet: list[ProcessSpec], order_events: TopicLog
) -> None:
    # Chaos seeds 450456881 and 777123: after an orchestrator kill the sidecar's worker
    # count broke and every workflow stalled until the suite restarted it by hand.
    sku = new_sku(stock=BURSTS * ORDERS_PER_BURST)
    placed: list[dict[str, object]] = []
    for _ in range(BURSTS):
        burst = [order(sku=sku) for _ in range(ORDERS_PER_BURST)]
        for payload in burst:
            publish(ORDER_REQUESTS, payload, key=str(payload["order_id"]))
        placed += burst
        victim = state.alive_pid("orchestrator")
        assert victim is not None
        os.killpg(victim, signal.SIGKILL)  # mid-burst; the keeper restarts it, nobody else
        _wait_back(fleet, victim)

    def terminal_kinds() -> dict[str, str] | None:
        kinds = {}
        for payload in placed:
            ends = [
                str(e["type"]).split(".")[-2]
                for e in order_events.for_subject(str(payload["order_id"]))
                if str(e["type"]).split(".")[-2] in {"completed", "compensated", "rejected"}
            ]
            if not ends:
                return None
            kinds[str(payload["order_id"])] = ends[0]
        return kinds

    outcomes = wait_for(terminal_kinds, timeout=420, what="every order to end")
    assert set(outcomes.values()) == {"completed"}, outcomes
    for payload in placed:
        assert money(ledger(str(payload["order_id"]))["net"]) == money("12.50")
