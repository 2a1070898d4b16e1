"""The runtime issue's acceptance, on the real fleet."""

import json
import os
import signal
import subprocess
import sys

import httpx

from fleet import topology
from fleet.doctor import run_doctor
from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec
from fleet.secrets import sidecar_headers
from tests.e2e.fleet_client import auth, wait_for


def _fleet_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_doctor_proves_invocation_pubsub_workflow_and_tracing(fleet: list[ProcessSpec]) -> None:
    assert run_doctor()


def test_status_lists_every_process_healthy_with_pid_and_ports(fleet: list[ProcessSpec]) -> None:
    result = _fleet_cli("status", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    expected = {"kafka", "zipkin", "sentry", "placement", "scheduler", "keeper"}
    for app in topology.APPS:
        expected |= {app.app_id, app.sidecar_name}
    assert set(rows) == expected
    for row in rows.values():
        assert row["state"] == "healthy"
        assert row["pid"] > 0
        assert row["ports"] or row["kind"] == "runner"


def test_logs_shows_a_sidecars_log(fleet: list[ProcessSpec]) -> None:
    result = _fleet_cli("logs", "payment-dapr", "-n", "200")
    assert result.returncode == 0
    assert "dapr initialized" in result.stdout.lower()


def test_a_dead_app_shows_as_down_and_up_restarts_only_it(fleet: list[ProcessSpec]) -> None:
    victim = state.alive_pid("shipping")
    assert victim is not None
    state.hold("shipping", 120)  # the keeper would restart it at once
    os.kill(victim, signal.SIGKILL)
    supervisor.reap_children()
    result = _fleet_cli("status", "--json")
    assert result.returncode == 3
    states = {row["name"]: row["state"] for row in json.loads(result.stdout)}
    assert states["shipping"] == "down"
    assert states["shipping-dapr"] in {"healthy", "unhealthy"}

    assert supervisor.up(fleet, announce=False) == ["shipping"]
    state.release("shipping")
    assert run_doctor()


def test_the_keeper_restarts_a_killed_sidecar_by_itself(fleet: list[ProcessSpec]) -> None:
    victim = state.alive_pid("payment-dapr")
    assert victim is not None
    os.killpg(victim, signal.SIGKILL)
    [spec] = [s for s in fleet if s.name == "payment-dapr"]
    wait_for(
        lambda: state.alive_pid(spec.name) not in (None, victim) and spec.health(),
        timeout=90,
        what="the keeper to bring payment-dapr back",
    )
    assert run_doctor()


def _workflow_status(instance_id: str) -> str:
    response = httpx.get(
        f"http://127.0.0.1:{topology.ORCHESTRATOR.dapr_http_port}"
        f"/v1.0/workflows/dapr/{instance_id}",
        headers=sidecar_headers("orchestrator"),
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["runtimeStatus"])


def test_state_survives_down_and_up(fleet: list[ProcessSpec]) -> None:
    response = httpx.post(f"{topology.API_URL}/diagnostics/doctor", headers=auth(), timeout=90)
    assert response.status_code == 200, response.text
    probe_id = response.json()["probe_id"]
    assert _workflow_status(probe_id) == "COMPLETED"

    assert supervisor.down(fleet, announce=False) == []
    supervisor.up(fleet, announce=False)

    assert _workflow_status(probe_id) == "COMPLETED"
    receipt = httpx.post(
        f"http://127.0.0.1:{topology.NOTIFICATIONS.dapr_http_port}"
        "/v1.0/invoke/notifications/method/diagnostics.receipt",
        json={"probe_id": probe_id},
        headers=sidecar_headers("notifications"),
        timeout=10,
    ).json()
    assert receipt["received"] is True
