"""Service invocation for activities: JSON in, JSON out, faults raised for retry policies."""

import json
from typing import Any

from pydantic import BaseModel

from orchestrator.activities.dapr_client import dapr


def invoke(app_id: str, method: str, request: BaseModel | dict[str, Any]) -> dict[str, Any]:
    body = request.model_dump_json() if isinstance(request, BaseModel) else json.dumps(request)
    response = dapr().invoke_method(
        app_id, method, data=body, content_type="application/json", http_verb="POST"
    )
    reply: dict[str, Any] = json.loads(response.data or b"{}")
    return reply
