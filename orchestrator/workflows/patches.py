"""Workflow patches: changes to workflow code that orders already in flight must not see.

A running order replays its history through the code of whatever release picks it up.
A change that would make it ask for different actions (a new activity, a new wait, a
reordered step) goes behind `ctx.is_patched(NAME)`: an order that started on the old
code replays with False and keeps its old path; an order that starts on the new code
records the patch in its history and takes the new path for good. A patch can go once
no order that started before it can still be running (README, "Upgrading with orders in
flight").
"""

from typing import Final

# Every wait of an order and of its delivery monitor (publishes, compensations, the
# shipment status look) also wakes on the sweeper's nudge, not only the step waits.
NUDGE_EVERY_WAIT: Final = "nudge-every-wait"

# Orders at or above the policy's fraud_check_threshold are screened by payment
# (screen_payment) before the charge; a declined screening rejects the order. Asked only
# where that path parts from the old one (OrderFlow.charge, over the threshold), so an
# order in flight from before it, replayed past that point, keeps charging unscreened.
FRAUD_CHECK: Final = "fraud-check"

# The order workflow takes the delivery watch's first looks itself (monitor.INLINE_LOOKS)
# and starts the shipment monitor only for a delivery that takes longer. Asked when the
# order reaches delivery: one that had started its monitor before replays False there.
WATCH_IN_ORDER: Final = "watch-in-order"
