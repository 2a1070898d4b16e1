"""Registers a typed service method on the gRPC app: validate, trace, handle, reply.

Every method of every service goes through here, so each gets the same treatment: the
request is validated against its contract (only field paths are logged: a message may
echo a payment token), the work runs in a span that continues the caller's trace from
daprd's metadata, and a business failure tags that span as failed.
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.ext.grpc import App
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from contracts.commands import ServiceError
from observability.tracing import context_from, mark_failed, span

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


def _invalid(name: str, error: ValidationError) -> ValueError:
    fields = [".".join(map(str, e["loc"])) for e in error.errors()]
    logger.warning("invalid %s request: fields %s", name, fields)
    details: list[dict[str, object]] = [
        {"loc": e["loc"], "type": e["type"]} for e in error.errors()
    ]
    return ValueError(
        ServiceError(error=f"invalid {name} request", details=details).model_dump_json()
    )


def register_method(
    app: App,
    name: str,
    model: type[M],
    handle: Callable[[M], R],
    *,
    span_name: str,
    attributes: Callable[[M], dict[str, Any]] = lambda _: {},
    failure: Callable[[R], str | None] = lambda _: None,
) -> None:
    def invoked(request: InvokeMethodRequest) -> str:
        try:
            command = model.model_validate_json(request.data or b"{}")
        except ValidationError as error:
            raise _invalid(name, error) from None
        order_id = getattr(command, "order_id", None)
        with span(
            span_name,
            parent=context_from(request.metadata),
            kind=SpanKind.SERVER,
            order_id=order_id,
            **attributes(command),
        ) as current:
            result = handle(command)
            if (reason := failure(result)) is not None:
                mark_failed(current, reason)
        return result.model_dump_json()

    app.method(name)(invoked)
