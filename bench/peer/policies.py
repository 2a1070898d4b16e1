"""The fleet's retry policies (orchestrator/workflows/policies.py) in Temporal's terms.

Derived from the Dapr policy objects, not re-declared, so the two engines retry alike: a
step gives up after STEP_RETRY's attempts; an announcement or the stock commit goes on
for as long as it takes (the fleet: COMPENSATION_RETRY, then a pause, then again; here
the same backoff with no attempt limit).
"""

from datetime import timedelta

from dapr.ext.workflow import RetryPolicy as DaprRetryPolicy
from temporalio.common import RetryPolicy

from orchestrator.workflows.policies import COMPENSATION_RETRY, STEP_RETRY

# Temporal needs a bound on each attempt; Dapr has none. Longer than the sidecar's own
# invocation timeout (10 s, components/resiliency.yaml), so that one decides first.
ATTEMPT_TIMEOUT = timedelta(seconds=30)
UNLIMITED = 0  # Temporal's "no maximum" for maximum_attempts


def temporal_policy(policy: DaprRetryPolicy, *, unlimited: bool = False) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=policy.first_retry_interval,
        backoff_coefficient=policy.backoff_coefficient or 2.0,  # Dapr's default, too
        maximum_interval=policy.max_retry_interval,
        maximum_attempts=UNLIMITED if unlimited else policy.max_number_of_attempts,
    )


STEP = temporal_policy(STEP_RETRY)
UNTIL_SUCCESS = temporal_policy(COMPENSATION_RETRY, unlimited=True)
