import json
import logging
import threading
import uuid
from decimal import Decimal

import pytest
from dapr.clients.grpc._request import InvokeMethodRequest

from contracts.commands import (
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    Method,
    OrderRef,
    ScreenRequest,
    ScreenResult,
    ScreenVerdict,
)
from services.payment.app import build_app
from services.payment.handlers import PaymentProviderUnavailable, Payments
from tests.unit.fake_store import FakeStore


def _order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


def _charge_request(order_id: str, token: str = "tok_visa", amount: str = "37.5") -> ChargeRequest:
    return ChargeRequest(
        order_id=order_id, customer_id="c-1", amount=Decimal(amount), payment_token=token
    )


def _kinds(payments: Payments, order_id: str) -> list[str]:
    return [e.kind.value for e in payments.ledger(OrderRef(order_id=order_id)).entries]


def test_a_visa_card_is_charged_the_amount_in_cents() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()

    result = payments.charge(_charge_request(order_id))

    assert result.outcome == ChargeOutcome.CHARGED
    assert result.amount == Decimal("37.50")
    assert result.charge_id
    ledger = payments.ledger(OrderRef(order_id=order_id))
    assert [(e.kind.value, e.amount, e.entry_id) for e in ledger.entries] == [
        ("charge", Decimal("37.50"), result.charge_id)
    ]
    assert ledger.net == Decimal("37.50")


def test_retried_charge_never_charges_twice() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()

    first = payments.charge(_charge_request(order_id))
    retried = payments.charge(_charge_request(order_id, amount="99.00"))

    assert retried == first
    assert _kinds(payments, order_id) == ["charge"]


def test_concurrent_charges_of_one_order_charge_once() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()
    results: list[ChargeResult] = []
    start = threading.Barrier(8)

    def charge() -> None:
        start.wait()
        results.append(payments.charge(_charge_request(order_id)))

    threads = [threading.Thread(target=charge) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 8
    assert len({r.charge_id for r in results}) == 1
    assert _kinds(payments, order_id) == ["charge"]


def test_a_declined_card_is_declined_and_retries_get_the_same_answer() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()

    first = payments.charge(_charge_request(order_id, token="tok_decline"))
    # Even a retry with a good card repeats the recorded decision.
    retried = payments.charge(_charge_request(order_id, token="tok_visa"))

    assert first.outcome == retried.outcome == ChargeOutcome.DECLINED
    assert first.reason == retried.reason == "card declined"
    assert first.charge_id is None
    assert _kinds(payments, order_id) == []


def test_an_unknown_token_is_declined() -> None:
    result = Payments(FakeStore()).charge(_charge_request(_order_id(), token="tok_mystery"))
    assert result.outcome == ChargeOutcome.DECLINED
    assert result.reason == "unknown payment token"


def test_flaky_token_fails_then_pays_exactly_once() -> None:
    payments = Payments(FakeStore(), flaky_failures=2)
    order_id = _order_id()
    request = _charge_request(order_id, token="tok_flaky")

    for _ in range(2):
        with pytest.raises(PaymentProviderUnavailable, match="retry"):
            payments.charge(request)
        assert _kinds(payments, order_id) == []
    paid = payments.charge(request)
    again = payments.charge(request)

    assert paid.outcome == ChargeOutcome.CHARGED
    assert again == paid
    assert _kinds(payments, order_id) == ["charge"]


@pytest.mark.parametrize("failures", [0, 3])
def test_the_flaky_token_fails_as_often_as_configured(failures: int) -> None:
    payments = Payments(FakeStore(), flaky_failures=failures)
    request = _charge_request(_order_id(), token="tok_flaky")
    raised = 0
    while True:
        try:
            result = payments.charge(request)
            break
        except PaymentProviderUnavailable:
            raised += 1
    assert raised == failures
    assert result.outcome == ChargeOutcome.CHARGED


def test_flaky_failures_are_counted_per_order() -> None:
    payments = Payments(FakeStore(), flaky_failures=1)
    first, second = _order_id(), _order_id()
    with pytest.raises(PaymentProviderUnavailable):
        payments.charge(_charge_request(first, token="tok_flaky"))
    with pytest.raises(PaymentProviderUnavailable):
        payments.charge(_charge_request(second, token="tok_flaky"))


def test_refund_never_exceeds_the_charge() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()
    payments.charge(_charge_request(order_id, amount="12.50"))

    first = payments.refund(OrderRef(order_id=order_id))
    second = payments.refund(OrderRef(order_id=order_id))  # its first answer was lost

    assert (first.refunded, first.net) == (Decimal("12.50"), Decimal("0.00"))
    # What the ledger holds, not what this call moved: the event it feeds says 12.50 too.
    assert (second.refunded, second.net) == (Decimal("12.50"), Decimal("0.00"))
    assert _kinds(payments, order_id) == ["charge", "refund"]


def test_concurrent_refunds_refund_once() -> None:
    payments = Payments(FakeStore())
    order_id = _order_id()
    payments.charge(_charge_request(order_id, amount="20.00"))
    refunded: list[Decimal] = []
    start = threading.Barrier(6)

    def refund() -> None:
        start.wait()
        refunded.append(payments.refund(OrderRef(order_id=order_id)).refunded)

    threads = [threading.Thread(target=refund) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert refunded == [Decimal("20.00")] * 6, "every caller reports the one refund"
    assert _kinds(payments, order_id) == ["charge", "refund"]
    assert payments.ledger(OrderRef(order_id=order_id)).net == Decimal("0.00")


def test_refunding_an_order_never_charged_refunds_nothing_and_only_closes_it() -> None:
    store = FakeStore()
    payments = Payments(store)
    declined = _order_id()
    payments.charge(_charge_request(declined, token="tok_decline"))

    never = payments.refund(OrderRef(order_id=_order_id()))
    after_decline = payments.refund(OrderRef(order_id=declined))

    assert never.refunded == after_decline.refunded == Decimal("0.00")
    assert payments.ledger(OrderRef(order_id=declined)).entries == []
    writes = store.transactions
    payments.refund(OrderRef(order_id=declined))
    assert store.transactions == writes, "refunding a closed ledger again writes nothing"


def test_the_ledger_of_an_unknown_order_is_empty() -> None:
    ledger = Payments(FakeStore()).ledger(OrderRef(order_id=_order_id()))
    assert ledger.entries == []
    assert ledger.net == Decimal("0.00")


def test_the_payment_token_is_never_stored_or_logged_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    payments = Payments(store)
    secret = f"tok_{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)

    payments.charge(_charge_request(_order_id(), token=secret))
    payments.charge(_charge_request(_order_id(), token="tok_visa"))

    stored = [store.get(key)[0] or "" for key in store.stored_keys()]
    assert not any(secret in value or "tok_visa" in value for value in stored)
    assert secret not in caplog.text and "tok_visa" not in caplog.text


@pytest.mark.parametrize(("method", "amount"), [(Method.CHARGE, "-1"), (Method.SCREEN, "0")])
def test_an_invalid_payment_request_is_an_error_that_does_not_echo_the_token(
    caplog: pytest.LogCaptureFixture, method: str, amount: str
) -> None:
    secret = f"tok_{uuid.uuid4().hex}"
    body = json.dumps(
        {"order_id": "o-1", "customer_id": "c", "amount": amount, "payment_token": secret}
    ).encode()
    invoked = build_app(FakeStore(), 2)._servicer._invoke_method_map[method]

    with pytest.raises(ValueError, match="amount") as raised:
        invoked(InvokeMethodRequest(body, "application/json"))

    assert secret not in str(raised.value)
    assert secret not in caplog.text


def test_a_charge_arriving_after_the_refund_is_declined_not_taken() -> None:
    payments = Payments(FakeStore())
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    assert payments.refund(OrderRef(order_id=order_id)).refunded == 0
    late = payments.charge(
        ChargeRequest(
            order_id=order_id, customer_id="c", amount=Decimal("10.00"), payment_token="tok_visa"
        )
    )
    assert late.outcome == ChargeOutcome.DECLINED
    assert payments.ledger(OrderRef(order_id=order_id)).entries == []


# ---- fraud screening


def _screen_request(customer_id: str = "c-1", amount: str = "600.00") -> ScreenRequest:
    return ScreenRequest(
        order_id=_order_id(),
        customer_id=customer_id,
        amount=Decimal(amount),
        payment_token="tok_visa",
    )


@pytest.mark.parametrize(
    ("customer_id", "amount", "reason"),
    [
        ("c-1", "600.00", None),
        ("c-1", "20000.00", None),  # the limit itself is allowed
        ("fraud-c-1", "600.00", "customer on the sandbox fraud list"),
        ("fraud-c-1", "25000.00", "customer on the sandbox fraud list"),  # the list first
        ("c-1", "20000.01", "amount over the screening limit of 20000.00"),
        ("c-fraud-1", "600.00", None),  # a prefix, not anywhere in the id
    ],
)
def test_the_sandbox_screening_rules(customer_id: str, amount: str, reason: str | None) -> None:
    result = Payments(FakeStore()).screen(_screen_request(customer_id, amount))
    assert result.verdict == (ScreenVerdict.CLEAR if reason is None else ScreenVerdict.DECLINED)
    assert result.reason == reason


def test_screening_stores_nothing_and_repeats_its_verdict() -> None:
    store = FakeStore()
    payments = Payments(store)
    request = _screen_request("fraud-c-1")
    first = payments.screen(request)
    assert [payments.screen(request) for _ in range(3)] == [first] * 3
    assert store.stored_keys() == []
    assert payments.ledger(OrderRef(order_id=request.order_id)).entries == []


def test_the_screen_method_is_registered_and_answers_json() -> None:
    invoked = build_app(FakeStore(), 2)._servicer._invoke_method_map[Method.SCREEN]
    body = _screen_request("fraud-c-1").model_dump_json().encode()
    reply = invoked(InvokeMethodRequest(body, "application/json"))
    assert isinstance(reply, str)  # register_method answers the result as JSON text
    assert ScreenResult.model_validate_json(reply).verdict == ScreenVerdict.DECLINED
