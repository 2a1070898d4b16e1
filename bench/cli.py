"""`python -m bench [run|soak]`: the benchmark's entry point (make bench, make soak)."""

import argparse
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.fleet_io import create_sku, ensure_fleet, fleet_pids
from bench.loadgen import run_id
from bench.peer.info import peer_info
from bench.progress import Progress
from bench.runner import (
    Extra,
    RunContext,
    fleet_phase,
    floor_activity_count,
    floor_phase,
    sampler_targets,
)
from bench.sampler import ProcessSampler
from bench.schedule import Profile, floor_rates_for, parse_rates
from bench.soak import run_soak, write_soak

# Rates follow what this fleet does on the 2-core development host: the saga (11 activities)
# saturates near 6-8 orders/s and the floor near 12-16 workflows/s (both CPU-bound).
# `--rates` picks others.
FLEET_RATES = (1.0, 2.0, 4.0, 6.0, 8.0, 10.0)
FLOOR_EXTRA_RATES = (12.0, 16.0, 20.0, 24.0)
QUICK_RATES = (1.0, 4.0, 8.0)
QUICK_FLOOR_EXTRA_RATES = (12.0, 16.0)
# The peer's saga climbs the floor's ladder (the fleet's rates, then higher) and its floor
# past the Dapr floor's, so that each can show where it falls behind.
PEER_FLOOR_EXTRA_RATES = (32.0, 40.0)
QUICK_PEER_FLOOR_EXTRA_RATES = (24.0, 32.0)
PEERS = ("temporal",)

FULL = Profile(
    fleet_rates=FLEET_RATES,
    floor_rates=floor_rates_for(FLEET_RATES, FLOOR_EXTRA_RATES),
    step_s=30,
    floor_step_s=20,
    settle_s=8,
    floor_settle_s=3,
    deadline_s=60,
    drain_cap_s=20,
)
QUICK = Profile(
    fleet_rates=QUICK_RATES,
    floor_rates=floor_rates_for(QUICK_RATES, QUICK_FLOOR_EXTRA_RATES),
    step_s=15,
    floor_step_s=8,
    settle_s=6,
    floor_settle_s=2,
    deadline_s=30,
    drain_cap_s=12,
)


def profile_from(args: argparse.Namespace) -> Profile:
    profile = QUICK if args.quick else FULL
    if args.rates:
        rates = tuple(parse_rates(args.rates))
        extra = QUICK_FLOOR_EXTRA_RATES if args.quick else FLOOR_EXTRA_RATES
        profile = replace(profile, fleet_rates=rates, floor_rates=floor_rates_for(rates, extra))
    if args.floor_rates:
        profile = replace(profile, floor_rates=tuple(parse_rates(args.floor_rates)))
    if args.step_seconds:
        profile = replace(profile, step_s=args.step_seconds)
    if args.no_stop:
        profile = replace(profile, stop_when_saturated=False)
    if args.peer:
        extra = QUICK_PEER_FLOOR_EXTRA_RATES if args.quick else PEER_FLOOR_EXTRA_RATES
        profile = replace(
            profile,
            peer_rates=profile.floor_rates,
            peer_floor_rates=floor_rates_for(profile.floor_rates, extra),
        )
    return profile


def require_peer(peer: str | None) -> None:
    """The peer's engine must be provisioned (`make bench PEER=...` does it); never built here."""
    if peer is None:
        return
    from fleet.provision.pieces import require_pieces

    require_pieces([peer])


def shipping_step_seconds() -> str:
    """SHIPPING_STEP_SECONDS as the running shipping app sees it (its /proc environ)."""
    pid = fleet_pids().get("shipping")
    if pid is None:
        return "unknown"
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return "unknown"
    for item in environ:
        if item.startswith(b"SHIPPING_STEP_SECONDS="):
            return item.split(b"=", 1)[1].decode()
    return "2.0 (default)"


def host_info() -> dict[str, Any]:
    from fleet.versions import DAPR_RUNTIME

    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    return {
        "cpus": os.cpu_count(),
        "mem_gib": round(int(meminfo[1]) / 1024 / 1024, 1),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "dapr_runtime": DAPR_RUNTIME,
        "shipping_step_seconds": shipping_step_seconds(),
    }


class PrepareError(RuntimeError):
    """The fleet could not be brought up or the bench SKU not created."""


def prepare(progress: Progress, stock: int, replicas: int = 1) -> tuple[list[Any], str]:
    progress.update("fleet", 0.0, "checking the fleet (starting what is down)")
    try:
        return _prepare(progress, stock, replicas)
    except (RuntimeError, httpx.HTTPError) as error:
        raise PrepareError(f"the fleet is not ready for the bench: {error}") from error


def _prepare(progress: Progress, stock: int, replicas: int) -> tuple[list[Any], str]:
    specs, started = ensure_fleet(replicas)
    if started:
        progress.note(f"started {len(started)} fleet processes: {', '.join(started)}")
    else:
        progress.note("reusing the running fleet")
    sku = create_sku(stock)
    progress.note(f"bench SKU {sku} with stock {stock}")
    return specs, sku


IDLE_CHECK_S = 3.0
BUSY_AT_IDLE_PCT = 20.0


def idle_check(sampler: ProcessSampler, progress: Progress) -> dict[str, float]:
    """Fleet processes already busy before any load (a GC-bound Zipkin, someone's test):
    they will skew every figure, so say so up front."""
    began = time.monotonic()
    while time.monotonic() - began < IDLE_CHECK_S:
        progress.update("idle check", (time.monotonic() - began) / IDLE_CHECK_S, "CPU at rest")
        time.sleep(0.2)
    processes, host_cpu = sampler.summary(began, time.monotonic())
    busy = {name: f.cpu_pct for name, f in processes.items() if f.cpu_pct > BUSY_AT_IDLE_PCT}
    if busy:
        progress.note(
            f"  ! busy before any load: {busy} (host {host_cpu}% of one core); "
            "expect skewed figures"
        )
    return busy


def cmd_run(args: argparse.Namespace) -> int:
    profile = profile_from(args)
    try:
        require_peer(args.peer)
    except RuntimeError as error:
        raise SystemExit(f"bench: {error}") from error
    progress = Progress()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    ident = run_id()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    host = host_info()
    stock = (profile.planned_orders() + 20) * args.runs * 2
    try:
        specs, sku = prepare(progress, stock, args.scale)
    except PrepareError as error:
        progress.note(f"bench failed: {error}")
        return 1
    extra = Extra()
    sampler = ProcessSampler(sampler_targets(extra)).start()
    host["busy_before_load"] = idle_check(sampler, progress)
    ctx = RunContext(specs, profile, sku, sampler, extra, progress, ident, floor=not args.no_floor)
    runs: list[dict[str, Any]] = []
    activities = None
    began = time.monotonic()
    try:
        for run_no in range(1, args.runs + 1):
            label = f"run {run_no}/{args.runs}: " if args.runs > 1 else ""
            progress.note(f"{label}fleet ladder {list(profile.fleet_rates)} orders/s")
            fleet_steps, fleet_extra = fleet_phase(ctx, run_no)
            floor_steps: list[dict[str, Any]] = []
            floor_extra: dict[str, Any] = {}
            if ctx.floor:
                activities = floor_activity_count(fleet_extra["monitor_polls_sampled"])
                progress.note(
                    f"{label}floor ladder {list(profile.floor_rates)} workflows/s "
                    f"({activities} no-op activities each)"
                )
                floor_steps, floor_extra = floor_phase(ctx, run_no, activities)
            peer: dict[str, Any] = {}
            if args.peer:
                from bench.peer.phase import peer_phases  # the Temporal SDK, only when asked

                activities = activities or floor_activity_count(
                    fleet_extra["monitor_polls_sampled"]
                )
                progress.note(
                    f"{label}temporal saga ladder {list(profile.peer_rates)} orders/s, then "
                    f"temporal floor ladder {list(profile.peer_floor_rates)} workflows/s"
                )
                peer = peer_phases(ctx, run_no, activities)
            figures = report.run_figures(
                fleet_steps,
                floor_steps,
                peer.get("peer_steps") if peer else None,
                peer.get("peer_floor_steps"),
            )
            runs.append(
                {
                    "run": run_no,
                    "figures": figures,
                    "fleet": fleet_extra,
                    "floor": floor_extra,
                    "fleet_steps": fleet_steps,
                    "floor_steps": floor_steps,
                    **peer,
                }
            )
            for phase in ("fleet", "floor", "peer", "peer_floor"):
                disturbed = (runs[-1].get(phase) or {}).get("disturbed")
                if disturbed:
                    progress.note(f"  ! {phase} phase disturbed by other work: {disturbed}")
            if args.runs > 1:
                progress.note(f"{label}{headline(figures)}")
    except RuntimeError as error:
        disturbed = {k: v for k, v in sampler.disturbances(began, time.monotonic()).items() if v}
        progress.note(f"bench failed: {error}")
        if disturbed:
            progress.note(f"  fleet processes disturbed meanwhile (not by the bench): {disturbed}")
        return 1
    finally:
        sampler.stop()
        progress.close()
    config = {
        **asdict(profile),
        "quick": args.quick,
        "runs": args.runs,
        "replicas": args.scale,
        "sku": sku,
        "run_id": ident,
        "started_at": started_at,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "floor_activities": activities,
        "sync_mark": runs[-1]["floor"].get("sync_mark") if runs else None,
        "latency_start": "scheduled send time (open-loop schedule)",
        "latency_end": "bench consumer receive time of the order event (not data.occurred_at)",
        "peer": peer_info() if args.peer else None,
    }
    summary = report.build_summary(runs, config, host)
    files = report.write_all(summary, args.out, stamp)
    lines = [headline(summary), *([peer_headline(summary)] if args.peer else [])]
    sys.stdout.write(
        "\n" + "\n".join(lines) + f"\nresults: {args.out}/ ({', '.join(files.values())})\n"
    )
    return 0


def headline(figures: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    bound = "" if figures.get("floor_saturated") else "≥"
    fleet_bound = "" if figures.get("fleet_saturated") else "≥"
    return (
        f"peak {fleet_bound}{fmt(figures['peak_orders_per_s'])} orders/s "
        f"(sustained {fmt(figures['sustained_orders_per_s'])}), "
        f"floor {bound}{fmt(figures['floor_peak_per_s'])}/s, "
        f"ratio {fmt(figures['fleet_to_floor_ratio'])}, "
        f"p99 at 80% of peak {fmt(figures['p99_ms_at_80pct'])} ms "
        f"(to shipment_created {fmt(figures['sync_p99_ms_at_80pct'])} ms)"
    )


def peer_headline(figures: dict[str, Any]) -> str:
    def fmt(name: str) -> str:
        value = figures.get(name)
        return "-" if value is None else f"{value:g}"

    saga_bound = "" if figures.get("peer_saturated") else "≥"
    floor_bound = "" if figures.get("peer_floor_saturated") else "≥"
    return (
        f"temporal saga {saga_bound}{fmt('peer_saga_per_s')} orders/s, "
        f"temporal floor {floor_bound}{fmt('peer_floor_per_s')}/s, "
        f"saga/floor {fmt('peer_to_peer_floor_ratio')}; dapr fleet / temporal saga "
        f"{fmt('fleet_to_peer_ratio')}, dapr floor / temporal floor "
        f"{fmt('floor_to_peer_floor_ratio')}; temporal p99 at 80% of its peak "
        f"{fmt('peer_p99_ms_at_80pct')} ms (to shipment_created "
        f"{fmt('peer_sync_p99_ms_at_80pct')} ms)"
    )


def cmd_soak(args: argparse.Namespace) -> int:
    progress = Progress()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stock = int(args.rate * args.minutes * 60 * 2) + 100
    try:
        _, sku = prepare(progress, stock, args.scale)
    except PrepareError as error:
        progress.note(f"soak failed: {error}")
        return 1
    try:
        result = run_soak(
            rate=args.rate,
            minutes=args.minutes,
            warmup_s=args.warmup_seconds,
            deadline_s=60,
            sku=sku,
            run_id=run_id(),
            progress=progress,
        )
    except RuntimeError as error:
        progress.note(f"soak failed: {error}")
        return 1
    finally:
        progress.close()
    result["host"] = host_info()
    files = write_soak(result, args.out, stamp)
    growing = sorted(
        ((m["slope_mb_per_min"] or 0.0, name) for name, m in result["memory"].items()),
        reverse=True,
    )[:3]
    sys.stdout.write(
        f"\nsoak {args.rate:g}/s x {args.minutes:g} min: {result['completed']}/{result['sent']} "
        f"completed, p99 {result['latency_ms']['p99']} ms; steepest RSS slopes (MB/min): "
        + ", ".join(f"{name} {slope:+.2f}" for slope, name in growing)
        + f"\nresults: {args.out}/ ({', '.join(files.values())})\n"
    )
    return 0


SOAK_HELP = "a fixed rate for a long time: memory slopes"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = root.add_subparsers(dest="command")
    run = commands.add_parser("run", help="the stepped open-loop benchmark (default)")
    run.add_argument("--quick", action="store_true", help="fewer, shorter steps (~2 minutes)")
    run.add_argument("--runs", type=int, default=1, help="back-to-back runs on the same fleet")
    run.add_argument("--rates", help="fleet rates in orders/s, e.g. '10 20 30'")
    run.add_argument("--floor-rates", help="floor rates in workflows/s")
    run.add_argument("--step-seconds", type=float, help="duration of each fleet step")
    run.add_argument("--no-floor", action="store_true", help="skip the floor workload")
    run.add_argument("--no-stop", action="store_true", help="run every step even when saturated")
    run.add_argument(
        "--peer",
        choices=PEERS,
        help="also run the saga and a floor on this engine, side by side (make bench PEER=)",
    )
    run.add_argument("--out", type=Path, default=report.RESULTS_DIR)
    for command in (run, soak := commands.add_parser("soak", help=SOAK_HELP)):
        command.add_argument(
            "--scale", type=int, default=1, help="replicas of every app (2+: on PostgreSQL)"
        )
    soak.add_argument("--rate", type=float, default=2.0, help="orders/s")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--warmup-seconds", type=float, default=60.0)
    soak.add_argument("--out", type=Path, default=report.RESULTS_DIR)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0].startswith("-"):
        arguments.insert(0, "run")
    args = parser().parse_args(arguments)
    if args.command == "soak":
        return cmd_soak(args)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    return cmd_run(args)
