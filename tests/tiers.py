"""`make test`: provisioning, then each test tier in order, each one timed.

Provisioning runs first and on its own, outside pytest and any test timeout. The summary
at the end gives every stage's time and its share of the total; `.ci/run` adds its
installs to it (FLEET_CI_INSTALL_S). `TIERS=unit,local make test` runs some tiers only.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fleet.console import say, table
from fleet.paths import run_dir
from fleet.provision.progress import format_elapsed

PYTHON = sys.executable
PYTEST = str(Path(sys.executable).with_name("pytest"))


@dataclass(frozen=True)
class Tier:
    name: str
    argv: tuple[str, ...]
    what: str
    env: dict[str, str] = field(default_factory=dict)


TIERS: tuple[Tier, ...] = (
    Tier(
        "provision",
        (PYTHON, "-m", "fleet.cli", "provision", "--for", "test"),
        "build or download every piece the tests need",
    ),
    Tier("deploy-checks", (PYTHON, "-m", "deploy.validate"), "compose, dapr.yaml, deploy/k8s"),
    Tier("unit", (PYTEST, "tests/unit", "-q"), "no processes"),
    Tier(
        "local",
        (PYTEST, "tests/integration", "tests/e2e", "tests/targets", "-q"),
        "the real fleet on this machine, one replica of each app",
    ),
    Tier(
        "scaled",
        (PYTEST, "tests/targets", "-q"),
        "two replicas of every app on one PostgreSQL (make up SCALE=2), a short chaos run",
        env={"FLEET_TARGET": "scaled"},
    ),
    Tier(
        "upgrade",
        (PYTHON, "-m", "upgrade", "--scale", "2"),
        "orders at every wait point on the previous workflow code, a rolling upgrade"
        " of the orchestrator replicas (make upgrade-drill SCALE=2)",
    ),
    Tier(
        "compose",
        (PYTEST, "tests/targets", "-q"),
        "the same suite against docker-compose.yml on a real engine (make compose-test)",
        env={"FLEET_TARGET": "compose"},
    ),
    Tier(
        "k8s",
        (PYTEST, "tests/targets", "-q"),
        "the same suite against deploy/k8s on a Kubernetes node built here, replicas: 2,"
        " pod deletion and rollout restarts (make k8s-test)",
        env={"FLEET_TARGET": "k8s"},
    ),
)


def selected(names: str | None) -> list[Tier]:
    if not names:
        return list(TIERS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = sorted(set(wanted) - {t.name for t in TIERS})
    if unknown:
        raise SystemExit(f"unknown tiers {unknown}; the tiers are {[t.name for t in TIERS]}")
    return [t for t in TIERS if t.name in wanted]


def summary(times: list[tuple[str, float, str]]) -> str:
    total = sum(seconds for _, seconds, _ in times) or 1.0
    rows = [
        [name, format_elapsed(seconds), f"{100 * seconds / total:.0f}%", outcome]
        for name, seconds, outcome in times
    ]
    rows.append(["total", format_elapsed(total), "100%", ""])
    return table(["STAGE", "TIME", "SHARE", "OUTCOME"], rows)


def main() -> int:
    times: list[tuple[str, float, str]] = []
    installs = os.environ.get("FLEET_CI_INSTALL_S")
    if installs:
        times.append(("installs (.ci/run)", float(installs), "ok"))
    status = 0
    for tier in selected(os.environ.get("TIERS")):
        say(f"\n=== {tier.name}: {tier.what}")
        began = time.monotonic()
        code = subprocess.call(list(tier.argv), env={**os.environ, **tier.env})
        elapsed = time.monotonic() - began
        times.append((tier.name, elapsed, "ok" if code == 0 else f"FAILED (exit {code})"))
        say(f"=== {tier.name}: {'ok' if code == 0 else 'FAILED'} in {format_elapsed(elapsed)}")
        if code != 0:
            status = code
            break
    say("\n" + summary(times))
    record = run_dir() / "test-tiers.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps([{"stage": n, "seconds": round(s, 1), "outcome": o}
                                  for n, s, o in times], indent=2))  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
