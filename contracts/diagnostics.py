"""Messages of the diagnostic path that `fleet doctor` drives through every hop."""

from datetime import datetime
from typing import Final

from pydantic import BaseModel, Field

PING_METHOD: Final = "diagnostics.ping"
RECEIPT_METHOD: Final = "diagnostics.receipt"
PROBE_EVENT_TYPE: Final = "fleet.diagnostics.probe.v1"
DOCTOR_WORKFLOW: Final = "fleet_doctor"


class PingReply(BaseModel):
    app_id: str
    probe_id: str | None
    answered_at: datetime


class Probe(BaseModel):
    probe_id: str = Field(min_length=1, max_length=100)


class ProbeReceipt(BaseModel):
    probe_id: str
    received: bool
    received_at: datetime | None = None


class HopResult(BaseModel):
    hop: str
    ok: bool
    detail: str


class DoctorReport(BaseModel):
    probe_id: str
    hops: list[HopResult]

    @property
    def ok(self) -> bool:
        return all(hop.ok for hop in self.hops)
