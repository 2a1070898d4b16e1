import uuid
from datetime import UTC, datetime

from contracts.notifications import CustomerRef, Notification, NotificationKind, notification_id
from services.notifications import handlers
from tests.unit.fake_store import FakeStore


def _notification(customer: str, kind: NotificationKind, order: str = "o-1") -> Notification:
    return Notification(
        notification_id=notification_id(order, kind),
        customer_id=customer,
        order_id=order,
        kind=kind,
        message=f"{kind.value} for {order}",
        occurred_at=datetime.now(UTC),
    )


def test_history_keeps_each_customers_notifications_in_order() -> None:
    store = FakeStore()
    customer = f"c-{uuid.uuid4().hex[:6]}"
    for kind in (NotificationKind.ORDER_CONFIRMED, NotificationKind.SHIPPED):
        assert handlers.record(store, _notification(customer, kind))
    handlers.record(store, _notification("someone-else", NotificationKind.SHIPPED))

    history = handlers.history(store, CustomerRef(customer_id=customer))
    assert [n.kind for n in history.notifications] == [
        NotificationKind.ORDER_CONFIRMED,
        NotificationKind.SHIPPED,
    ]


def test_a_redelivered_notification_is_recorded_once() -> None:
    store = FakeStore()
    first = _notification("c-1", NotificationKind.DELIVERED)
    assert handlers.record(store, first)
    assert not handlers.record(store, first)
    assert len(handlers.history(store, CustomerRef(customer_id="c-1")).notifications) == 1


def test_an_unknown_customer_has_an_empty_history() -> None:
    assert handlers.history(FakeStore(), CustomerRef(customer_id="nobody")).notifications == []
