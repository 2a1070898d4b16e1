"""A short chaos run on two replicas of every app: single replicas killed, PostgreSQL
killed and a rolling restart of every app while orders flow; every invariant holds.

`make chaos SCALE=2` is the full run; CHAOS_ORDERS, CHAOS_FAULTS and CHAOS_SEED size this
one. It runs on the scaled fleet the `scaled` tier's target fixture started.
"""

import os
import random

import pytest

from chaos.run import Options, run
from tests.targets.base import Target
from tests.targets.local import LocalTarget


@pytest.mark.timeout(1800)
def test_a_scaled_fleet_keeps_every_invariant_through_replica_kills_a_database_kill_and_a_roll(
    target: Target,
) -> None:
    if not isinstance(target, LocalTarget) or target.replicas < 2:
        pytest.skip("the chaos suite drives the local runner's scaled fleet")
    chosen = os.environ.get("CHAOS_SEED", "7")
    seed = random.SystemRandom().randrange(10**9) if chosen == "random" else int(chosen)
    options = Options(
        orders=int(os.environ.get("CHAOS_ORDERS", "60")),
        faults=int(os.environ.get("CHAOS_FAULTS", "4")),
        seed=seed,
        replicas=target.replicas,
    )
    result = run(options, specs=target.specs)
    labels = [fault["label"] for fault in result.faults]
    assert "kill postgres" in labels and "restart apps" in labels
    failures = [
        f"{r.name}: {r.description}\n  " + "\n  ".join(r.details[:20])
        for r in result.invariants
        if not r.passed
    ]
    assert not result.errors and not failures and not result.repairs, (
        f"chaos run {result.run_id} (seed {seed}, scale {target.replicas}) broke invariants:\n"
        + "\n".join(result.errors + failures)
    )
