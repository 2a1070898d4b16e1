"""One chaos run: plan, stock the SKUs, publish the load while the faults act, wait for
recovery, collect, check, report. The fleet is always left up and healthy."""

import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chaos import checker, collect, faults, load, report
from chaos.client import FleetClient
from chaos.faults import STOP_S, Fault, FaultInjector, FaultRecord
from chaos.model import LoadPlan
from fleet import topology
from fleet.runner.specs import ProcessSpec

Say = Callable[[str], None]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Options:
    orders: int
    faults: int
    seed: int
    recovery_timeout_s: float = 300.0
    rate: float | None = None  # messages per second; by default the load spans the faults
    stop_s: float = STOP_S
    fault_kinds: tuple[str, ...] = ()  # e.g. ("kill placement", "kill orchestrator"): replay
    results_dir: Path = report.RESULTS_DIR
    replicas: int = 1  # SCALE=N: N replicas of every app on one PostgreSQL


def api_urls(profile: topology.Profile) -> list[str]:
    """Every orchestrator replica's API: the client moves on when one is down."""
    return [
        f"http://{topology.LOOPBACK}:{topology.ORCHESTRATOR.instance(r).api_port}"
        for r in range(profile.replicas)
    ]


def pace(plan: LoadPlan, schedule: list[Fault]) -> float:
    """Messages per second so that the load is out by about 3/4 of the fault schedule."""
    window = 0.75 * sum(faults.expected_duration_s(f) for f in schedule)
    return len(plan.messages) / max(10.0, window)


def _print_plan(plan: LoadPlan, schedule: list[Fault], rate: float, out: Say) -> None:
    behaviours = Counter(o.behaviour.value for o in plan.orders)
    out(f"chaos run {plan.run_id}, seed {plan.seed}: {len(plan.orders)} orders {dict(behaviours)}")
    out(f"  {len(plan.malformed)} malformed inputs, duplicate publish of {plan.duplicate_of}")
    out(f"  SKUs: {', '.join(f'{s.sku} ({s.stock} @ {s.price})' for s in plan.skus)}")
    out(f"  load: {len(plan.messages)} messages at {rate:.2f}/s")
    out(f"  fault schedule (seed {plan.seed}):")
    for n, fault in enumerate(schedule, start=1):
        out(f"    {n:2}. after {fault.gap_s:4.1f}s  {fault.label} (hold {fault.hold_s}s)")


def _apply_faults(
    schedule: list[Fault], injector: FaultInjector, publisher: load.Publisher, t0: float, out: Say
) -> list[FaultRecord]:
    records = []
    for n, fault in enumerate(schedule, start=1):
        gap = fault.gap_s
        if n == len(schedule) and publisher.is_alive():
            # The last fault comes once every order is out, while the last ones still run.
            out("  … the last fault waits for the load to be fully published")
            publisher.join()
            gap = min(gap, 1.0)
        time.sleep(gap)
        out(f"  [{time.time() - t0:6.1f}s] fault {n}/{len(schedule)}: {fault.label}")
        record = injector.apply(fault)
        records.append(record)
        back = f"{record.restored_at - record.started_at:.1f}s" if record.restored_at else "never"
        out(
            f"  [{time.time() - t0:6.1f}s]   pid {record.pid} → {record.new_pid}, back after {back}"
            + (f", ERROR {record.error}" if record.error else "")
            + "".join(f"; {note}" for note in record.notes)
        )
    return records


# What a stalled orchestrator needs (seen in chaos runs): its sidecar and the app, afresh.
REPAIR = ["orchestrator-dapr", "orchestrator"]


def _check_works_after_faults(
    result: report.RunReport,
    plan: LoadPlan,
    client: FleetClient,
    injector: FaultInjector,
    options: Options,
    out: Say,
) -> None:
    """The doctor after the run; if the fleet no longer works, repair it (so others can use
    it), and check the run's orders again once repaired."""
    out("running the fleet doctor …")
    failure = client.doctor()
    result.invariants.append(
        checker.InvariantResult(
            "fleet_works_after_faults",
            "after the faults every hop works again (POST /diagnostics/doctor)",
            ("fleet",) if failure else (),
            (f"fleet: {failure}",) if failure else (),
        )
    )
    if failure is None:
        return
    out(f"  ! the fleet does not work after the run ({failure}); restarting {REPAIR}")
    injector.restart(REPAIR)
    result.repairs.append({"at": report.iso(time.time()), "restarted": REPAIR, "why": failure})
    still = client.doctor()
    result.repairs[-1]["doctor_after"] = still or "ok"
    if still is not None:
        out(f"  ! still not working after the repair: {still}")
        return
    statuses, _ = collect.wait_terminal(plan, client, options.recovery_timeout_s, out)
    after = checker.check(plan, collect.observe(plan, client, statuses, out))
    result.after_repair = after
    out(
        "  after the repair: "
        + ", ".join(f"{r.name} {'pass' if r.passed else 'FAIL'}" for r in after)
    )


def run(
    options: Options, specs: list[ProcessSpec] | None = None, out: Say = say
) -> report.RunReport:
    profile = topology.Profile(replicas=options.replicas)
    if specs is None:  # `make chaos`: like `make up`, it provisions what is missing
        from fleet import lifecycle, stack

        lifecycle.choose_profile(options.replicas)
        stack.provision_for_run()
        specs = stack.specs(profile)
    faults.ensure_healthy_fleet(specs)
    plan = load.build_plan(options.orders, options.seed, uuid.uuid4().hex[:8])
    wanted = [faults.parse_kind(label, profile) for label in options.fault_kinds]
    schedule = faults.schedule(
        options.faults, options.seed, stop_s=options.stop_s, kinds_wanted=wanted, profile=profile
    )
    rate = options.rate or pace(plan, schedule)
    _print_plan(plan, schedule, rate, out)
    client = FleetClient(api_urls(profile))
    preflight = client.doctor()
    if preflight is not None:
        client.close()
        raise RuntimeError(f"the fleet does not work before any fault: {preflight}")

    started = time.time()
    result = report.RunReport(
        plan.run_id,
        options.seed,
        options.orders,
        len(schedule),
        options.recovery_timeout_s,
        started_at=started,
    )
    report.describe_plan(result, plan)
    marks = collect.log_marks()
    injector = FaultInjector(specs, say=out)
    publisher = load.Publisher(plan, rate, say=out)
    records: list[FaultRecord] = []
    try:
        for sku in plan.skus:
            client.upsert_item(sku.sku, sku.name, str(sku.price), sku.stock)
        publisher.start()
        records = _apply_faults(schedule, injector, publisher, started, out)
        publisher.join()
    finally:
        publisher.halt()
        if publisher.is_alive():
            publisher.join(timeout=30)
        out("restoring the fleet (resume, restart, up) …")
        unhealthy = injector.restore()
        if unhealthy:
            result.errors.append(f"the fleet was not healthy after the faults: {unhealthy}")
    report.describe_load(result, publisher.stats, rate)
    report.describe_faults(result, records)
    ends = [r.restored_at for r in records if r.restored_at] + [publisher.stats.finished_at or 0]
    result.last_fault_at = max(ends)

    try:
        out(f"waiting up to {options.recovery_timeout_s:.0f}s for every order to end …")
        statuses, result.all_terminal_at = collect.wait_terminal(
            plan, client, options.recovery_timeout_s, out
        )
        out(f"recovery time: {result.recovery_time_s}s; collecting the fleet's state …")
        observation = collect.observe(plan, client, statuses, out)
        report.describe_retries(result, collect.retries_since(marks))
        result.invariants = checker.check(plan, observation)
        result.notes = checker.notes(plan, observation)
        report.describe_outcomes(result, plan, observation)
        _check_works_after_faults(result, plan, client, injector, options, out)
    finally:
        client.close()
    result.finished_at = time.time()
    folder = report.save(result, options.results_dir)
    out(report.markdown(result))
    out(f"report: {folder}/report.md and report.json")
    return result
