"""`fleet doctor`: proves every hop works (invocation, pub/sub, workflow, tracing)."""

import time

import httpx

from contracts.diagnostics import DoctorReport
from fleet import console, topology

ZIPKIN_WAIT_S = 30.0  # sidecars batch spans for a few seconds before sending them


def _print_hop(ok: bool, hop: str, detail: str) -> None:
    mark = console.paint("✓", "green") if ok else console.paint("✗", "red")
    print(f"  {mark} {hop}: {detail}")


def has_spans_since(service: str, since_ms: int) -> bool:
    """True when Zipkin holds a span of `service` that started after `since_ms`."""
    now_ms = int(time.time() * 1000)
    response = httpx.get(
        f"{topology.ZIPKIN_URL}/api/v2/traces",
        params={
            "serviceName": service,
            "endTs": now_ms,
            "lookback": now_ms - since_ms,
            "limit": 1,
        },
        timeout=5.0,
    )
    if response.status_code == 400:  # Zipkin has never heard of this service
        return False
    response.raise_for_status()
    return bool(response.json())


def _wait_for_spans(expected: set[str], since_ms: int) -> set[str]:
    """Returns the app ids with no span from this run when the wait ends."""
    deadline = time.monotonic() + ZIPKIN_WAIT_S
    missing = {app for app in expected if not has_spans_since(app, since_ms)}
    while missing and time.monotonic() < deadline:
        time.sleep(0.5)
        missing = {app for app in missing if not has_spans_since(app, since_ms)}
    return missing


def run_doctor() -> bool:
    print("Running the diagnostic workflow through the orchestrator …")
    started_ms = int(time.time() * 1000)
    try:
        response = httpx.post(f"{topology.API_URL}/diagnostics/doctor", timeout=90.0)
    except httpx.HTTPError as error:
        _print_hop(False, "orchestrator API", f"{topology.API_URL} unreachable: {error}")
        return False
    if response.status_code != 200:
        _print_hop(False, "diagnostic workflow", f"HTTP {response.status_code}: {response.text}")
        return False
    report = DoctorReport.model_validate(response.json())
    _print_hop(True, "workflow fleet_doctor", f"completed (instance {report.probe_id})")
    for hop in report.hops:
        _print_hop(hop.ok, hop.hop, hop.detail)
    expected = {app.app_id for app in topology.APPS}
    try:
        missing = _wait_for_spans(expected, started_ms)
    except httpx.HTTPError as error:
        _print_hop(False, "zipkin", f"{topology.ZIPKIN_URL} unreachable: {error}")
        return False
    if missing:
        _print_hop(False, "zipkin spans", f"no spans yet from {', '.join(sorted(missing))}")
    else:
        _print_hop(True, "zipkin spans", f"all {len(expected)} apps reported spans for this run")
    return report.ok and not missing


def cmd_doctor() -> int:
    ok = run_doctor()
    print(
        console.paint("doctor: every hop works", "green")
        if ok
        else console.paint(
            "doctor: some hops failed (see above; `fleet logs NAME` shows a process log)", "red"
        )
    )
    return 0 if ok else 1
