"""The recorder's view of a running fleet: its HTTP API and the orchestrator's sidecar.

Nothing here assumes which checkout runs the fleet: the addresses default to
`fleet/topology.py`, and the sidecar's API token is read (never written) from the secrets
file of the fleet's home (`--fleet-home`, default this checkout's `.fleet`).
"""

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
from dapr.ext.workflow._durabletask.internal import orchestrator_service_pb2_grpc as stubs
from dapr.ext.workflow._durabletask.internal import protos as pb
from google.protobuf import wrappers_pb2

from contracts.commands import Method
from contracts.roles import Role
from fleet import topology
from fleet.api_tokens import LOCAL, TokenSource
from fleet.secrets import API_ISSUER_KEY, SECRETS_FILE_NAME, dapr_api_token_key

T = TypeVar("T")
TRANSIENT_READS = 10
PLACE_ATTEMPTS = 3


class RecorderError(Exception):
    """The fleet did not do what a recording needs (the message says what)."""


def poll(condition: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.1) -> T:
    """Polls `condition` until it returns something truthy; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RecorderError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class Target:
    api_url: str
    sidecar_grpc: str  # host:port of the orchestrator's sidecar gRPC API
    sidecar_http: str  # its HTTP API (service invocation into inventory)
    token: str  # the orchestrator sidecar's dapr-api-token
    fleet_home: Path | None = None

    @classmethod
    def local(cls, fleet_home: Path, token: str | None = None) -> "Target":
        orchestrator = topology.ORCHESTRATOR
        return cls(
            api_url=topology.API_URL,
            sidecar_grpc=f"{topology.LOOPBACK}:{orchestrator.dapr_grpc_port}",
            sidecar_http=f"http://{topology.LOOPBACK}:{orchestrator.dapr_http_port}",
            token=token or read_token(fleet_home),
            fleet_home=fleet_home,
        )


def _secrets(fleet_home: Path) -> dict[str, str]:
    path = fleet_home / "data" / "secrets" / SECRETS_FILE_NAME
    if not path.exists():
        raise RecorderError(
            f"no secrets file at {path}: point --fleet-home at the home of the running fleet "
            "(its checkout's .fleet) or pass --token"
        )
    stored: dict[str, str] = json.loads(path.read_text())
    return stored


def read_token(fleet_home: Path) -> str:
    return _secrets(fleet_home)[dapr_api_token_key(topology.ORCHESTRATOR.app_id)]


def fleet_commit(fleet_home: Path | None) -> str:
    """The commit of the checkout that runs the fleet (its code made the histories)."""
    if fleet_home is None:
        return "unknown"
    checkout = fleet_home.resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--", "orchestrator"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+uncommitted" if dirty else head


class Fleet:
    """Places and drives orders the way users do, and reads workflow histories."""

    def __init__(self, target: Target) -> None:
        self.target = target
        # As an admin, with a token of the fleet's own development issuer.
        home = target.fleet_home
        tokens = TokenSource(lambda: _secrets(home)[API_ISSUER_KEY]) if home else LOCAL
        self.api = httpx.Client(
            base_url=target.api_url, timeout=30, headers=tokens.headers(Role.ADMIN)
        )
        self._headers = {"dapr-api-token": target.token}
        self._channel = grpc.insecure_channel(target.sidecar_grpc)
        self._stub = stubs.TaskHubSidecarServiceStub(self._channel)
        self._metadata = (("dapr-api-token", target.token),)

    def close(self) -> None:
        self.api.close()
        self._channel.close()

    # ---- the orchestrator's sidecar (durabletask's TaskHubSidecarService)

    def history(self, instance_id: str) -> list[pb.HistoryEvent] | None:
        """The instance's stored history (its current generation); None if there is none.

        A read that races the workflow's own save can find the state half written (daprd
        1.18: "declared in metadata ... but missing from state store (transient ...)"); a
        second read sees it whole, so such a read is repeated."""
        request = pb.GetInstanceHistoryRequest(instanceId=instance_id)
        for attempt in range(1, TRANSIENT_READS + 1):
            try:
                response = self._stub.GetInstanceHistory(
                    request, metadata=self._metadata, timeout=10
                )
            except grpc.RpcError as error:
                details = str(error.details())
                if error.code() == grpc.StatusCode.NOT_FOUND or "not found" in details:
                    return None
                if "transient" not in details or attempt == TRANSIENT_READS:
                    raise
                continue
            return list(response.events)
        return None

    def raise_event(self, instance_id: str, name: str, data: dict[str, Any]) -> None:
        request = pb.RaiseEventRequest(
            instanceId=instance_id,
            name=name,
            input=wrappers_pb2.StringValue(value=json.dumps(data)),
        )
        self._stub.RaiseEvent(request, metadata=self._metadata, timeout=10)

    def start_workflow(self, workflow: str, instance_id: str, data: dict[str, Any]) -> None:
        """Starts a workflow directly (what the API does after validating an order), for
        paths that need a policy the running fleet was not started with."""
        request = pb.CreateInstanceRequest(
            name=workflow,
            instanceId=instance_id,
            input=wrappers_pb2.StringValue(value=json.dumps(data)),
        )
        self._stub.StartInstance(request, metadata=self._metadata, timeout=10)

    def runtime_version(self) -> str:
        response = httpx.get(
            f"{self.target.sidecar_http}/v1.0/metadata", headers=self._headers, timeout=10
        )
        response.raise_for_status()
        version: str = response.json().get("runtimeVersion", "unknown")
        return version

    def new_sku(self, sku: str, stock: int, price: str) -> str:
        response = httpx.post(
            f"{self.target.sidecar_http}/v1.0/invoke/inventory/method/{Method.UPSERT_ITEM}",
            json={"sku": sku, "name": f"Replay {sku}", "price": price, "stock": stock},
            headers=self._headers,
            timeout=30,
        )
        if response.status_code >= 300:
            raise RecorderError(
                f"creating SKU {sku} failed: {response.status_code} {response.text}"
            )
        return sku

    # ---- the HTTP API

    def healthy(self) -> bool:
        try:
            return self.api.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def place(self, order: dict[str, Any]) -> None:
        """Places the order; a 5xx is sent again (the order id makes that idempotent): under
        load the sidecar can answer a workflow start with SQLITE_BUSY, which the API
        reports as 500."""
        for attempt in range(1, PLACE_ATTEMPTS + 1):
            response = self.api.post("/orders", json=order)
            if response.status_code == 202:
                return
            if response.status_code < 500 or attempt == PLACE_ATTEMPTS:
                raise RecorderError(f"POST /orders: {response.status_code} {response.text}")

    def place_bulk(self, bulk_id: str, orders: list[dict[str, Any]]) -> None:
        response = self.api.post("/orders/bulk", json={"bulk_id": bulk_id, "orders": orders})
        if response.status_code != 202:
            raise RecorderError(f"POST /orders/bulk: {response.status_code} {response.text}")

    def bulk(self, bulk_id: str) -> dict[str, Any] | None:
        response = self.api.get(f"/orders/bulk/{bulk_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        view: dict[str, Any] = response.json()
        return view

    def order(self, order_id: str) -> dict[str, Any] | None:
        response = self.api.get(f"/orders/{order_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        view: dict[str, Any] = response.json()
        return view

    def decide(self, order_id: str, approved: bool, reason: str | None = None) -> None:
        body = {"approved": approved, "reason": reason}
        response = self.api.post(f"/orders/{order_id}/approval", json=body)
        if response.status_code != 202:
            raise RecorderError(f"POST approval: {response.status_code} {response.text}")

    def cancel(self, order_id: str, reason: str) -> None:
        response = self.api.post(f"/orders/{order_id}/cancel", json={"reason": reason})
        if response.status_code != 202:
            raise RecorderError(f"POST cancel: {response.status_code} {response.text}")
