"""`make compose-up` / `make compose-down`: docker-compose.yml as committed, run for real.

up:   refuse while the local fleet runs; provision; an engine (ours if none answers);
      the images; the secrets compose asks for; `docker compose up -d` with the committed
      file plus only the image mapping; then wait until every service is healthy. A
      container that dies during start-up stops it, naming the container with the tail of
      its log.
down: `docker compose down`, check that no container or network of the project is left,
      and stop our engine if we started it (and nothing else runs in it).

Host ports: FLEET_API_PORT, FLEET_KAFKA_PORT, FLEET_ZIPKIN_PORT (the local fleet's
8000, 9092 and 9411 by default); docker-compose.yml reads the same variables.
"""

import argparse
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fleet import console, topology
from fleet.containers import catalog, docker_api, engine, exclusion, images, mapping, watch
from fleet.containers.client import DockerError, cli_env, docker
from fleet.containers.compose_secrets import compose_interpolation
from fleet.containers.packages import DOCKER_CLI
from fleet.paths import REPO_ROOT, run_dir
from fleet.provision.errors import ProvisionError, tail
from fleet.provision.pieces import piece, provision
from fleet.runner import ports

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROJECT = exclusion.COMPOSE_PROJECT
UP_PIECES = ("compose", *images.INPUT_PIECES)
START_TIMEOUT_S = float(os.environ.get("FLEET_COMPOSE_TIMEOUT_S", "420"))
LOG_TAIL_LINES = 40


class ComposeError(RuntimeError):
    """compose-up or compose-down failed; the message says where and why."""


@dataclass(frozen=True)
class HostPorts:
    api: int
    kafka: int
    zipkin: int

    def env(self) -> dict[str, str]:
        return {
            "FLEET_API_PORT": str(self.api),
            "FLEET_KAFKA_PORT": str(self.kafka),
            "FLEET_ZIPKIN_PORT": str(self.zipkin),
        }

    def as_dict(self) -> dict[str, int]:
        return {"api": self.api, "kafka": self.kafka, "zipkin": self.zipkin}


def host_ports(environ: dict[str, str]) -> HostPorts:
    def port(name: str, default: int) -> int:
        raw = environ.get(name, "") or str(default)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ComposeError(f"{name}={raw!r} is not a TCP port")
        return int(raw)

    chosen = HostPorts(
        port("FLEET_API_PORT", topology.API_PORT),
        port("FLEET_KAFKA_PORT", topology.KAFKA_PORT),
        port("FLEET_ZIPKIN_PORT", topology.ZIPKIN_PORT),
    )
    if len(set(chosen.as_dict().values())) != 3:
        raise ComposeError(f"the host ports must differ: {chosen.as_dict()}")
    return chosen


def override_file() -> Path:
    return run_dir() / "compose" / "images.override.yml"


def compose_argv(override: Path, *command: str) -> list[str]:
    return [
        "compose",
        f"--project-name={PROJECT}",
        f"--file={COMPOSE_FILE}",
        f"--file={override}",
        *command,
    ]


def compose_env(chosen: HostPorts) -> dict[str, str]:
    """The environment `docker compose` interpolates the file with: secrets and ports."""
    return {**os.environ, **compose_interpolation(), **chosen.env()}


def _services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text()).get("services", {})
    return loaded


def _refuse_if_local_fleet_runs() -> None:
    from fleet.stack import specs

    running = exclusion.local_fleet_processes([spec.name for spec in specs()])
    if running:
        raise ComposeError(
            f"the local fleet is running ({len(running)} processes: {', '.join(running[:4])}"
            f"{', ...' if len(running) > 4 else ''}); stop it with `make down` first"
        )


def _check_ports_free(chosen: HostPorts, ours: set[int]) -> None:
    """`ours`: ports this project's containers publish already (compose-up run twice, or
    the project started from another checkout of this machine): compose takes them over."""
    taken = []
    for what, port in chosen.as_dict().items():
        if port not in ours and not ports.is_bindable(port):
            holder = ports.holder(port) or "a connection"
            taken.append(f"{port} ({what}) is held by {holder}")
    if taken:
        raise ComposeError(
            "host ports in use: " + "; ".join(taken) + ". Free them, or choose others with "
            "FLEET_API_PORT, FLEET_KAFKA_PORT, FLEET_ZIPKIN_PORT"
        )


def up() -> int:
    began = time.monotonic()
    chosen = host_ports(dict(os.environ))
    _refuse_if_local_fleet_runs()
    provision([piece(name) for name in UP_PIECES])
    running, started = engine.ensure_engine()
    # Written before anything starts, so the local fleet refuses even mid-start.
    exclusion.save_compose_state(
        exclusion.ComposeState(running.socket, running.ours, chosen.as_dict())
    )
    try:
        _check_ports_free(chosen, watch.published_ports(running.socket, PROJECT))
        images.build_all(running)
        override = mapping.write_override(COMPOSE_FILE, catalog.images(), override_file())
        env = compose_env(chosen)
        _start_and_wait(running, override, env)
    except BaseException:
        if started and not watch.project_states(running.socket, PROJECT):
            # Nothing of ours runs in the engine we just started: leave nothing behind.
            engine.stop_engine()
            exclusion.forget_compose_state()
        raise
    _check_from_host(chosen)
    _print_summary(running, chosen, time.monotonic() - began)
    return 0


def _start_and_wait(running: engine.Engine, override: Path, env: dict[str, str]) -> None:
    services = _services()
    one_shots = watch.one_shot_services(services)
    log = run_dir() / "compose" / "up.log"
    argv = compose_argv(override, "up", "--detach", "--no-build", "--pull=never")
    console.say(f"[compose] docker {' '.join(argv)}")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(DOCKER_CLI), *argv],
            env=cli_env(running, env),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        try:
            _wait_healthy(running, set(services), one_shots, process, log, override, env)
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait()


def _wait_healthy(
    running: engine.Engine,
    services: set[str],
    one_shots: set[str],
    process: "subprocess.Popen[bytes]",
    log: Path,
    override: Path,
    env: dict[str, str],
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    # Containers of an earlier run (stopped by a failed start) keep their old state until
    # compose starts them again; only what started from now on is judged.
    since = time.time() - 1.0

    def verdict_now() -> watch.Verdict:
        states = watch.project_states(running.socket, PROJECT)
        return watch.judge(states, services, one_shots, since)

    last = ""
    while True:
        code = process.poll()
        if code not in (None, 0):
            why = f"`docker compose up` failed:\n{tail(log, 20)}"
            _fail_start(running, override, env, verdict_now().dead, why)
        verdict = verdict_now()
        if verdict.dead:
            _fail_start(running, override, env, verdict.dead, "")
        if verdict.ready and code == 0:
            console.say(f"[compose] all {len(services)} services healthy")
            return
        line = f"{len(services) - len(verdict.waiting)}/{len(services)} ready"
        if verdict.waiting:
            line += f"; waiting for {', '.join(verdict.waiting[:5])}"
        if line != last:
            console.say(f"[compose] {line}")
            last = line
        if time.monotonic() > deadline:
            raise ComposeError(
                f"not every service was healthy within {START_TIMEOUT_S:.0f}s (still waiting "
                f"for {', '.join(verdict.waiting)}); `docker compose ps` and logs: see below "
                f"and {log}\n" + _container_logs(running, verdict.waiting, env)
            )
        time.sleep(1.0)  # poll interval of the health check


def _container_logs(running: engine.Engine, names: list[str], env: dict[str, str]) -> str:
    chunks = []
    for name in names:
        result = docker(
            running, ["logs", "--tail", str(LOG_TAIL_LINES), name], env=env, check=False
        )
        chunks.append(f"--- {name} (last {LOG_TAIL_LINES} lines)\n{result.stdout}{result.stderr}")
    return "\n".join(chunks)


def _fail_start(
    running: engine.Engine,
    override: Path,
    env: dict[str, str],
    dead: list[watch.ContainerState],
    why: str,
) -> None:
    details = [
        f"{c.name}: {c.label}, exit code {c.exit_code}, restarted {c.restarts}x" for c in dead
    ]
    logs = _container_logs(running, [c.name for c in dead], env)
    # Stopped, not removed: their logs stay readable (`docker compose logs`) until
    # `make compose-down`; restart policies would otherwise loop them forever.
    docker(running, compose_argv(override, "stop", "--timeout", "10"), env=env, check=False)
    raise ComposeError(
        "start-up failed"
        + (": " + "; ".join(details) if details else "")
        + (f"\n{why}" if why else "")
        + (f"\n{logs}" if logs else "")
        + "\nThe containers are stopped; `make compose-down` removes them."
    )


def _check_from_host(chosen: HostPorts) -> None:
    """The published addresses answer from the host, as users will use them."""
    checks = {
        f"API http://127.0.0.1:{chosen.api}/healthz": f"http://127.0.0.1:{chosen.api}/healthz",
        f"Zipkin http://127.0.0.1:{chosen.zipkin}/health": (
            f"http://127.0.0.1:{chosen.zipkin}/health"
        ),
    }
    for what, url in checks.items():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status != 200:
                    raise ComposeError(f"{what} answered HTTP {response.status}")
        except OSError as error:
            raise ComposeError(f"{what} does not answer from the host: {error}") from error
    if not ports.is_listening(chosen.kafka):
        raise ComposeError(f"Kafka 127.0.0.1:{chosen.kafka} does not answer from the host")


def _print_summary(running: engine.Engine, chosen: HostPorts, elapsed: float) -> None:
    states = sorted(watch.project_states(running.socket, PROJECT), key=lambda s: s.service)
    rows = [[s.service, s.name, s.label] for s in states]
    console.say(console.table(["SERVICE", "CONTAINER", "STATE"], rows))
    console.say(
        console.paint(f"\ncompose fleet healthy in {elapsed:.1f}s", "green")
        + f"\n  API and console  http://127.0.0.1:{chosen.api}"
        + f"\n  Kafka            127.0.0.1:{chosen.kafka}"
        + f"\n  Zipkin           http://127.0.0.1:{chosen.zipkin}"
        + f"\n  engine           {running.host}"
        + (" (ours; `make compose-down` stops it)" if running.ours else "")
        + f"\n  docker CLI       DOCKER_HOST={running.host} "
        f"DOCKER_CONFIG={cli_env(running)['DOCKER_CONFIG']} /usr/bin/docker compose ps"
    )


def down(volumes: bool) -> int:
    recorded = exclusion.load_compose_state()
    try:
        running = engine.find_engine()
    except engine.EngineError:
        running = None
    if running is None:
        exclusion.forget_compose_state()
        _check_no_processes()
        console.say("[compose] no engine runs: nothing to stop")
        return 0
    chosen = HostPorts(**recorded.ports) if recorded else host_ports(dict(os.environ))
    env = compose_env(chosen)
    override = mapping.write_override(COMPOSE_FILE, catalog.images(), override_file())
    command = ["down", "--remove-orphans", "--timeout", "20", *(["--volumes"] if volumes else [])]
    console.say(f"[compose] docker {' '.join(compose_argv(override, *command))}")
    docker(running, compose_argv(override, *command), env=env, capture=False, cwd=REPO_ROOT)
    left = [s.name for s in watch.project_states(running.socket, PROJECT)]
    networks = watch.project_networks(running.socket, PROJECT)
    if left or networks:
        raise ComposeError(f"left behind after down: containers {left}, networks {networks}")
    exclusion.forget_compose_state()
    others = docker_api.running_containers(running.socket)
    if running.ours and not others:
        engine.stop_engine()
        _check_no_processes()
        console.say("[compose] removed every container and network; our engine is stopped")
    elif running.ours:
        console.say(f"[compose] removed; our engine keeps running for {', '.join(others)}")
    else:
        console.say(f"[compose] removed; the engine at {running.host} is not ours: left running")
    return 0


def _check_no_processes() -> None:
    """No process of our engine is left (dockerd, containerd, shims, docker-proxy)."""
    where = engine.layout()
    marks = (str(where.run), str(where.home))
    leftovers = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if any(mark in cmdline for mark in marks):
                leftovers.append(f"pid {proc.name}: {cmdline[:100]}")
    if leftovers:
        raise ComposeError("processes of our engine are still running:\n" + "\n".join(leftovers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.containers.compose")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the compose fleet; returns when every service is healthy")
    stop = commands.add_parser("down", help="remove the compose fleet; stop our engine")
    stop.add_argument("--volumes", action="store_true", help="also remove the data volumes")
    args = parser.parse_args(argv)
    try:
        return up() if args.command == "up" else down(args.volumes)
    except (ComposeError, ProvisionError, DockerError, mapping.UnmappedImages) as error:
        console.error(f"✗ {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
