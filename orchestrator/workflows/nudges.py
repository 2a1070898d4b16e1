"""The sweeper's nudge, as a workflow waits for it.

Dapr 1.18 can lose what a workflow waits for when a process dies at the wrong moment: an
activity's result (its completion reaches the workflow before the retry that produced it
is recorded, and is dropped as stale), or a durable timer created as the scheduler died.
The orchestrator's sweeper then raises a `nudge` on orders that went quiet, and whatever
the workflow waits on also waits for the nudge: a nudged wait issues its activity again
(every activity is idempotent per order, so a repeat returns the first outcome).

A workflow keeps one waiter at a time and renews it once it fires: an event goes to the
oldest waiter of its name, so a waiter per wait would leave stale ones to swallow it.
"""

from dapr.ext.workflow import DaprWorkflowContext

NUDGE_EVENT = "nudge"


class Nudges:
    def __init__(self, ctx: DaprWorkflowContext) -> None:
        self._ctx = ctx
        self.waiter = ctx.wait_for_external_event(NUDGE_EVENT)

    def renew(self) -> None:
        """After the waiter fired: wait for the next nudge."""
        self.waiter = self._ctx.wait_for_external_event(NUDGE_EVENT)
