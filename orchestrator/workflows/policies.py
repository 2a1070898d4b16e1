"""Retry policies: transient faults are retried; business outcomes are results, not errors."""

from datetime import timedelta

from dapr.ext.workflow import RetryPolicy

STEP_RETRY = RetryPolicy(
    first_retry_interval=timedelta(milliseconds=500),
    max_number_of_attempts=6,
    backoff_coefficient=2.0,
    max_retry_interval=timedelta(seconds=10),
)

# Compensations must eventually succeed: retried by policy, then again after a pause,
# for as long as it takes (the undo of a charge is not optional).
COMPENSATION_RETRY = RetryPolicy(
    first_retry_interval=timedelta(seconds=1),
    max_number_of_attempts=10,
    backoff_coefficient=2.0,
    max_retry_interval=timedelta(seconds=30),
)
COMPENSATION_PAUSE = timedelta(seconds=30)
