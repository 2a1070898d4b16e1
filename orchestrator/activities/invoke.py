"""Service invocation for activities: JSON in, JSON out, faults raised for retry policies.

Activities await `invoke_async`: they wait on the network, and on the worker's event loop
many wait at once without holding one of its few threads (cpu_count + 4) each. The API
and the read side, which are not on that loop, use `invoke`.
"""

import json
from typing import Any

from pydantic import BaseModel

from orchestrator.activities.dapr_client import async_dapr, dapr


def _body(request: BaseModel | dict[str, Any]) -> str:
    return request.model_dump_json() if isinstance(request, BaseModel) else json.dumps(request)


def _reply(data: bytes | None) -> dict[str, Any]:
    reply: dict[str, Any] = json.loads(data or b"{}")
    return reply


def invoke(app_id: str, method: str, request: BaseModel | dict[str, Any]) -> dict[str, Any]:
    response = dapr().invoke_method(
        app_id, method, data=_body(request), content_type="application/json", http_verb="POST"
    )
    return _reply(response.data)


async def invoke_async(
    app_id: str, method: str, request: BaseModel | dict[str, Any]
) -> dict[str, Any]:
    response = await async_dapr().invoke_method(
        app_id, method, data=_body(request), content_type="application/json", http_verb="POST"
    )
    return _reply(response.data)
