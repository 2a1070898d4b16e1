"""The runtime's floor: the same runtime (daprd, placement, scheduler, Python SDK) running a
workflow with as many activities as the order saga, each doing nothing.

It gets its own sidecar, app id `bench-floor`, on free ports (two workers on one sidecar
would take each other's work items), with a resources folder holding a copy of
components/ plus its own sqlite actor state store. The sidecar's command line and
environment are the orchestrator sidecar's (mTLS, tracing, body limits, ...), with the
app id, ports, resources and API token replaced, so the floor differs from the fleet
only in what its activities do. Both processes are stopped afterwards.
"""

import contextlib
import os
import secrets
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from bench.floor_worker import FLOOR_WORKFLOW, READY
from bench.processes import Processes, lines
from fleet import topology
from fleet.paths import components_dir, data_dir, run_dir
from fleet.runner.specs import ProcessSpec

APP_ID = "bench-floor"
STORE_NAME = "bench-floor-store"

# The order saga's activities for a one-line order below the approval and fraud-check
# thresholds that pays, ships and is delivered (orchestrator/workflows/order.py, then
# monitor.py):
SAGA_BEFORE_MONITOR = (
    "quote_order",
    "reserve_line",  # one per order line
    "publish_outbound (accepted, stock_reserved)",
    "charge_payment",
    "create_shipment",
    "publish_outbound (payment_charged, shipment_created; order_confirmed)",
    "commit_stock",
)
# The monitor child workflow looks at the shipment (`shipment_status`) once per generation
# (continue-as-new, on a timer set to shipping's estimate) and announces shipped.
MONITOR_ANNOUNCEMENTS = ("publish_outbound (shipped; shipped)",)
SAGA_AFTER_MONITOR = ("publish_outbound (delivered, completed; delivered)",)
# shipment_created is published by this activity: the floor records its "sync" there.
SYNC_MARK = (
    SAGA_BEFORE_MONITOR.index(
        "publish_outbound (payment_charged, shipment_created; order_confirmed)"
    )
    + 1
)
# SHIPPING_STEP_SECONDS=2: the monitor looks when shipping says the state changes (in
# transit at 2 s, delivered at 4 s), so two looks.
DEFAULT_POLLS = 2


def saga_activity_count(polls: int) -> int:
    """Activities of the happy path of a one-line order whose monitor polled `polls` times."""
    return len(SAGA_BEFORE_MONITOR) + polls + len(MONITOR_ANNOUNCEMENTS) + len(SAGA_AFTER_MONITOR)


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now; held together so that they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((topology.LOOPBACK, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def split_flags(argv: tuple[str, ...]) -> dict[str, str | None]:
    """daprd flags as an ordered mapping; `--flag=value`, `--flag value` and bare `--flag`."""
    flags: dict[str, str | None] = {}
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
            flags[name] = value
        elif token.startswith("--"):
            has_value = i + 1 < len(items) and not items[i + 1].startswith("--")
            flags[token] = items[i + 1] if has_value else None
            i += 1 if has_value else 0
        i += 1
    return flags


def join_flags(flags: dict[str, str | None]) -> list[str]:
    return [name if value is None else f"{name}={value}" for name, value in flags.items()]


# Flags of the app channel: the floor app only connects out to its sidecar.
_APP_CHANNEL_FLAGS = ("--app-port", "--app-protocol", "--app-channel-address")


@dataclass(frozen=True)
class FloorPorts:
    http: int
    grpc: int
    internal_grpc: int
    metrics: int


def sidecar_argv(template: ProcessSpec, ports: FloorPorts, resources: Path) -> list[str]:
    """The orchestrator sidecar's command line, re-aimed at the floor app."""
    flags = split_flags(template.argv[1:])
    for name in _APP_CHANNEL_FLAGS:
        flags.pop(name, None)
    flags.update(
        {
            "--app-id": APP_ID,
            "--dapr-http-port": str(ports.http),
            "--dapr-grpc-port": str(ports.grpc),
            "--dapr-internal-grpc-port": str(ports.internal_grpc),
            "--metrics-port": str(ports.metrics),
            "--resources-path": str(resources),
            "--config": str(resources / "config.yaml"),
        }
    )
    return [template.argv[0], *join_flags(flags)]


def store_component(connection: str) -> str:
    """The orchestrator's own sqlite actor store (components/sqlite/), renamed and scoped
    to the floor app, on a file of its own: both measure the same store settings."""
    doc = yaml.safe_load((components_dir() / "sqlite" / "statestore-orchestrator.yaml").read_text())
    doc["metadata"]["name"] = STORE_NAME
    doc["scopes"] = [APP_ID]
    for item in doc["spec"]["metadata"]:
        if item["name"] == "connectionString":
            options = str(item["value"]).partition("?")[2]
            item["value"] = f"{connection}?{options}" if options else connection
    header = "# The floor's own actor state store, written by bench.floor for one run.\n"
    return header + yaml.safe_dump(doc, sort_keys=False)


def prepare_home(home: Path) -> Path:
    """A fresh working folder: resources (components/ + the floor store) and its sqlite dir.

    Under the fleet's data folder, on the same disk as the fleet's own stores.
    """
    if home.exists():
        shutil.rmtree(home)
    resources = home / "resources"
    resources.mkdir(parents=True)
    for source in sorted(components_dir().glob("*.yaml")):
        shutil.copy2(source, resources / source.name)
    (resources / "statestore-bench-floor.yaml").write_text(store_component("state/floor.db"))
    (home / "state").mkdir()
    return resources


def _sidecar_template(specs: list[ProcessSpec]) -> ProcessSpec:
    for spec in specs:
        if spec.name == topology.ORCHESTRATOR.sidecar_name:
            return spec
    raise RuntimeError("the fleet has no orchestrator sidecar to copy")


class FloorRuntime:
    """Starts the floor's sidecar and worker; `stop` ends exactly those two processes."""

    def __init__(self, specs: list[ProcessSpec], run: str) -> None:
        self._template = _sidecar_template(specs)
        self.home = data_dir() / "bench-floor" / run
        self.logs = run_dir() / "bench"
        self.out = self.home / "completions.tsv"
        self.token = secrets.token_urlsafe(24)
        http, grpc, internal, metrics = free_ports(4)
        self.ports = FloorPorts(http, grpc, internal, metrics)
        self._processes = Processes(self.logs)

    def pids(self) -> dict[str, int]:
        return self._processes.pids()

    def start(self, timeout_s: float = 90.0) -> None:
        resources = prepare_home(self.home)
        self.out.touch()
        template = self._template
        sidecar_env = {
            **os.environ,
            **template.env,
            **(template.late_env() if template.late_env else {}),
            "DAPR_API_TOKEN": self.token,
        }
        sidecar_env.pop("APP_API_TOKEN", None)
        self._processes.spawn(
            f"{APP_ID}-dapr", sidecar_argv(template, self.ports, resources), sidecar_env, self.home
        )
        try:
            self._processes.wait(
                self._sidecar_healthy, timeout_s, "the floor sidecar to be healthy"
            )
            worker_env = {
                **os.environ,
                "APP_ID": APP_ID,
                "DAPR_API_TOKEN": self.token,
                "DAPR_HTTP_PORT": str(self.ports.http),
                "DAPR_GRPC_PORT": str(self.ports.grpc),
                "DAPR_RUNTIME_HOST": topology.LOOPBACK,
                "FLOOR_OUT": str(self.out),
                "PYTHONUNBUFFERED": "1",
            }
            worker_env.pop("APP_API_TOKEN", None)
            argv = [sys.executable, "-m", "bench.floor_worker"]
            self._processes.spawn(APP_ID, argv, worker_env, Path.cwd())
            self._processes.wait(self._worker_ready, timeout_s, "the floor worker to connect")
        except BaseException:
            self.stop()
            raise

    def _sidecar_healthy(self) -> bool:
        try:
            url = f"http://{topology.LOOPBACK}:{self.ports.http}/v1.0/healthz"
            return httpx.get(url, timeout=2).status_code == 204
        except httpx.HTTPError:
            return False

    def _worker_ready(self) -> bool:
        return any(line.split("\t")[1:2] == [READY] for line in lines(self.out))

    def stop(self) -> None:
        # The worker first (it drains), then its sidecar: the last started first.
        self._processes.stop_all()

    def clean(self) -> None:
        """Removes the run's folder (its sqlite store and completions file)."""
        shutil.rmtree(self.home, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.home.parent.rmdir()  # only when no other run's folder is left

    def workflow_client_starter(self, activities: int) -> "Starter":
        return Starter(self.ports.grpc, self.token, activities)


class Starter:
    """Starts floor workflows on the floor sidecar, one gRPC client shared by the pool."""

    def __init__(self, grpc_port: int, token: str, activities: int) -> None:
        from dapr.conf import settings
        from dapr.ext.workflow import DaprWorkflowClient

        # The client's constructor reads the token from the SDK's settings.
        settings.DAPR_API_TOKEN = token  # type: ignore[attr-defined]
        self._client = DaprWorkflowClient(host=topology.LOOPBACK, port=str(grpc_port))
        self._input = {"activities": activities, "mark": SYNC_MARK}

    def __call__(self, instance_id: str) -> None:
        self._client.schedule_new_workflow(
            FLOOR_WORKFLOW, input=self._input, instance_id=instance_id
        )
