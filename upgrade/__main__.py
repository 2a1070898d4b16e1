"""`make upgrade-drill [BASE=<ref>] [SCALE=N]`: the upgrade drill (see upgrade/__init__.py).

    python -m upgrade [--base REF] [--scale N]

Exit status 0 when every order completed on the path it started on, with one net charge
each (none for an order that did not complete), and the new orders took the new path.
"""

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from fleet import topology
from fleet.console import say, table
from fleet.provision.pieces import MissingPiece
from fleet.runner.supervisor import FleetError
from replay.fleet import RecorderError
from upgrade.baseline import BaselineError, default_ref, export
from upgrade.cohorts import DrillError
from upgrade.drill import Drill, Outcome
from upgrade.fleet import DrillFleetError


def report(outcomes: list[Outcome], marker: str | None) -> str:
    rows = []
    for outcome in outcomes:
        cohort = outcome.cohort
        statuses = sorted(set(outcome.statuses.values()))
        path = "-" if cohort.screened is None else ("new" if cohort.screened else "old")
        rows.append([
            cohort.wait_point, cohort.started_on, str(len(cohort.orders)),
            str(cohort.at_upgrade) if cohort.started_on == "baseline" else "-",
            "/".join(statuses), path, "FAILED" if outcome.problems else "ok",
        ])  # fmt: skip
    note = f"path: new = ran {marker}" if marker else "path: not checked (no new patch)"
    headers = ["WAIT POINT", "STARTED ON", "ORDERS", "AT UPGRADE", "ENDED", "PATH", "CHECK"]
    return f"{table(headers, rows)}\n{note}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m upgrade", description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="the commit to upgrade from (default: upgrade/BASELINE)")
    parser.add_argument("--scale", type=int, default=1, help="replicas of each app (rolling)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    began = time.monotonic()
    try:
        baseline = export(args.base or default_ref())
    except BaselineError as error:
        say(f"✗ {error}", error=True)
        return 2
    say(f"upgrade drill: from {baseline.commit[:12]} ({baseline.subject[:60]}) to this checkout")
    drill = Drill(baseline, topology.Profile(replicas=args.scale), say)
    try:
        outcomes = drill.run()
    except (DrillError, DrillFleetError, RecorderError, FleetError, MissingPiece) as error:
        say(f"✗ {error}", error=True)
        return 1
    finally:
        drill.fleet.stop()
        baseline.remove()
    say(report(outcomes, drill.marker))
    problems = [p for outcome in outcomes for p in outcome.problems]
    for problem in problems:
        say(f"  ✗ {problem}", error=True)
    away = ", ".join(f"{s:.1f}s" for s in drill.upgrade_s)
    verdict = "FAILED" if problems else "passed"
    say(f"upgrade drill {verdict} in {time.monotonic() - began:.0f}s (orchestrator away: {away})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
