"""Wakes orders and delivery monitors that went quiet.

Dapr 1.18 can lose what a workflow waits for when a process dies at the wrong moment
(found by the chaos suite): a durable timer created as the scheduler died (a monitor
waited forever on its next look), or an activity's result while the sidecar's save
failed (an order waited forever on its shipment). Orders and monitors also wake on a
`nudge` event: an order issues its current step again (steps are idempotent), a monitor
looks at once. This sweeper nudges every started or running order whose last event is
older than `quiet_s`, and its monitor when it is in delivery, again at doubling intervals
(then every `LONGEST_GAP_S`) while it stays quiet. An order waiting for an approval is
nudged only once its deadline has passed (its timeout timer may be the one lost). A nudge
to a healthy order costs one extra call.

An order is also looked at once, `quiet_s` after its terminal event: the runtime can fail
an instance in the turn after it published the outcome (NonDeterminismError, chaos seed
245718875), which leaves the order FAILED although it ended; recovery carries it on.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from contracts.events import OrderEventType
from contracts.orders import TERMINAL_STATUSES, OrderStatus
from orchestrator.readmodel import ReadModel
from orchestrator.workflows.monitor import monitor_instance_id, workflow_time
from orchestrator.workflows.nudges import NUDGE_EVENT

logger = logging.getLogger(__name__)

IN_DELIVERY = (OrderEventType.SHIPMENT_CREATED.value, OrderEventType.SHIPPED.value)
# Started orders that announced nothing yet (quote and reserve come first) and running ones.
SWEPT = (OrderStatus.PENDING.value, OrderStatus.RUNNING.value)
FINISHED = sorted(status.value for status in TERMINAL_STATUSES)


LONGEST_GAP_S = 900.0
SWEEPER_LEASE = "timer-sweeper"


def nudge_due(quiet_for_s: float, quiet_s: float, every_s: float) -> bool:
    """Whether a sweep every `every_s` should nudge an order quiet for `quiet_for_s`: at
    `quiet_s`, twice that, 4 times, ... up to `LONGEST_GAP_S`, then every `LONGEST_GAP_S` (an order
    stuck for good is not nudged every sweep forever)."""
    mark = quiet_s
    while mark < LONGEST_GAP_S:
        if quiet_for_s - every_s < mark <= quiet_for_s:
            return True
        mark *= 2
    return quiet_for_s >= mark and (quiet_for_s - mark) % LONGEST_GAP_S < every_s


def quiet_orders(
    read_model: ReadModel, now: datetime, quiet_s: float, every_s: float
) -> list[tuple[str, bool]]:
    """(order id, in delivery) of the started, running or overdue orders due a nudge."""
    # Event times come from the workflow's clock (naive UTC); compare on that clock.
    clock = workflow_time(now)
    due = []
    for status in SWEPT:
        for row in read_model.list(status=status, limit=1000):
            quiet_for_s = (clock - workflow_time(row.updated_at)).total_seconds()
            if nudge_due(quiet_for_s, quiet_s, every_s):
                due.append((row.order_id, row.last_event in IN_DELIVERY))
    for order_id, expires_at in read_model.awaiting_approval():
        # Waiting for a person is not quiet; still waiting after the deadline is.
        overdue_s = (clock - workflow_time(expires_at)).total_seconds()
        if nudge_due(overdue_s, quiet_s, every_s):
            due.append((order_id, False))
    return due


def freshly_finished(
    read_model: ReadModel, now: datetime, quiet_s: float, every_s: float
) -> list[str]:
    """Orders whose terminal event is about `quiet_s` old: the sweep that sees them
    first. The window is half a sweep longer than the sweep interval, so that a late
    sweep leaves no gap (an order looked at twice costs one more read)."""
    clock = workflow_time(now)
    end = clock - timedelta(seconds=quiet_s)
    start = end - timedelta(seconds=1.5 * every_s)
    return read_model.finished_between(start.isoformat(), end.isoformat(), FINISHED)


def sweep(
    read_model: ReadModel,
    raise_event: Callable[[str, str, dict[str, str]], None],
    *,
    now: datetime,
    quiet_s: float,
    every_s: float,
    recover: Callable[[str], bool] = lambda order_id: False,
) -> int:
    """Nudges the quiet orders (and their monitors); an order whose workflow the runtime
    broke is carried on by a recovery instance instead (orchestrator/recovery.py)."""
    nudged = 0
    for order_id, in_delivery in quiet_orders(read_model, now, quiet_s, every_s):
        try:
            if recover(order_id):
                continue
        except Exception:  # the sidecar may be away: the next round looks again
            logger.debug("could not look at %s", order_id, extra={"order_id": order_id})
        targets = [order_id, monitor_instance_id(order_id)] if in_delivery else [order_id]
        for instance_id in targets:
            try:
                raise_event(instance_id, NUDGE_EVENT, {})
                nudged += 1
            except Exception:  # an instance that just finished cannot take the event: fine
                logger.debug("could not nudge %s", instance_id, extra={"order_id": order_id})
    for order_id in freshly_finished(read_model, now, quiet_s, every_s):
        try:
            recover(order_id)
        except Exception:  # the sidecar may be away: such an order stays as it is
            logger.debug("could not look at %s", order_id, extra={"order_id": order_id})
    if nudged:
        logger.warning("nudged %d quiet workflow instances", nudged)
    return nudged


def start_sweeper(
    read_model: ReadModel,
    raise_event: Callable[[str, str, dict[str, str]], None],
    *,
    every_s: float = 15.0,
    quiet_s: float = 30.0,
    recover: Callable[[str], bool] = lambda order_id: False,
) -> threading.Event:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                # Once for the whole fleet: with several replicas on one database, only the
                # holder of its lease sweeps (a lease that dies with its replica's session,
                # so another replica takes over at its next round).
                if not read_model.lead(SWEEPER_LEASE):
                    continue
                sweep(
                    read_model,
                    raise_event,
                    now=datetime.now(UTC),
                    quiet_s=quiet_s,
                    every_s=every_s,
                    recover=recover,
                )
            except Exception:
                logger.exception("the timer sweep failed; trying again next round")

    threading.Thread(target=loop, name="timer-sweeper", daemon=True).start()
    return stop
