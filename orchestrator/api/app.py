"""The public HTTP API. Endpoints are thin: they validate, then call the workflow client."""

import uuid
from collections.abc import Callable

from dapr.ext.workflow import DaprWorkflowClient, WorkflowStatus
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from contracts.diagnostics import DOCTOR_WORKFLOW, DoctorReport, Probe

DOCTOR_TIMEOUT_S = 60


def build_api(is_ready: Callable[[], bool], workflows: Callable[[], DaprWorkflowClient]) -> FastAPI:
    api = FastAPI(
        title="Order fleet",
        description="Durable, event-driven order processing on Dapr workflows.",
        version="0.1.0",
    )

    @api.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        ready = is_ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @api.post("/diagnostics/doctor", tags=["operations"])
    def doctor() -> DoctorReport:
        """Runs the diagnostic workflow through every hop and reports each one."""
        probe = Probe(probe_id=f"doctor-{uuid.uuid4().hex[:12]}")
        client = workflows()
        client.schedule_new_workflow(
            DOCTOR_WORKFLOW, input=probe.model_dump(), instance_id=probe.probe_id
        )
        state = client.wait_for_workflow_completion(
            probe.probe_id, timeout_in_seconds=DOCTOR_TIMEOUT_S
        )
        if state is None or state.runtime_status != WorkflowStatus.COMPLETED:
            status = state.runtime_status.name if state else "NOT FOUND"
            failure = state.failure_details.message if state and state.failure_details else ""
            raise HTTPException(503, f"diagnostic workflow ended {status} {failure}".strip())
        return DoctorReport.model_validate_json(state.serialized_output or "{}")

    return api
