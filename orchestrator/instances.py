"""Which workflow instance runs an order now.

An order's workflow instance id is its order id, unless the runtime broke that instance
and the order goes on under a recovery instance (orchestrator/recovery.py). Everything
that addresses an order's workflow (reads, cancel, approvals, nudges) asks here; the
composition root points the lookup at the read model, where recoveries are recorded for
every replica to see.
"""

from collections.abc import Callable

_RECOVERY = ":recovery-"


def recovery_instance_id(order_id: str, attempt: int) -> str:
    return f"{order_id}{_RECOVERY}{attempt}"


def is_recovery(instance_id: str) -> bool:
    return _RECOVERY in instance_id


def _unrecovered(order_id: str) -> str | None:
    return None


_lookup: Callable[[str], str | None] = _unrecovered


def use(lookup: Callable[[str], str | None]) -> None:
    global _lookup
    _lookup = lookup


def current(instance_id: str) -> str:
    """The instance that carries this order on (the id itself for anything not recovered)."""
    return _lookup(instance_id) or instance_id
