"""Retry policies: transient faults are retried; business outcomes are results, not errors."""

from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, RetryPolicy, TaskFailedError, when_any

from orchestrator.workflows.nudges import Nudges

# A step before the shipment gives up after about 75 s of backoff (0.5, 1, 2, 4, 8, then
# 15 s four times) plus its attempts, and the order unwinds. That outlasts what a service
# pause does to the callers (components/resiliency.yaml): 10 s invocation timeouts, then a
# circuit breaker open for 15 s and half-open for one request; the chaos suite pauses a
# service for 15 s. A longer outage unwinds orders that have not shipped: nothing is
# lost, the stock is released and any charge refunded, and the customer can order again.
STEP_RETRY = RetryPolicy(
    first_retry_interval=timedelta(milliseconds=500),
    max_number_of_attempts=10,
    backoff_coefficient=2.0,
    max_retry_interval=timedelta(seconds=15),
)

# Compensations and announcements must eventually succeed: retried by policy, then again
# after a pause, for as long as it takes (the undo of a charge is not optional, and an
# order's events are its record).
COMPENSATION_RETRY = RetryPolicy(
    first_retry_interval=timedelta(seconds=1),
    max_number_of_attempts=10,
    backoff_coefficient=2.0,
    max_retry_interval=timedelta(seconds=30),
)
COMPENSATION_PAUSE = timedelta(seconds=30)


def until_success(
    ctx: DaprWorkflowContext,
    activity: Callable[..., Any],
    activity_input: Any,
    nudges: Nudges | None = None,
) -> Generator[Any, Any, Any]:
    """Runs the activity until it succeeds: when the retry policy gives up, waits on a
    durable timer and starts over. A nudge (workflows/nudges.py) issues it again."""
    while True:
        task = ctx.call_activity(activity, input=activity_input, retry_policy=COMPENSATION_RETRY)
        try:
            if nudges is None:
                return (yield task)
            winner = yield when_any([task, nudges.waiter])
            if winner is nudges.waiter:
                nudges.renew()
                continue
            return task.get_result()
        except TaskFailedError:
            yield ctx.create_timer(COMPENSATION_PAUSE)
