"""Deterministic bookkeeping inside the order workflow: custom status and event envelopes."""

import json
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext

from contracts.orders import OrderProgress, OrderStatus, StepRecord
from orchestrator.workflows.outbound import event_fields


class Progress:
    """Keeps the workflow's custom status current; `GET /orders/{id}` reads it."""

    def __init__(self, ctx: DaprWorkflowContext, trace_id: str | None) -> None:
        self._ctx = ctx
        self._state = OrderProgress(status=OrderStatus.RUNNING, trace_id=trace_id)
        self._sequence = 0

    @property
    def state(self) -> OrderProgress:
        return self._state

    def step(
        self, step: str, detail: str | None = None, *, status: OrderStatus | None = None
    ) -> None:
        self._state.step = step
        if status is not None:
            self._state.status = status
        self._state.history.append(
            StepRecord(step=step, at=self._ctx.current_utc_datetime, detail=detail)
        )
        self._publish_status()

    def finish(self, status: OrderStatus, reason: str | None = None) -> None:
        self._state.status = status
        self._state.failure_reason = reason
        self._state.history.append(
            StepRecord(step=status.value.lower(), at=self._ctx.current_utc_datetime, detail=reason)
        )
        self._publish_status()

    def set_total(self, total: Any) -> None:
        self._state.total = total

    def event_fields(self, status: OrderStatus | None = None) -> dict[str, Any]:
        """The common fields of the next order event (sequence numbers are gap-free)."""
        self._sequence += 1
        return event_fields(
            self._ctx.current_utc_datetime,
            self._sequence,
            status or self._state.status,
            self._state.trace_id,
        )

    @property
    def next_sequence(self) -> int:
        return self._sequence + 1

    def continue_sequence_at(self, next_sequence: int) -> None:
        """After a child workflow published events of this order, carry on after them."""
        self._sequence = next_sequence - 1

    def set_status(self, status: OrderStatus) -> None:
        self._state.status = status
        self._publish_status()

    def _publish_status(self) -> None:
        self._ctx.set_custom_status(json.dumps(self._state.model_dump(mode="json")))
