"""The business paths recorded for replay, and how each is driven on a running fleet.

Orders go in through the fleet's front door (`POST /orders`, `POST /orders/bulk`),
approvals through `POST /orders/{id}/approval` (which publishes to `order-approvals`).
Two paths need a policy the running fleet may not have been started with (a short approval
timeout, a short delivery deadline): those orders are started on the orchestrator's
sidecar directly, with the policy in their input, exactly as the API starts any order
(settings travel in the workflow input), so the fleet needs no restart.

A cancel must arrive while a given step is in flight. Approval and charge (a flaky card's
charge is retried for a second or more) hold still long enough; quote, reserve and ship take tens of
milliseconds, so the recorder raises the cancel the moment the step's activity appears in
the history and checks where it landed, trying again with a new order when it missed.
Each path checks only the outcome and the step it is about, so the recorder keeps working
when steps are added elsewhere.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dapr.ext.workflow._durabletask.internal import protos as pb

from contracts.approvals import CANCEL_EVENT
from contracts.orders import OrderRequest, OrderStatus, Step
from orchestrator.orders import ORDER_WORKFLOW
from orchestrator.workflows.inputs import OrderPolicy, OrderWorkflowInput
from replay.fleet import Fleet, RecorderError, poll

TERMINAL = {s.value for s in OrderStatus if s.is_terminal}
# How long one order may take: delivery alone is a few shipping steps (2 s each locally).
ORDER_TIMEOUT_S = 180.0


class Missed(Exception):
    """A timed step (a cancel racing an activity) landed elsewhere: try a new order."""


@dataclass(frozen=True)
class Root:
    """A finished workflow instance to record, with its children."""

    instance_id: str
    role: str  # "order" or "bulk": the file name of the root's history


@dataclass(frozen=True)
class Skus:
    plain: str  # cheap, plenty of stock
    expensive: str  # two of them reach the approval threshold
    scarce: str  # one in stock
    many: tuple[str, ...]  # for an order with many lines (a longer reserve step)


@dataclass
class Session:
    """What the drivers share: the fleet, a tag that makes this run's ids unique, SKUs."""

    fleet: Fleet
    tag: str
    skus: Skus
    started: list[str] = field(default_factory=list)  # every instance placed, for the watcher
    on_start: Callable[[str], None] = lambda _: None

    def order_id(self, path: str, attempt: int) -> str:
        suffix = f"-{attempt}" if attempt > 1 else ""
        return f"rpl-{self.tag}-{path.replace('_', '-')}{suffix}"

    def order(
        self,
        order_id: str,
        *,
        items: list[tuple[str, int]],
        token: str = "tok_visa",
        country: str = "DE",
    ) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "customer_id": f"cust-{self.tag}",
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
            "shipping_address": {
                "name": "Replay Recorder",
                "line1": "1 Harbour Way",
                "city": "Hamburg",
                "postal_code": "20095",
                "country": country,
            },
            "payment_token": token,
        }

    def place(self, order: dict[str, Any]) -> str:
        self.on_start(order["order_id"])
        self.fleet.place(order)
        return str(order["order_id"])

    def start_with_policy(self, order: dict[str, Any], policy: OrderPolicy) -> str:
        self.on_start(order["order_id"])
        workflow_input = OrderWorkflowInput(order=OrderRequest.model_validate(order), policy=policy)
        self.fleet.start_workflow(
            ORDER_WORKFLOW, order["order_id"], workflow_input.model_dump(mode="json")
        )
        return str(order["order_id"])

    # ---- waiting

    def finished(self, order_id: str) -> dict[str, Any]:
        """Waits until the workflow itself has completed (not only its custom status)."""
        poll(
            lambda: _completed(self.fleet.history(order_id)),
            timeout=ORDER_TIMEOUT_S,
            what=f"workflow {order_id} to complete",
            every=0.2,
        )
        view = self.fleet.order(order_id)
        if view is None:
            raise RecorderError(f"order {order_id} finished but GET /orders/{order_id} is 404")
        return view

    def awaiting_approval(self, order_id: str) -> None:
        """Until the order waits at its approval: listed AWAITING_APPROVAL (set before the
        request is published) and its approval timeout created (it waits from then on),
        so that a decision or cancel arrives at the wait, never before it."""

        def waiting() -> bool:
            view = self.fleet.order(order_id)
            if view and view["status"] in TERMINAL:
                raise RecorderError(
                    f"order {order_id} ended {view['status']} without waiting for approval: "
                    "is the fleet's APPROVAL_THRESHOLD above 1200.00?"
                )
            if not (view and view["status"] == OrderStatus.AWAITING_APPROVAL.value):
                return False
            return _has_durable_timer(self.fleet.history(order_id) or [])

        poll(waiting, timeout=60, what=f"order {order_id} to await approval", every=0.1)

    def when_history(
        self, order_id: str, condition: Callable[[list[pb.HistoryEvent]], bool], what: str
    ) -> None:
        """Polls the history as fast as the sidecar answers (a step lasts milliseconds)."""
        poll(
            lambda: condition(self.fleet.history(order_id) or []),
            timeout=60,
            what=what,
            every=0.001,
        )

    def cancel_now(self, order_id: str) -> None:
        """Raises the cancel straight on the workflow (what `POST .../cancel` does after
        its checks), so it arrives within a step of a few milliseconds."""
        self.fleet.raise_event(order_id, CANCEL_EVENT, {"reason": "replay recorder: cancel"})


def _completed(events: list[pb.HistoryEvent] | None) -> bool:
    return any(e.HasField("executionCompleted") for e in events or [])


def _has_durable_timer(events: list[pb.HistoryEvent]) -> bool:
    return any(
        e.HasField("timerCreated") and e.timerCreated.HasField("createTimer") for e in events
    )


def _scheduled(name: str) -> Callable[[list[pb.HistoryEvent]], bool]:
    return lambda events: any(
        e.HasField("taskScheduled") and e.taskScheduled.name == name for e in events
    )


def steps(view: dict[str, Any]) -> list[str]:
    return [str(record["step"]) for record in view.get("history", [])]


def expect_status(view: dict[str, Any], status: OrderStatus) -> None:
    if view["status"] != status.value:
        raise RecorderError(
            f"order {view['order_id']} ended {view['status']} ({view.get('failure_reason')}), "
            f"expected {status.value}; steps {steps(view)}"
        )


def expect_cancelled_at(view: dict[str, Any], step: Step) -> None:
    """The cancel won while `step` was in flight: the last step before unwinding."""
    if view["status"] != OrderStatus.CANCELLED.value:
        raise Missed(f"the cancel came too late: the order ended {view['status']}")
    before = [s for s in steps(view) if s not in (Step.COMPENSATE.value, "cancelled")]
    landed = before[-1] if before else None
    if landed != step.value:
        raise Missed(f"the cancel landed at {landed!r}, not {step.value!r} (steps {steps(view)})")


# ---- the paths


def _completed_path(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)]))
    expect_status(s.finished(order_id), OrderStatus.COMPLETED)
    return Root(order_id, "order")


def _declined(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)], token="tok_decline"))
    expect_status(s.finished(order_id), OrderStatus.COMPENSATED)
    return Root(order_id, "order")


def _undeliverable(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)], country="ZZ"))
    view = s.finished(order_id)
    expect_status(view, OrderStatus.COMPENSATED)
    if Step.SHIP.value not in steps(view):
        raise RecorderError(f"order {order_id} never reached the shipment: {steps(view)}")
    return Root(order_id, "order")


def _flaky(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)], token="tok_flaky"))
    expect_status(s.finished(order_id), OrderStatus.COMPLETED)
    return Root(order_id, "order")


def _rejected_stock(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.scarce, 5)]))
    expect_status(s.finished(order_id), OrderStatus.REJECTED)
    return Root(order_id, "order")


def _approved(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.expensive, 2)]))
    s.awaiting_approval(order_id)
    s.fleet.decide(order_id, True, "recorded for replay")
    expect_status(s.finished(order_id), OrderStatus.COMPLETED)
    return Root(order_id, "order")


def _approval_rejected(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.expensive, 2)]))
    s.awaiting_approval(order_id)
    s.fleet.decide(order_id, False, "recorded for replay")
    expect_status(s.finished(order_id), OrderStatus.REJECTED)
    return Root(order_id, "order")


def _approval_timeout(s: Session, order_id: str) -> Root:
    order = s.order(order_id, items=[(s.skus.expensive, 2)])
    s.start_with_policy(order, OrderPolicy(approval_timeout_s=3))
    view = s.finished(order_id)
    expect_status(view, OrderStatus.CANCELLED)
    if "timed out" not in (view.get("failure_reason") or ""):
        raise RecorderError(f"order {order_id} was cancelled, not timed out: {view}")
    return Root(order_id, "order")


def _delivery_overdue(s: Session, order_id: str) -> Root:
    order = s.order(order_id, items=[(s.skus.plain, 1)])
    s.start_with_policy(order, OrderPolicy(delivery_deadline_s=1))
    expect_status(s.finished(order_id), OrderStatus.DELIVERY_OVERDUE)
    return Root(order_id, "order")


def _cancel_quote(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)]))
    s.cancel_now(order_id)
    expect_cancelled_at(s.finished(order_id), Step.QUOTE)
    return Root(order_id, "order")


def _cancel_reserve(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(sku, 1) for sku in s.skus.many]))
    s.when_history(order_id, _scheduled("reserve_line"), f"{order_id} reserving")
    s.cancel_now(order_id)
    expect_cancelled_at(s.finished(order_id), Step.RESERVE)
    return Root(order_id, "order")


def _cancel_approval(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.expensive, 2)]))
    s.awaiting_approval(order_id)
    s.fleet.cancel(order_id, "recorded for replay")
    expect_cancelled_at(s.finished(order_id), Step.APPROVAL)
    return Root(order_id, "order")


def _cancel_charge(s: Session, order_id: str) -> Root:
    # A flaky card's charge is retried inside the activity (service invocation's
    # resiliency policy) for a second or more: the cancel arrives meanwhile.
    s.place(s.order(order_id, items=[(s.skus.plain, 1)], token="tok_flaky"))
    s.when_history(order_id, _scheduled("charge_payment"), f"{order_id} charging")
    s.cancel_now(order_id)
    expect_cancelled_at(s.finished(order_id), Step.CHARGE)
    return Root(order_id, "order")


def _cancel_ship(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.plain, 1)]))
    s.when_history(order_id, _scheduled("create_shipment"), f"{order_id} shipping")
    s.cancel_now(order_id)
    expect_cancelled_at(s.finished(order_id), Step.SHIP)
    return Root(order_id, "order")


def _fraud_screened(s: Session, order_id: str) -> Root:
    s.place(s.order(order_id, items=[(s.skus.expensive, 1)]))  # over the screening threshold
    expect_status(s.finished(order_id), OrderStatus.COMPLETED)
    if not _scheduled("screen_payment")(s.fleet.history(order_id) or []):
        raise RecorderError(
            f"order {order_id} was not screened: is FRAUD_CHECK_THRESHOLD above 600?"
        )
    return Root(order_id, "order")


def _fraud_declined(s: Session, order_id: str) -> Root:
    order = {**s.order(order_id, items=[(s.skus.expensive, 1)]), "customer_id": f"fraud-{s.tag}"}
    s.place(order)
    view = s.finished(order_id)
    expect_status(view, OrderStatus.REJECTED)
    if "fraud check" not in (view.get("failure_reason") or ""):
        raise RecorderError(f"order {order_id} was rejected, not by the fraud check: {view}")
    return Root(order_id, "order")


BULK_ORDERS = 6  # one more than the default window of 5, so the window slides


def _bulk(s: Session, bulk_id: str) -> Root:
    orders = [
        s.order(f"{bulk_id}-{n}", items=[(s.skus.plain, 1)], token="tok_visa")
        for n in range(1, BULK_ORDERS)
    ]
    orders.append(
        s.order(f"{bulk_id}-{BULK_ORDERS}", items=[(s.skus.plain, 1)], token="tok_decline")
    )
    s.on_start(bulk_id)
    s.fleet.place_bulk(bulk_id, orders)
    poll(
        lambda: _completed(s.fleet.history(bulk_id)),
        timeout=ORDER_TIMEOUT_S * 2,
        what=f"bulk {bulk_id} to complete",
        every=0.2,
    )
    view = s.fleet.bulk(bulk_id) or {}
    statuses = [r["status"] for r in view.get("results") or []]
    expected = [OrderStatus.COMPLETED.value] * (BULK_ORDERS - 1) + [OrderStatus.COMPENSATED.value]
    if statuses != expected:
        raise RecorderError(f"bulk {bulk_id} ended with {statuses}, expected {expected}")
    return Root(bulk_id, "bulk")


@dataclass(frozen=True)
class Scenario:
    path: str
    what: str
    drive: Callable[[Session, str], Root]
    attempts: int = 1  # tries with fresh orders when a timed step may miss


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "completed",
        "paid, shipped, delivered; the monitor continues as new per look",
        _completed_path,
    ),
    Scenario("compensated_declined", "card declined: stock released", _declined),
    Scenario(
        "compensated_undeliverable", "country ZZ after payment: refund, release", _undeliverable
    ),
    Scenario(
        "flaky_card",
        "the card fails transiently twice, the charge is retried, then pays once",
        _flaky,
    ),
    Scenario(
        "rejected_stock", "quantity beyond stock: rejected, nothing left reserved", _rejected_stock
    ),
    Scenario("approval_approved", "waits for approval, approved, completes", _approved),
    Scenario("approval_rejected", "waits for approval, rejected, released", _approval_rejected),
    Scenario(
        "approval_timeout", "waits for approval until its 3 s timeout: cancelled", _approval_timeout
    ),
    Scenario("fraud_screened", "600.00: screened for fraud, clear, completes", _fraud_screened),
    Scenario(
        "fraud_declined",
        "a flagged customer's 600.00: declined by the fraud check",
        _fraud_declined,
    ),
    Scenario("delivery_overdue", "not delivered within a 1 s deadline", _delivery_overdue),
    Scenario("cancel_quote", "cancelled while quoting", _cancel_quote, attempts=6),
    Scenario("cancel_reserve", "cancelled while reserving 8 lines", _cancel_reserve, attempts=8),
    Scenario("cancel_approval", "cancelled while awaiting approval", _cancel_approval),
    Scenario(
        "cancel_charge",
        "cancelled while a flaky card's charge is retried",
        _cancel_charge,
        attempts=3,
    ),
    Scenario(
        "cancel_ship", "cancelled while the shipment is being created", _cancel_ship, attempts=12
    ),
    Scenario("bulk", f"{BULK_ORDERS} orders as child workflows, 5 at a time, one declined", _bulk),
)
PATHS = tuple(s.path for s in SCENARIOS)
