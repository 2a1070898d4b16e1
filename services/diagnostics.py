"""The diagnostic method every service app answers, used by `fleet doctor`."""

import json
import logging
from datetime import UTC, datetime

from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.ext.grpc import App

from contracts.diagnostics import PING_METHOD, PingReply

logger = logging.getLogger(__name__)


def register_ping(app: App, app_id: str) -> None:
    def ping(request: InvokeMethodRequest) -> str:
        probe = json.loads(request.data or b"{}").get("probe_id")
        logger.info("diagnostic ping answered", extra={"probe_id": probe})
        reply = PingReply(app_id=app_id, probe_id=probe, answered_at=datetime.now(UTC))
        return reply.model_dump_json()

    app.method(PING_METHOD)(ping)
