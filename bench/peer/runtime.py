"""The peer's runtime: the Temporal CLI's dev server and one worker, for one bench run.

The server (`temporal server start-dev`: frontend, history, matching and worker services
in one process, on SQLite) listens on free loopback ports, headless, with its database
in the fleet's data folder (like the Dapr floor's store). A worker process runs one
workload at a time (`saga`, then `floor`, each on a task queue of its own), as the Dapr
floor has a worker of its own. Everything is stopped by PID and the folder removed.
"""

import asyncio
import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client

from bench.floor import free_ports
from bench.floor_worker import READY
from bench.processes import Processes, lines
from fleet import topology
from fleet.paths import data_dir, run_dir
from fleet.provision import temporal
from fleet.runner.specs import ProcessSpec

SERVER = "temporal-server"
WORKER = "peer-worker"
# What the worker needs to reach the orchestrator's sidecar, from the orchestrator's own
# environment (fleet/runner/specs.py app_env): its gRPC port and API token, gRPC invocation.
DAPR_CLIENT_ENV = (
    "DAPR_API_TOKEN",
    "DAPR_HTTP_PORT",
    "DAPR_GRPC_PORT",
    "DAPR_RUNTIME_HOST",
    "DAPR_API_METHOD_INVOCATION_PROTOCOL",
)

T = TypeVar("T")

# The fleet's SQLite settings (components/sqlite/: WAL, synchronous=NORMAL, no fsync per
# commit), so both engines persist alike. The dev server's default (a rollback journal,
# synchronous=FULL) measured 4.8 instead of 7.1 floor workflows/s at 8/s offered here.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
# One task queue partition, as for any single-host, single-worker deployment: with the
# default four, tasks are forwarded between partitions, and the floor at 16/s offered
# completed 7.9 instead of 10.6 workflows/s here.
DYNAMIC_CONFIG = (
    "matching.numTaskqueueReadPartitions=1",
    "matching.numTaskqueueWritePartitions=1",
)


@dataclass(frozen=True)
class ServerPorts:
    frontend: int
    http: int
    metrics: int

    @property
    def address(self) -> str:
        return f"{topology.LOOPBACK}:{self.frontend}"


def server_argv(binary: Path, ports: ServerPorts, database: Path) -> list[str]:
    return [
        str(binary),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        topology.LOOPBACK,
        "--port",
        str(ports.frontend),
        "--http-port",
        str(ports.http),
        "--metrics-port",
        str(ports.metrics),
        "--db-filename",
        str(database),
        *(arg for pragma in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", pragma)),
        *(arg for value in DYNAMIC_CONFIG for arg in ("--dynamic-config-value", value)),
        # The dev server's own default (warn); said here so its log stays small under load.
        "--log-level",
        "warn",
    ]


def orchestrator_client_env(specs: list[ProcessSpec]) -> dict[str, str]:
    for spec in specs:
        if spec.name == topology.ORCHESTRATOR.name:
            return {key: spec.env[key] for key in DAPR_CLIENT_ENV if key in spec.env}
    raise RuntimeError("the fleet has no orchestrator app whose sidecar the peer could use")


class EventLoop:
    """An asyncio loop on a thread of its own: the bench is threaded, the SDK is async."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="peer-loop", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


class TemporalRuntime:
    def __init__(self, specs: list[ProcessSpec], run: str) -> None:
        self.home = data_dir() / "bench-temporal" / run
        self.processes = Processes(run_dir() / "bench")
        frontend, http, metrics = free_ports(3)
        self.ports = ServerPorts(frontend, http, metrics)
        self._dapr_env = orchestrator_client_env(specs)
        self._loop = EventLoop()
        self._client: Client | None = None
        self.out = self.home / "worker.tsv"

    def pids(self) -> dict[str, int]:
        return self.processes.pids()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the Temporal server is not started")
        return self._client

    def start_server(self, timeout_s: float = 120.0) -> None:
        if self.home.exists():
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        argv = server_argv(temporal.binary(), self.ports, self.home / "temporal.db")
        self.processes.spawn(SERVER, argv, dict(os.environ), self.home)
        self.processes.wait(self._connected, timeout_s, "the Temporal dev server")

    def _connected(self) -> bool:
        try:
            self._client = self._loop.run(Client.connect(self.ports.address), timeout_s=10)
            # The default namespace exists once the server answers about it.
            self._loop.run(self._client.service_client.check_health(), timeout_s=10)
        except Exception:  # the SDK raises its own RuntimeErrors and gRPC errors while starting
            self._client = None
            return False
        return True

    def start_worker(self, workload: str, queue: str, timeout_s: float = 90.0) -> None:
        self.out.write_text("")
        env = {
            **os.environ,
            **(self._dapr_env if workload == "saga" else {}),
            "TEMPORAL_ADDRESS": self.ports.address,
            "PEER_WORKLOAD": workload,
            "PEER_TASK_QUEUE": queue,
            "PEER_OUT": str(self.out),
            "PYTHONUNBUFFERED": "1",
        }
        argv = [sys.executable, "-m", "bench.peer.worker"]
        self.processes.spawn(WORKER, argv, env, Path.cwd())
        self.processes.wait(self._worker_ready, timeout_s, f"the peer's {workload} worker")

    def _worker_ready(self) -> bool:
        return any(line.split("\t")[1:2] == [READY] for line in lines(self.out))

    def stop_worker(self) -> None:
        self.processes.stop(WORKER)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Runs a coroutine of the SDK (with `client`) on the runtime's loop."""
        return self._loop.run(coroutine, timeout_s)

    def start_workflow(
        self, workflow: str, arg: dict[str, Any], instance_id: str, queue: str
    ) -> None:
        self._loop.run(self.client.start_workflow(workflow, arg, id=instance_id, task_queue=queue))

    def stop(self) -> None:
        """The worker first (it finishes what it runs), then the server; only ours."""
        self.processes.stop_all()
        self._client = None
        self._loop.close()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.home.parent.rmdir()  # only when no other run's folder is left
