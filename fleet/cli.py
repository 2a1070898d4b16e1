"""The `fleet` command line."""

import argparse
import signal
import sys
from collections.abc import Sequence

from fleet import credentials_cli, lifecycle, orders_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fleet", description="Run and inspect the order fleet.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start everything in the foreground; Ctrl-C stops it")
    up = commands.add_parser("up", help="start what is not running; returns when all is healthy")
    for command in (run, up):
        command.add_argument(
            "--scale",
            type=int,
            metavar="N",
            help="N replicas of every app, all on one shared PostgreSQL (default: one each, "
            "on embedded sqlite)",
        )
    commands.add_parser("down", help="stop every process of the fleet (data is kept)")
    status = commands.add_parser("status", help="each process with pid, ports and health")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    logs = commands.add_parser("logs", help="show one process's log")
    logs.add_argument("name", help="a process name from `fleet status`, e.g. payment-dapr")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=100)
    commands.add_parser("clean", help="wipe the fleet's data (orders, Kafka log, state)")
    provision = commands.add_parser("provision", help="build or download what is missing")
    provision.add_argument(
        "--for",
        dest="purpose",
        choices=["run", "test", "compose", "k8s", "bench"],
        help="only the pieces make run, make test, compose-up, k8s-up or bench PEER= needs "
        "(default: all)",
    )
    provision.add_argument("pieces", nargs="*", help="only these pieces (e.g. dapr kustomize)")
    provision.add_argument(
        "--check", action="store_true", help="list each piece as ready or missing; build nothing"
    )
    doctor = commands.add_parser("doctor", help="prove every hop of the fleet works, end to end")
    doctor.add_argument("--json", action="store_true", help="the hops as JSON (progress on stderr)")
    orders_cli.add_commands(commands)
    credentials_cli.add_command(commands)
    trace = commands.add_parser("trace", help="an order's Zipkin trace as a timeline tree")
    trace.add_argument("order_id")
    trace.add_argument("--json", action="store_true", help="the raw Zipkin spans")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into `head`, stop quietly like any Unix tool instead of raising BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = _parser().parse_args(argv)
    match args.command:
        case "run":
            return lifecycle.cmd_run(args.scale)
        case "up":
            return lifecycle.cmd_up(args.scale)
        case "down":
            return lifecycle.cmd_down()
        case "status":
            return lifecycle.cmd_status(args.json)
        case "logs":
            return lifecycle.cmd_logs(args.name, args.follow, args.lines)
        case "clean":
            return lifecycle.cmd_clean()
        case "provision":
            return lifecycle.cmd_provision(args.purpose, args.pieces, args.check)
        case "doctor":
            from fleet.doctor import cmd_doctor

            return cmd_doctor(args.json)
        case "trace":
            from fleet.trace_view import cmd_trace

            return cmd_trace(args.order_id, args.json)
        case "credentials":
            return credentials_cli.cmd_credentials(args)
        case "order" | "events" | "inventory":
            return orders_cli.dispatch(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
