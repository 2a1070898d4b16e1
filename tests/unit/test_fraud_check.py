"""The fraud check before the charge (patches.FRAUD_CHECK), driven with a fake context.

The screening handler is the payment service's own (`Payments.screen`), so these tests run
the sandbox rules the fleet runs: a `fraud-` customer or an amount over 20000.00 declines.
"""

from typing import Any

import pytest

from contracts.approvals import CANCEL_EVENT
from contracts.commands import ScreenRequest
from contracts.orders import OrderStatus
from orchestrator.instances import recovery_instance_id
from orchestrator.settings import OrchestratorSettings
from orchestrator.workflows import order as order_module
from orchestrator.workflows.patches import FRAUD_CHECK, NUDGE_EVERY_WAIT
from services.payment.handlers import Payments
from tests.unit.fake_store import FakeStore
from tests.unit.test_order_workflow import ORDER, _events, _handlers
from tests.unit.workflow_driver import FakeContext, Run, drive

FLAGGED = {**ORDER, "customer_id": "fraud-c-1"}


def _quoted(total: str) -> Any:
    def quote(req: dict[str, Any]) -> dict[str, Any]:
        line = {"sku": "SKU-A", "name": "Sku-A", "quantity": 1, "unit_price": total,
                "line_total": total}  # fmt: skip
        return {"order_id": req["order_id"], "ok": True, "lines": [line], "total": total}

    return quote


def _screen(request: dict[str, Any]) -> dict[str, Any]:
    result = Payments(FakeStore()).screen(ScreenRequest.model_validate(request))
    return result.model_dump(mode="json")


def _run(
    order: dict[str, Any] = ORDER,
    *,
    total: str = "600.00",
    policy: dict[str, Any] | None = None,
    context: FakeContext | None = None,
    **kwargs: Any,
) -> Run:
    return drive(
        order_module.order_workflow,
        {"order": order, "trace_id": None, "policy": policy or {}},
        _handlers(quote_order=_quoted(total), screen_payment=_screen),
        module=order_module,
        context=context,
        **kwargs,
    )


def test_a_flagged_customer_over_the_threshold_is_rejected_before_any_charge() -> None:
    run = _run(FLAGGED)
    assert run.output["status"] == OrderStatus.REJECTED
    assert run.output["failure_reason"] == "fraud check: customer on the sandbox fraud list"
    assert run.work() == ["quote_order", "reserve_line", "reserve_line", "screen_payment",
                          "release_stock"]  # fmt: skip
    assert "charge_payment" not in run.names() and "refund_payment" not in run.names()
    assert _events(run) == ["accepted", "stock_reserved", "stock_released", "rejected"]
    assert [n["kind"] for n in run.published_notifications()] == []


def test_an_amount_over_the_screening_limit_is_rejected() -> None:
    run = _run(total="20000.01", policy={"approval_threshold": "50000.00"})
    assert run.output["status"] == OrderStatus.REJECTED
    assert run.output["failure_reason"].startswith("fraud check: amount over the screening")
    assert "charge_payment" not in run.names()


def test_a_clear_screening_is_followed_by_the_charge_and_the_order_completes() -> None:
    run = _run()
    assert run.work() == ["quote_order", "reserve_line", "reserve_line", "screen_payment",
                          "charge_payment", "create_shipment", "commit_stock",
                          "shipment_status"]  # fmt: skip
    screened = next(c for c in run.calls if c.name == "screen_payment")
    assert screened.input == {"order_id": "o-1", "customer_id": "c-1", "amount": "600.00",
                              "currency": "EUR", "payment_token": "tok_visa"}  # fmt: skip
    assert screened.retry_policy is not None
    assert run.output["status"] == OrderStatus.COMPLETED
    assert FRAUD_CHECK in run.context.patches_asked


def test_the_threshold_is_inclusive_and_comes_from_the_order_policy() -> None:
    at = _run(total="100.00", policy={"fraud_check_threshold": "100.00"})
    below = _run(total="99.99", policy={"fraud_check_threshold": "100.00"})
    assert "screen_payment" in at.names()
    assert "screen_payment" not in below.names()


def test_an_order_under_the_threshold_is_not_screened() -> None:
    run = _run(FLAGGED, total="499.99")
    assert "screen_payment" not in run.names()
    assert run.output["status"] == OrderStatus.COMPLETED


def test_the_patch_is_asked_before_the_first_step_so_an_order_keeps_its_starting_path() -> None:
    # An order waiting for its approval during an upgrade replays its first turn: the
    # patch must be asked there (False), not when it reaches the charge (live, so True).
    run = _run(FLAGGED)
    assert run.context.patches_asked[:2] == [NUDGE_EVERY_WAIT, FRAUD_CHECK]


def test_an_order_that_started_before_the_patch_is_charged_unscreened() -> None:
    run = _run(FLAGGED, context=FakeContext(unpatched=frozenset({FRAUD_CHECK})))
    assert FRAUD_CHECK in run.context.patches_asked
    assert "screen_payment" not in run.names()
    assert run.work()[3] == "charge_payment"
    assert run.output["status"] == OrderStatus.COMPLETED


def test_a_cancel_during_the_screening_releases_the_stock_and_charges_nothing() -> None:
    run = _run(interrupts={"screen_payment": CANCEL_EVENT})
    assert run.output["status"] == OrderStatus.CANCELLED
    assert run.work()[-1] == "release_stock"
    assert "charge_payment" not in run.names() and "refund_payment" not in run.names()


def test_the_screening_shows_on_the_charge_step() -> None:
    run = _run()
    screening = [s for s in run.context.statuses if "fraud screening of 600.00 EUR" in s]
    assert screening, "the progress never showed the screening"


@pytest.mark.parametrize(("raw", "expected"), [(None, "500.00"), ("750", "750.00")])
def test_the_threshold_is_read_from_fraud_check_threshold(
    monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: str
) -> None:
    monkeypatch.setenv("APP_PORT", "5001")
    monkeypatch.setenv("APP_API_TOKEN", "t")
    monkeypatch.setenv("READ_MODEL_PATH", "/tmp/orders.db")
    if raw is None:
        monkeypatch.delenv("FRAUD_CHECK_THRESHOLD", raising=False)
    else:
        monkeypatch.setenv("FRAUD_CHECK_THRESHOLD", raw)
    policy = OrchestratorSettings.from_env().policy
    assert str(policy.fraud_check_threshold) == expected


def test_a_declined_recovery_instance_refunds_what_its_first_instance_charged() -> None:
    # The first instance started before the patch and may have charged unscreened.
    context = FakeContext(instance_id=recovery_instance_id("o-1", 1))
    run = _run(FLAGGED, context=context)
    assert run.output["status"] == OrderStatus.REJECTED
    assert run.work()[-2:] == ["refund_payment", "release_stock"]
