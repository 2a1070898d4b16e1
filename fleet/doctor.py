"""`fleet doctor`: proves every hop works (invocation, pub/sub, workflow, tracing)."""

import json
import sys
import time

import httpx

from contracts.diagnostics import DoctorReport, HopResult
from fleet import console, topology
from fleet.api_tokens import bearer
from fleet.provision.progress import Progress, progress

ZIPKIN_WAIT_S = 30.0  # sidecars batch spans for a few seconds before sending them


def _print_hop(hop: HopResult) -> None:
    mark = console.paint("✓", "green") if hop.ok else console.paint("✗", "red")
    print(f"  {mark} {hop.hop}: {hop.detail}")


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


def _spans_hop(started_ms: int) -> HopResult:
    expected = {app.app_id for app in topology.APPS}
    try:
        missing = _wait_for_spans(expected, started_ms)
    except httpx.HTTPError as error:
        return HopResult(
            hop="zipkin", ok=False, detail=f"{topology.ZIPKIN_URL} unreachable: {error}"
        )
    if missing:
        return HopResult(
            hop="zipkin spans", ok=False, detail=f"no spans yet from {', '.join(sorted(missing))}"
        )
    detail = f"all {len(expected)} apps reported spans for this run"
    return HopResult(hop="zipkin spans", ok=True, detail=detail)


def diagnose(shown: Progress) -> DoctorReport:
    """Every hop's result, the API and the workflow first; it stops at the first that fails."""
    shown.phase("running the diagnostic workflow through the orchestrator")
    started_ms = int(time.time() * 1000)
    try:
        response = httpx.post(
            f"{topology.API_URL}/diagnostics/doctor", headers=bearer(), timeout=90.0
        )
    except httpx.HTTPError as error:
        detail = f"{topology.API_URL} unreachable: {error}"
        return DoctorReport(
            probe_id="", hops=[HopResult(hop="orchestrator API", ok=False, detail=detail)]
        )
    if response.status_code != 200:
        detail = f"HTTP {response.status_code}: {response.text}"
        return DoctorReport(
            probe_id="", hops=[HopResult(hop="diagnostic workflow", ok=False, detail=detail)]
        )
    report = DoctorReport.model_validate(response.json())
    workflow = HopResult(
        hop="workflow fleet_doctor", ok=True, detail=f"completed (instance {report.probe_id})"
    )
    shown.phase("waiting for every app's spans in Zipkin")
    spans = _spans_hop(started_ms)
    return DoctorReport(probe_id=report.probe_id, hops=[workflow, *report.hops, spans])


def run_doctor(*, as_json: bool = False) -> bool:
    # With --json, stdout carries only the report: the progress goes to stderr.
    with progress("doctor", sys.stderr if as_json else None) as shown:
        report = diagnose(shown)
    if as_json:
        print(json.dumps({"ok": report.ok, **report.model_dump(mode="json")}, indent=2))
    else:
        for hop in report.hops:
            _print_hop(hop)
    return report.ok


def cmd_doctor(as_json: bool = False) -> int:
    ok = run_doctor(as_json=as_json)
    if not as_json:
        print(
            console.paint("doctor: every hop works", "green")
            if ok
            else console.paint(
                "doctor: some hops failed (see above; `fleet logs NAME` shows a process log)", "red"
            )
        )
    return 0 if ok else 1
