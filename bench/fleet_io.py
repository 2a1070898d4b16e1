"""The bench's hands on the fleet: bring it up with the project's runner, make a SKU,
read a few workflow states after the load (never per order during it)."""

import json
import uuid
from typing import Any

import httpx

from contracts.commands import Method
from fleet import topology
from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec

SIDECAR_URL = f"http://{topology.LOOPBACK}:{topology.ORCHESTRATOR.dapr_http_port}"


def ensure_fleet(replicas: int = 1) -> tuple[list[ProcessSpec], list[str]]:
    """The fleet's specs, and the names it had to start (none when it was already up).
    Refuses a fleet running with another number of replicas."""
    from fleet import lifecycle, stack  # provisioning imports are heavy; only the bench needs them

    profile = lifecycle.choose_profile(replicas)
    specs = stack.specs(profile)
    if all(state.alive_pid(spec.name) is not None for spec in specs):
        return specs, []  # all running: not even the runner's lock is needed
    # Like `fleet up`: provisions what is missing, starts what is down, waits for health.
    stack.provision_for_run()
    return specs, supervisor.up(specs, announce=False)


def fleet_pids() -> dict[str, int]:
    """Every live fleet process by name, from the runner's own records."""
    alive = {}
    for name, entry in state.load().items():
        if state.start_ticks(entry.pid) == entry.start_ticks:
            alive[name] = entry.pid
    return alive


def sidecar_headers() -> dict[str, str]:
    """The orchestrator sidecar's API token header, when the fleet uses tokens."""
    try:
        from fleet import secrets
    except ImportError:  # a fleet without API tokens
        return {}
    return secrets.sidecar_headers(topology.ORCHESTRATOR.app_id)


def create_sku(stock: int, price: str = "9.90") -> str:
    """A catalog item just for this run, through inventory's upsert (like the e2e tests)."""
    sku = f"BENCH-{uuid.uuid4().hex[:10].upper()}"
    response = httpx.post(
        f"{SIDECAR_URL}/v1.0/invoke/{topology.INVENTORY.app_id}/method/{Method.UPSERT_ITEM}",
        json={"sku": sku, "name": f"Bench {sku}", "price": price, "stock": stock},
        headers=sidecar_headers(),
        timeout=30,
    )
    if response.status_code >= 400:
        raise RuntimeError(
            f"could not create the bench SKU: {response.status_code} {response.text}"
        )
    return sku


def workflow_state(instance_id: str) -> dict[str, Any] | None:
    """A workflow's state from the orchestrator sidecar (None if unavailable)."""
    try:
        response = httpx.get(
            f"{SIDECAR_URL}/v1.0/workflows/dapr/{instance_id}",
            headers=sidecar_headers(),
            timeout=10,
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    found: dict[str, Any] = response.json()
    return found


def workflow_output(instance_id: str) -> dict[str, Any] | None:
    """A finished workflow's output (None if unavailable)."""
    found = workflow_state(instance_id) or {}
    properties = found.get("properties") or {}
    raw = properties.get("dapr.workflow.output")
    if not raw:
        return None
    try:
        output = json.loads(raw)
    except ValueError:
        return None
    return output if isinstance(output, dict) else None


def completed_per_workflow(order_ids: list[str]) -> list[str]:
    """Those of these orders whose workflow says COMPLETED (after the load, a few at most)."""
    return [
        order_id
        for order_id in order_ids
        if (output := workflow_output(order_id)) and output.get("status") == "COMPLETED"
    ]


def monitor_polls(order_ids: list[str]) -> list[int]:
    """How many status polls the delivery monitor made for each of these orders."""
    polls = []
    for order_id in order_ids:
        output = workflow_output(f"{order_id}:monitor")
        if output and isinstance(output.get("polls"), int):
            polls.append(output["polls"])
    return polls
