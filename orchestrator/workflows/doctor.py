"""The diagnostic workflow: drives one probe through every hop of the fleet."""

from collections.abc import Generator
from datetime import timedelta
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, when_all

from contracts.diagnostics import DoctorReport, HopResult, Probe
from orchestrator.activities import diagnostics as act

SERVICE_APPS = ("inventory", "payment", "shipping", "notifications")
RECEIPT_ATTEMPTS = 40
RECEIPT_POLL = timedelta(milliseconds=500)


def fleet_doctor(ctx: DaprWorkflowContext, probe_input: dict[str, Any]) -> Generator[Any, Any, Any]:
    probe = Probe.model_validate(probe_input)
    pings = [
        ctx.call_activity(act.ping_service, input={"app_id": app_id, "probe_id": probe.probe_id})
        for app_id in SERVICE_APPS
    ]
    hops = [HopResult.model_validate(result) for result in (yield when_all(pings))]
    published = HopResult.model_validate(
        (yield ctx.call_activity(act.publish_probe, input=probe.model_dump()))
    )
    hops.append(published)
    if published.ok:
        receipt = HopResult(hop="notifications received the probe", ok=False, detail="not yet")
        for _ in range(RECEIPT_ATTEMPTS):
            receipt = HopResult.model_validate(
                (yield ctx.call_activity(act.check_receipt, input=probe.model_dump()))
            )
            if receipt.ok:
                break
            yield ctx.create_timer(RECEIPT_POLL)
        hops.append(receipt)
    return DoctorReport(probe_id=probe.probe_id, hops=hops).model_dump(mode="json")
