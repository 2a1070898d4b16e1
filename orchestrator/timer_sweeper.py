"""Wakes delivery monitors that went quiet.

A durable timer the sidecar created just as the scheduler died can be lost (found by the
chaos suite: a monitor waited forever on its 1-second poll). A monitor also wakes on a
`nudge` event, so this sweeper nudges the monitor of every order still in delivery whose
last event is older than `quiet_s`. A nudge to a healthy monitor costs one extra poll.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from contracts.events import OrderEventType
from orchestrator.readmodel import ReadModel
from orchestrator.workflows.monitor import NUDGE_EVENT, monitor_instance_id

logger = logging.getLogger(__name__)

IN_DELIVERY = (OrderEventType.SHIPMENT_CREATED.value, OrderEventType.SHIPPED.value)


def quiet_deliveries(read_model: ReadModel, now: datetime, quiet_s: float) -> list[str]:
    cutoff = (now - timedelta(seconds=quiet_s)).isoformat()
    return [
        row.order_id
        for row in read_model.list(status="RUNNING", limit=1000)
        if row.last_event in IN_DELIVERY and row.updated_at.isoformat() < cutoff
    ]


def sweep(
    read_model: ReadModel,
    raise_event: Callable[[str, str, dict[str, str]], None],
    *,
    now: datetime,
    quiet_s: float,
) -> int:
    nudged = 0
    for order_id in quiet_deliveries(read_model, now, quiet_s):
        try:
            raise_event(monitor_instance_id(order_id), NUDGE_EVENT, {})
            nudged += 1
        except Exception:  # a monitor that just finished cannot take the event: fine
            logger.debug("could not nudge the monitor", extra={"order_id": order_id})
    if nudged:
        logger.warning("nudged %d quiet delivery monitors", nudged)
    return nudged


def start_sweeper(
    read_model: ReadModel,
    raise_event: Callable[[str, str, dict[str, str]], None],
    *,
    every_s: float = 15.0,
    quiet_s: float = 30.0,
) -> threading.Event:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                sweep(read_model, raise_event, now=datetime.now(UTC), quiet_s=quiet_s)
            except Exception:
                logger.exception("the timer sweep failed; trying again next round")

    threading.Thread(target=loop, name="timer-sweeper", daemon=True).start()
    return stop
