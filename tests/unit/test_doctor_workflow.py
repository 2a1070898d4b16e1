from typing import Any

from orchestrator.workflows import doctor
from tests.unit.workflow_driver import drive


def _ok(hop: str) -> dict[str, Any]:
    return {"hop": hop, "ok": True, "detail": "fine"}


def test_reports_every_hop_when_all_work() -> None:
    run = drive(
        doctor.fleet_doctor,
        {"probe_id": "p1"},
        {
            "ping_service": lambda req: _ok(f"ping {req['app_id']}"),
            "publish_probe": lambda _: _ok("publish"),
            "check_receipt": lambda _: _ok("receipt"),
        },
        module=doctor,
    )
    assert run.names()[:4] == ["ping_service"] * 4
    assert {c.input["app_id"] for c in run.calls[:4]} == set(doctor.SERVICE_APPS)
    assert run.names()[4:] == ["publish_probe", "check_receipt"]
    assert all(hop["ok"] for hop in run.output["hops"])
    assert len(run.output["hops"]) == 6


def test_polls_for_the_receipt_on_durable_timers_until_it_arrives() -> None:
    answers = iter([False, False, True])
    run = drive(
        doctor.fleet_doctor,
        {"probe_id": "p2"},
        {
            "ping_service": lambda req: _ok("ping"),
            "publish_probe": lambda _: _ok("publish"),
            "check_receipt": lambda _: {"hop": "receipt", "ok": next(answers), "detail": ""},
        },
        module=doctor,
    )
    assert run.names().count("check_receipt") == 3
    assert len(run.timers) == 2
    assert run.output["hops"][-1]["ok"] is True


def test_gives_up_on_the_receipt_after_a_bounded_number_of_polls() -> None:
    run = drive(
        doctor.fleet_doctor,
        {"probe_id": "p3"},
        {
            "ping_service": lambda req: _ok("ping"),
            "publish_probe": lambda _: _ok("publish"),
            "check_receipt": lambda _: {"hop": "receipt", "ok": False, "detail": "no"},
        },
        module=doctor,
    )
    assert run.names().count("check_receipt") == doctor.RECEIPT_ATTEMPTS
    assert run.output["hops"][-1]["ok"] is False


def test_skips_the_receipt_when_publishing_failed() -> None:
    run = drive(
        doctor.fleet_doctor,
        {"probe_id": "p4"},
        {
            "ping_service": lambda req: _ok("ping"),
            "publish_probe": lambda _: {"hop": "publish", "ok": False, "detail": "broker down"},
        },
        module=doctor,
    )
    assert "check_receipt" not in run.names()
    assert run.output["hops"][-1] == {"hop": "publish", "ok": False, "detail": "broker down"}
