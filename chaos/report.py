"""The run's report: JSON for machines, markdown for people, both under chaos/results/."""

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from chaos.checker import InvariantResult, Note
from chaos.collect import Retries
from chaos.faults import FaultRecord
from chaos.load import PublishStats
from chaos.model import LoadPlan, Observation

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MAX_LISTED = 25  # offenders and evidence lines shown per invariant in the markdown


def iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class RunReport:
    run_id: str
    seed: int
    orders: int
    faults_requested: int
    recovery_timeout_s: float
    started_at: float
    finished_at: float = 0.0
    load: dict[str, Any] = field(default_factory=dict)
    skus: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    last_fault_at: float | None = None
    all_terminal_at: float | None = None
    orders_by_status: dict[str, int] = field(default_factory=dict)
    orders_by_behaviour: dict[str, dict[str, int]] = field(default_factory=dict)
    retries: dict[str, Any] = field(default_factory=dict)
    invariants: list[InvariantResult] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # When the fleet no longer worked after the run: what was restarted, and the invariants
    # of the run's orders checked again afterwards (evidence, not the verdict).
    repairs: list[dict[str, Any]] = field(default_factory=list)
    after_repair: list[InvariantResult] = field(default_factory=list)

    @property
    def recovery_time_s(self) -> float | None:
        """From the end of the last fault (or of the load, if later) to all orders terminal."""
        if self.all_terminal_at is None:
            return None
        return round(max(0.0, self.all_terminal_at - (self.last_fault_at or self.started_at)), 1)

    @property
    def passed(self) -> bool:
        # A run the suite had to repair fails, whatever the repaired fleet did afterwards:
        # a user's fleet has no one to repair it.
        return (
            not self.errors
            and not self.repairs
            and all(result.passed for result in self.invariants)
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            passed=self.passed,
            recovery_time_s=self.recovery_time_s,
            started_at=iso(self.started_at),
            finished_at=iso(self.finished_at),
            last_fault_at=iso(self.last_fault_at),
            all_terminal_at=iso(self.all_terminal_at),
            invariants=[{**asdict(r), "passed": r.passed} for r in self.invariants],
            after_repair=[{**asdict(r), "passed": r.passed} for r in self.after_repair],
        )
        return data


def describe_plan(report: RunReport, plan: LoadPlan) -> None:
    report.skus = [
        {"sku": s.sku, "price": str(s.price), "initial_stock": s.stock} for s in plan.skus
    ]
    report.load.update(
        messages=len(plan.messages),
        malformed=[{"marker": m.marker, "kind": m.kind} for m in plan.malformed],
        duplicate_of=plan.duplicate_of,
        behaviours=dict(Counter(o.behaviour.value for o in plan.orders)),
    )


def describe_load(report: RunReport, stats: PublishStats, rate: float) -> None:
    report.load.update(
        rate_per_s=round(rate, 3),
        published=stats.published,
        publish_retries=stats.retries,
        publish_started_at=iso(stats.started_at),
        publish_finished_at=iso(stats.finished_at),
    )
    report.errors += stats.errors


def describe_faults(report: RunReport, records: list[FaultRecord]) -> None:
    for record in records:
        entry = asdict(record)
        entry.update(
            at_s=round(record.started_at - report.started_at, 1),
            started_at=iso(record.started_at),
            restored_at=iso(record.restored_at),
            fleet_healthy_at=iso(record.fleet_healthy_at),
            back_after_s=(
                round(record.restored_at - record.started_at, 1) if record.restored_at else None
            ),
        )
        report.faults.append(entry)
        if record.error:
            report.errors.append(f"fault {record.label}: {record.error}")


def describe_outcomes(report: RunReport, plan: LoadPlan, observation: Observation) -> None:
    statuses = {
        order_id: (o.status if o.found else "LOST") for order_id, o in observation.orders.items()
    }
    report.orders_by_status = dict(Counter(str(s) for s in statuses.values()).most_common())
    by_behaviour: dict[str, Counter[str]] = {}
    for order in plan.orders:
        by_behaviour.setdefault(order.behaviour.value, Counter())[
            str(statuses.get(order.order_id))
        ] += 1
    report.orders_by_behaviour = {k: dict(v) for k, v in by_behaviour.items()}


def describe_retries(report: RunReport, retries: Retries) -> None:
    report.retries = {
        "source": "lines with 'Retrying' written to .fleet/run/logs/*-dapr.log during the run "
        "(the fleet is shared: anyone else's traffic in that window counts too)",
        "per_sidecar": retries.per_sidecar,
        "total": sum(retries.per_sidecar.values()),
        "top_operations": [{"operation": op, "count": n} for op, n in retries.top_operations],
    }


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def markdown(report: RunReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    recovery = (
        f"{report.recovery_time_s} s"
        if report.recovery_time_s is not None
        else f"not reached within {report.recovery_timeout_s:.0f} s"
    )
    out = [f"# Chaos run {report.run_id}: {verdict}", ""]
    if report.repairs:
        restarted = ", ".join(name for repair in report.repairs for name in repair["restarted"])
        out += [
            f"**FAILED: the fleet did not heal by itself; the suite had to restart "
            f"{restarted}.** That repair only leaves the fleet usable: it never counts as "
            "passing.",
            "",
        ]
    out += [
        f"- seed `{report.seed}`, {report.orders} orders, {len(report.faults)} faults "
        f"(requested {report.faults_requested})",
        f"- started {iso(report.started_at)}, finished {iso(report.finished_at)}",
        f"- load: {report.load.get('published')} messages published at "
        f"{report.load.get('rate_per_s')}/s ({report.load.get('publish_retries')} publish "
        f"retries); behaviours {report.load.get('behaviours')}; duplicate of "
        f"`{report.load.get('duplicate_of')}`; {len(report.load.get('malformed', []))} malformed",
        f"- recovery time (last fault → all orders terminal): **{recovery}**",
        f"- orders by status: {report.orders_by_status}",
        "",
        "## Invariants",
        "",
        "| invariant | result | offenders |",
        "|---|---|---|",
    ]
    for result in report.invariants:
        shown = ", ".join(result.offenders[:10]) + (" …" if len(result.offenders) > 10 else "")
        mark = "pass" if result.passed else "**FAIL**"
        out.append(f"| `{result.name}`: {result.description} | {mark} | {shown} |")
    for result in report.invariants:
        if not result.passed:
            out += ["", f"### {result.name}", ""]
            out += [f"- {line}" for line in result.details[:MAX_LISTED]]
            if len(result.details) > MAX_LISTED:
                out.append(f"- … {len(result.details) - MAX_LISTED} more in report.json")
    out += ["", "## Faults", "", "| at (s) | fault | pid → new pid | back after (s) | notes |"]
    out.append("|---|---|---|---|---|")
    for fault in report.faults:
        notes = "; ".join([*fault["notes"], *([fault["error"]] if fault["error"] else [])])
        out.append(
            f"| {fault['at_s']} | {fault['label']} (hold {fault['hold_s']} s) | "
            f"{fault['pid']} → {fault['new_pid']} | {fault['back_after_s']} | {notes} |"
        )
    out += ["", "## Orders by behaviour", "", "| behaviour | outcomes |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in sorted(report.orders_by_behaviour.items())]
    out += ["", "## Retries observed", ""]
    out.append(
        f"{report.retries.get('total')} sidecar retries: {report.retries.get('per_sidecar')}"
    )
    out += [
        f"- {op['count']} x {op['operation']}" for op in report.retries.get("top_operations", [])
    ]
    out += ["", "## Observations (not invariants)", ""]
    for note in report.notes:
        out.append(f"- **{note.name}** ({note.description}): {len(note.items)}")
        out += [f"  - {item}" for item in note.items[:MAX_LISTED]]
    if report.repairs:
        out += ["", "## Repairs (the fleet did not work after the run)", ""]
        out += [f"- {r['at']}: restarted {r['restarted']} because {r['why']}; doctor "
                f"afterwards: {r.get('doctor_after')}" for r in report.repairs]  # fmt: skip
        out += [f"- after the repair: `{r.name}` {'pass' if r.passed else 'FAIL'}"
                for r in report.after_repair]  # fmt: skip
    if report.errors:
        out += ["", "## Errors of the run itself", ""] + [f"- {e}" for e in report.errors]
    out += ["", "## SKUs", ""] + [
        f"- `{s['sku']}` price {s['price']}, initial stock {s['initial_stock']}"
        for s in report.skus
    ]
    return "\n".join(out) + "\n"


def save(report: RunReport, root: Path = RESULTS_DIR) -> Path:
    """Writes report.json and report.md into a new folder named by the run's start time."""
    stamp = datetime.fromtimestamp(report.started_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = root / stamp
    if folder.exists():
        folder = root / f"{stamp}-{report.run_id}"
    folder.mkdir(parents=True)
    text = json.dumps(report.to_json(), indent=2, default=_default)
    (folder / "report.json").write_text(text + "\n")
    (folder / "report.md").write_text(markdown(report))
    return folder
