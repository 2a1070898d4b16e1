"""The drill's sequence: baseline fleet, orders at every wait point, rolling upgrade, verdict."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts.orders import OrderStatus
from fleet import topology
from fleet.paths import REPO_ROOT, home_dir
from orchestrator.workflows.patches import FRAUD_CHECK
from replay.fleet import Fleet, Target
from replay.scenarios import Session, Skus
from upgrade import cohorts as c
from upgrade.baseline import PATCHES_FILE, Baseline, patch_names
from upgrade.fleet import DrillFleet

# What the new path of a patch runs that the old one never does (for orders it concerns).
NEW_PATH_ACTIVITY = {FRAUD_CHECK: "screen_payment"}
PER_WAIT_POINT = 3
FRAUD_CUSTOMER = "fraud-upgrade-drill"  # the payment sandbox declines its screening


@dataclass
class Outcome:
    cohort: c.Cohort
    statuses: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class Drill:
    baseline: Baseline
    profile: topology.Profile
    say: Callable[[str], None]
    fleet: DrillFleet = field(init=False)
    cohorts: list[c.Cohort] = field(default_factory=list)
    upgrade_s: list[float] = field(default_factory=list)
    marker: str | None = None  # the new path's activity, when the baseline lacks the patch
    screenable: str = ""  # a SKU whose orders the fraud check screens, without approval

    def __post_init__(self) -> None:
        self.fleet = DrillFleet(self.profile, self.baseline.tree)
        new_patches = patch_names(REPO_ROOT / PATCHES_FILE) - self.baseline.patches()
        if FRAUD_CHECK in new_patches:
            self.marker = NEW_PATH_ACTIVITY[FRAUD_CHECK]

    # ---- the sequence

    def run(self) -> list[Outcome]:
        self.say(f"starting the fleet ({self.profile.replicas} replica(s) of each app), "
                 f"orchestrator on {self.baseline.commit[:12]}")  # fmt: skip
        began = self.fleet.start()
        self.say(f"  fleet healthy in {began:.0f}s")
        api = Fleet(Target.local(home_dir()))
        try:
            tag = secrets.token_hex(3)
            s = Session(fleet=api, tag=tag, skus=self._skus(api, tag))
            self._on_baseline(s)
            self._upgrade(s)
            self._on_current(s)
            return [self._verdict(s, cohort) for cohort in self.cohorts]
        finally:
            api.close()

    def _cohort(
        self, key: str, wait_point: str, started_on: str, expected: OrderStatus
    ) -> c.Cohort:
        screened = None if self.marker is None else started_on == "current"
        cohort = c.Cohort(key, wait_point, started_on, expected, screened=screened)
        self.cohorts.append(cohort)
        return cohort

    def _place(
        self, s: Session, cohort: c.Cohort, n: int, make: Callable[[str], dict[str, Any]]
    ) -> list[str]:
        for i in range(1, n + 1):
            order_id = f"upg-{s.tag}-{cohort.key}-{i}"
            cohort.orders.append(s.place(make(order_id)))
        return cohort.orders

    def _on_baseline(self, s: Session) -> None:
        control = self._cohort(
            "control", "none: done before the upgrade", "baseline", OrderStatus.COMPLETED
        )
        self._place(s, control, 1, lambda o: s.order(o, items=[(self.screenable, 1)]))
        s.finished(control.orders[0])
        if self.marker and c.scheduled(c.history(s, control.orders[0]), self.marker):
            raise c.DrillError(
                f"an order placed on the baseline ran {self.marker}: the orchestrator is "
                "not running the baseline's code"
            )

        approval = self._cohort("approval", "awaiting approval", "baseline", OrderStatus.COMPLETED)
        self._place(
            s, approval, PER_WAIT_POINT, lambda o: s.order(o, items=[(s.skus.expensive, 2)])
        )
        c.wait_all(s, approval.orders, lambda o: c.awaiting_approval(s, o), "awaiting approval")
        for order_id in approval.orders:
            s.awaiting_approval(order_id)  # and its timeout timer is created
        self.say(f"  {len(approval.orders)} orders await approval")

        delivery = self._cohort("delivery", "mid-delivery", "baseline", OrderStatus.COMPLETED)
        self._place(s, delivery, PER_WAIT_POINT, lambda o: s.order(o, items=[(s.skus.plain, 1)]))
        c.wait_all(s, delivery.orders, lambda o: c.in_delivery(s, o), "in delivery")
        self.say(f"  {len(delivery.orders)} orders are mid-delivery")

        # Held between its refund and its stock's release: shipping is paused while the
        # orders reach their shipment (to an undeliverable country), inventory from then on.
        unwinding = self._cohort(
            "unwinding", "between compensation steps", "baseline", OrderStatus.COMPENSATED
        )
        self.fleet.pause(topology.SHIPPING)
        self._place(s, unwinding, PER_WAIT_POINT,
                    lambda o: s.order(o, items=[(s.skus.plain, 1)], country="ZZ"))  # fmt: skip
        c.wait_all(s, unwinding.orders, lambda o: c.shipping(s, o), "shipping")
        self.fleet.pause(topology.INVENTORY)
        self.fleet.resume(topology.SHIPPING)
        c.wait_all(s, unwinding.orders, lambda o: c.awaiting_release(s, o), "refunded, releasing")
        self.say(f"  {len(unwinding.orders)} orders are refunded and wait on their stock's release")

    def _upgrade(self, s: Session) -> None:
        at_wait_point = {
            "awaiting approval": lambda o: c.awaiting_approval(s, o),
            "mid-delivery": lambda o: c.in_delivery(s, o),
            "between compensation steps": lambda o: c.awaiting_release(s, o),
        }
        for cohort in self.cohorts:
            check = at_wait_point.get(cohort.wait_point)
            if check:
                cohort.at_upgrade = sum(1 for order_id in cohort.orders if check(order_id))
        for name in self.fleet.orchestrators:
            away = self.fleet.upgrade(name)
            self.upgrade_s.append(away)
            self.say(f"  {name} upgraded to the current code ({away:.1f}s away)")
        self.fleet.resume(topology.INVENTORY)

    def _on_current(self, s: Session) -> None:
        for order_id in self._of("awaiting approval", "baseline").orders:
            s.fleet.decide(order_id, True, "upgrade drill")
        approval = self._cohort(
            "new-approval", "awaiting approval", "current", OrderStatus.COMPLETED
        )
        self._place(s, approval, 1, lambda o: s.order(o, items=[(s.skus.expensive, 2)]))
        s.awaiting_approval(approval.orders[0])
        s.fleet.decide(approval.orders[0], True, "upgrade drill")
        plain = self._cohort("new", "none: a new order", "current", OrderStatus.COMPLETED)
        self._place(s, plain, 1, lambda o: s.order(o, items=[(self.screenable, 1)]))
        if self.marker:
            fraud = self._cohort(
                "new-flagged",
                "none: a new order, flagged customer",
                "current",
                OrderStatus.REJECTED,
            )
            flagged = {"customer_id": FRAUD_CUSTOMER}
            self._place(
                s, fraud, 1, lambda o: {**s.order(o, items=[(self.screenable, 1)]), **flagged}
            )

    def _of(self, wait_point: str, started_on: str) -> c.Cohort:
        return next(
            k for k in self.cohorts if (k.wait_point, k.started_on) == (wait_point, started_on)
        )

    # ---- the verdict

    def _verdict(self, s: Session, cohort: c.Cohort) -> Outcome:
        outcome = Outcome(cohort)
        for order_id in cohort.orders:
            view = s.finished(order_id)
            outcome.statuses[order_id] = view["status"]
            if view["status"] != cohort.expected.value:
                outcome.problems.append(
                    f"{order_id} ended {view['status']} ({view.get('failure_reason')}), "
                    f"expected {cohort.expected.value}"
                )
            expected_net = view["total"] if cohort.expected == OrderStatus.COMPLETED else "0"
            charged = c.net(s, order_id)
            if charged != Decimal(str(expected_net or "0")):
                outcome.problems.append(f"{order_id} net charge {charged}, expected {expected_net}")
            if self.marker and cohort.screened is not None:
                ran = c.scheduled(c.history(s, order_id), self.marker) > 0
                if ran != cohort.screened:
                    path = "new" if ran else "old"
                    outcome.problems.append(f"{order_id} took the {path} path ({self.marker} "
                                            f"{'ran' if ran else 'never ran'})")  # fmt: skip
        return outcome

    def _skus(self, api: Fleet, tag: str) -> Skus:
        base = f"UPG-{tag.upper()}"
        # Over the fraud check's threshold (500.00), under the approval's (1000.00).
        self.screenable = api.new_sku(f"{base}-F", stock=100, price="550.00")
        plain = api.new_sku(f"{base}-P", stock=1000, price="12.50")
        expensive = api.new_sku(f"{base}-X", stock=100, price="600.00")
        return Skus(plain=plain, expensive=expensive, scarce=plain, many=())  # no scarce path
