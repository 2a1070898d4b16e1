"""Activities of the diagnostic workflow. They report failures as results, never raise,
so the doctor can say exactly which hop broke."""

import json
from typing import Any

from dapr.ext.workflow import WorkflowActivityContext

from contracts.diagnostics import (
    PING_METHOD,
    PROBE_EVENT_TYPE,
    RECEIPT_METHOD,
    HopResult,
    PingReply,
    Probe,
    ProbeReceipt,
)
from contracts.topics import DIAGNOSTICS, PUBSUB, STRUCTURED_MODE_METADATA
from orchestrator.activities.dapr_client import dapr


def ping_service(ctx: WorkflowActivityContext, request: dict[str, Any]) -> dict[str, Any]:
    app_id = request["app_id"]
    hop = f"invoke {app_id}.{PING_METHOD}"
    try:
        response = dapr().invoke_method(
            app_id,
            PING_METHOD,
            data=json.dumps({"probe_id": request["probe_id"]}),
            content_type="application/json",
            http_verb="POST",
        )
        reply = PingReply.model_validate_json(response.data)
    except Exception as error:  # a diagnostic reports every failure, whatever its type
        return HopResult(hop=hop, ok=False, detail=f"{type(error).__name__}: {error}").model_dump()
    ok = reply.app_id == app_id and reply.probe_id == request["probe_id"]
    return HopResult(hop=hop, ok=ok, detail=f"answered by {reply.app_id}").model_dump()


def publish_probe(ctx: WorkflowActivityContext, probe_input: dict[str, Any]) -> dict[str, Any]:
    probe = Probe.model_validate(probe_input)
    hop = f"publish {PROBE_EVENT_TYPE} on {DIAGNOSTICS}"
    try:
        dapr().publish_event(
            PUBSUB,
            DIAGNOSTICS,
            data=probe.model_dump_json(),
            data_content_type="application/json",
            publish_metadata={
                **STRUCTURED_MODE_METADATA,
                "cloudevent.type": PROBE_EVENT_TYPE,
                "cloudevent.id": probe.probe_id,
            },
        )
    except Exception as error:  # a diagnostic reports every failure, whatever its type
        return HopResult(hop=hop, ok=False, detail=f"{type(error).__name__}: {error}").model_dump()
    return HopResult(hop=hop, ok=True, detail="accepted by the Kafka pub/sub").model_dump()


def check_receipt(ctx: WorkflowActivityContext, probe_input: dict[str, Any]) -> dict[str, Any]:
    probe = Probe.model_validate(probe_input)
    hop = "notifications received the probe"
    try:
        response = dapr().invoke_method(
            "notifications",
            RECEIPT_METHOD,
            data=probe.model_dump_json(),
            content_type="application/json",
            http_verb="POST",
        )
        receipt = ProbeReceipt.model_validate_json(response.data)
    except Exception as error:  # a diagnostic reports every failure, whatever its type
        return HopResult(hop=hop, ok=False, detail=f"{type(error).__name__}: {error}").model_dump()
    detail = f"at {receipt.received_at}" if receipt.received else "not received yet"
    return HopResult(hop=hop, ok=receipt.received, detail=detail).model_dump()
