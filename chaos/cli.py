"""`python -m chaos`: runs the load and the fault schedule, then checks the invariants.

Exit status: 0 when every invariant holds, 1 when one fails, 2 when the run itself failed.
"""

import argparse
import random
import signal
import sys
from pathlib import Path
from types import FrameType

from chaos import report
from chaos.faults import STOP_S, parse_kind
from chaos.run import Options, run, say
from fleet.topology import Profile


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="orders in the load")
    parser.add_argument("--faults", type=int, default=20, help="faults in the schedule")
    parser.add_argument("--seed", type=int, help="seed of the load and of the faults")
    parser.add_argument(
        "--recovery-timeout", type=float, default=300.0, help="seconds for every order to end"
    )
    parser.add_argument(
        "--rate", type=float, help="messages per second (default: the load spans the faults)"
    )
    parser.add_argument(
        "--stop-seconds", type=float, default=STOP_S, help="how long a SIGSTOP lasts"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND",
        help="replay these faults in this order instead of drawing them, e.g. "
        "--fault 'kill placement' --fault 'kill orchestrator' (repeatable)",
    )
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS_DIR)
    parser.add_argument(
        "--scale", type=int, default=1, help="replicas of every app (2+: on PostgreSQL)"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.faults < 0:
        parser.error("--orders must be at least 1 and --faults at least 0")
    try:
        profile = Profile(replicas=args.scale)
    except ValueError as error:
        parser.error(str(error))
    for label in args.fault:
        try:
            parse_kind(label, profile)
        except ValueError as error:
            parser.error(str(error))
    return Options(
        orders=args.orders,
        faults=args.faults,
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(10**9),
        recovery_timeout_s=args.recovery_timeout,
        rate=args.rate,
        stop_s=args.stop_seconds,
        results_dir=args.results_dir,
        fault_kinds=tuple(args.fault),
        replicas=args.scale,
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so the injector still resumes and restarts what it hit.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run(options)
    except KeyboardInterrupt:
        say("interrupted; the fleet was restored")
        return 2
    except Exception as error:
        say(f"the chaos run failed: {error!r}")
        raise
    return 0 if result.passed else (2 if result.errors else 1)


if __name__ == "__main__":
    sys.exit(main())
