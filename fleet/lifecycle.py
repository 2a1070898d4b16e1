"""`fleet run/up/down/status/logs/clean`: the fleet's lifecycle as a person drives it."""

import json
import shutil
import signal
import subprocess
import time
from types import FrameType

from fleet import console, topology
from fleet import profile as saved_profile
from fleet.containers.exclusion import refusal_for_local_fleet
from fleet.paths import data_dir, home_dir
from fleet.provision.errors import ProvisionError, tail
from fleet.provision.pieces import Purpose, for_purpose, piece, provision
from fleet.runner import supervisor
from fleet.runner.specs import ProcessSpec
from fleet.stack import provision_for_run
from fleet.stack import specs as fleet_specs


def _status_rows(statuses: list[supervisor.ProcessStatus]) -> list[list[str]]:
    return [
        [
            s.spec.name,
            str(s.pid or "-"),
            s.state,
            ",".join(str(p) for p in s.spec.ports),
            " ".join(s.spec.urls),
        ]
        for s in statuses
    ]


def print_status(statuses: list[supervisor.ProcessStatus]) -> None:
    text = console.table(["PROCESS", "PID", "STATE", "PORTS", "URL"], _status_rows(statuses))
    for word, colour in (("unhealthy", "yellow"), ("healthy", "green"), ("down", "red")):
        text = text.replace(f"  {word}  ", f"  {console.paint(word, colour)}  ")
    print(text)


def _fail(error: Exception) -> int:
    console.error(f"✗ {error}")
    return 1


def _start(specs: list[ProcessSpec]) -> list[str]:
    # The compose fleet publishes the same addresses (make compose-up / compose-down).
    refusal = refusal_for_local_fleet()
    if refusal:
        raise supervisor.FleetError(refusal)
    already = [s for s in supervisor.status(specs) if s.healthy]
    if len(already) == len(specs):
        print(console.paint("The fleet is already up: every process is healthy.", "green"))
        return []
    began = time.monotonic()
    started = supervisor.up(specs)
    elapsed = time.monotonic() - began
    print()
    print_status(supervisor.status(specs))
    print(console.paint(f"\nall healthy ({len(started)} started in {elapsed:.1f}s)", "green"))
    return started


def choose_profile(scale: int | None) -> topology.Profile:
    """The profile to start: SCALE=N asks for N replicas (on PostgreSQL), none for one.
    Refuses while this checkout's fleet runs in another profile."""
    wanted = topology.Profile(replicas=scale or 1)
    running = saved_profile.saved()
    if running != wanted and any(s.pid for s in supervisor.status(fleet_specs(running))):
        raise supervisor.FleetError(
            f"the fleet is running with {running.replicas} replica(s) of each app; "
            f"`make down` first to start it with {wanted.replicas}"
        )
    saved_profile.save(wanted)
    return wanted


def cmd_up(scale: int | None = None) -> int:
    try:
        profile = choose_profile(scale)
        provision_for_run()
        _start(fleet_specs(profile))
    except (supervisor.FleetError, ProvisionError, ValueError) as error:
        return _fail(error)
    return 0


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def cmd_run(scale: int | None = None) -> int:
    """Foreground: bring the fleet up, report deaths while it runs (the keeper restarts
    them), stop all on Ctrl-C."""
    # Closing the terminal or `kill` must stop the fleet just as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        profile = choose_profile(scale)
        provision_for_run()
    except (supervisor.FleetError, ProvisionError, ValueError) as error:
        return _fail(error)
    specs = fleet_specs(profile)
    try:
        _start(specs)
        print("Watching the fleet. Ctrl-C stops everything.")
        reported: set[str] = set()
        while True:
            time.sleep(1.0)  # the watch interval, not a wait for a condition
            supervisor.reap_children()
            for status in supervisor.status(specs):
                name = status.spec.name
                if status.pid is not None:
                    if name in reported:
                        reported.discard(name)
                        console.say(console.paint(f"✓ {name} is back", "green"))
                    continue
                if name not in reported:
                    reported.add(name)
                    log = supervisor.log_path(name)
                    console.say(console.paint(f"✗ {name} is down. Tail of {log}:", "red"))
                    console.say(tail(log, 15))
    except supervisor.FleetError as error:
        return _fail(error)
    except KeyboardInterrupt:
        # Ignore further interrupts: a second Ctrl-C must not abandon a half-stopped fleet.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        console.say("\nStopping the fleet …")
        busy = supervisor.down(specs)
        return _report_stopped(busy)


def _report_stopped(busy: list[int]) -> int:
    if busy:
        console.error(f"✗ ports still bound after stop: {busy}")
        return 1
    console.say(f"Stopped. Data kept in {data_dir()}")
    return 0


def cmd_down() -> int:
    return _report_stopped(supervisor.down(fleet_specs()))


def cmd_status(as_json: bool) -> int:
    statuses = supervisor.status(fleet_specs())
    if as_json:
        payload = [
            {
                "name": s.spec.name,
                "kind": s.spec.kind,
                "pid": s.pid,
                "state": s.state,
                "ports": list(s.spec.ports),
                "urls": list(s.spec.urls),
            }
            for s in statuses
        ]
        print(json.dumps(payload, indent=2))
    else:
        print_status(statuses)
    return 0 if all(s.healthy for s in statuses) else 3


def cmd_logs(name: str, follow: bool, lines: int) -> int:
    names = [spec.name for spec in fleet_specs()]
    if name not in names:
        return _fail(ValueError(f"no process named {name!r}; choose one of {', '.join(names)}"))
    log = supervisor.log_path(name)
    if not log.exists():
        return _fail(FileNotFoundError(f"{name} has not written a log yet ({log})"))
    if follow:
        try:
            return subprocess.call(["tail", "-n", str(lines), "-F", str(log)])
        except KeyboardInterrupt:
            return 0
    print(tail(log, lines))
    return 0


def cmd_clean() -> int:
    specs = fleet_specs()
    if any(s.pid for s in supervisor.status(specs)):
        return _fail(RuntimeError("the fleet is running; `make down` first"))
    shutil.rmtree(home_dir(), ignore_errors=True)
    print("Removed", home_dir(), "(all orders, events and logs). Caches are kept.")
    return 0


def cmd_provision(purpose: Purpose | None, names: list[str], check: bool) -> int:
    try:
        pieces = [piece(name) for name in names] if names else for_purpose(purpose)
    except KeyError as error:
        return _fail(error)
    if check:
        rows = [[p.label, "ready" if p.ready() else "missing"] for p in pieces]
        print(console.table(["PIECE", "STATE"], rows))
        return 0 if all(p.ready() for p in pieces) else 1
    try:
        provision(pieces)
    except ProvisionError as error:
        return _fail(error)
    return 0
