import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.commands import CreateShipmentRequest, OrderRef, Shipment, ShipmentState
from contracts.orders import OrderLine, ShippingAddress
from services.shipping import domain
from services.shipping.handlers import Shipping, UnknownShipment
from tests.unit.fake_store import FakeStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


def _request(order_id: str, country: str = "DE") -> CreateShipmentRequest:
    address = ShippingAddress(
        name="Grace Hopper", line1="1 Harbor Way", city="Hamburg", postal_code="20095",
        country=country,
    )  # fmt: skip
    return CreateShipmentRequest(
        order_id=order_id, address=address, items=[OrderLine(sku="SKU-A", quantity=1)]
    )


def _shipping(clock: Clock | None = None) -> Shipping:
    return Shipping(FakeStore(), step_seconds=STEP, clock=clock or Clock())


def test_a_shipment_gets_a_label_and_an_id() -> None:
    shipment = _shipping().create(_request(_order_id()))

    assert shipment.state == ShipmentState.LABEL_CREATED
    assert shipment.shipment_id is not None and shipment.shipment_id.startswith("shp_")
    assert shipment.created_at == T0


def test_a_retried_create_returns_the_first_shipment() -> None:
    shipping = _shipping()
    order_id = _order_id()

    first = shipping.create(_request(order_id))
    again = shipping.create(_request(order_id))

    assert again == first


def test_concurrent_creates_of_one_order_make_one_shipment() -> None:
    shipping = Shipping(FakeStore(), step_seconds=STEP)
    order_id = _order_id()
    shipments: list[Shipment] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        shipments.append(shipping.create(_request(order_id)))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(shipments) == 8
    assert len({s.shipment_id for s in shipments}) == 1


def test_zz_is_undeliverable() -> None:
    shipping = _shipping()
    order_id = _order_id()

    shipment = shipping.create(_request(order_id, country="ZZ"))
    recorded = shipping.status(OrderRef(order_id=order_id))

    assert shipment.state == recorded.state == ShipmentState.UNDELIVERABLE
    assert shipment.reason == "cannot ship to country ZZ"
    assert shipment.shipment_id is None


def test_status_progresses_with_time() -> None:
    clock = Clock()
    shipping = _shipping(clock)
    order = OrderRef(order_id=_order_id())
    shipping.create(_request(order.order_id))
    seen = []
    for elapsed in (0.0, 1.9, 2.0, 3.9, 4.0, 60.0):
        clock.now = T0 + timedelta(seconds=elapsed)
        seen.append(shipping.status(order).state)

    assert seen == [
        ShipmentState.LABEL_CREATED,
        ShipmentState.LABEL_CREATED,
        ShipmentState.IN_TRANSIT,
        ShipmentState.IN_TRANSIT,
        ShipmentState.DELIVERED,
        ShipmentState.DELIVERED,
    ]


def test_status_tells_when_the_shipment_will_change_next() -> None:
    clock = Clock()
    shipping = _shipping(clock)
    order = OrderRef(order_id=_order_id())
    created = shipping.create(_request(order.order_id))
    estimates = []
    for elapsed in (0.0, 2.5, 4.0):
        clock.now = T0 + timedelta(seconds=elapsed)
        estimates.append(shipping.status(order).next_update_at)

    assert created.next_update_at == T0 + timedelta(seconds=2)
    assert estimates == [T0 + timedelta(seconds=2), T0 + timedelta(seconds=4), None]


def test_the_progression_follows_the_configured_step() -> None:
    later = T0 + timedelta(seconds=3)
    assert domain.state_at(T0, later, step_seconds=10.0) == ShipmentState.LABEL_CREATED
    assert domain.state_at(T0, later, step_seconds=1.0) == ShipmentState.DELIVERED


def test_the_status_of_an_unknown_order_is_a_clear_error() -> None:
    order_id = _order_id()
    with pytest.raises(UnknownShipment, match=order_id):
        _shipping().status(OrderRef(order_id=order_id))


def test_cancelling_in_transit_stops_the_shipment_for_good() -> None:
    clock = Clock()
    shipping = _shipping(clock)
    order = OrderRef(order_id=_order_id())
    created = shipping.create(_request(order.order_id))
    clock.advance(STEP + 0.5)

    cancelled = shipping.cancel(order)
    again = shipping.cancel(order)
    clock.advance(10 * STEP)

    assert cancelled.state == again.state == ShipmentState.CANCELLED
    assert cancelled.shipment_id == created.shipment_id
    assert shipping.status(order).state == ShipmentState.CANCELLED


def test_a_delivered_shipment_cannot_be_cancelled() -> None:
    clock = Clock()
    shipping = _shipping(clock)
    order = OrderRef(order_id=_order_id())
    shipping.create(_request(order.order_id))
    clock.advance(2 * STEP)

    assert shipping.cancel(order).state == ShipmentState.DELIVERED
    assert shipping.status(order).state == ShipmentState.DELIVERED


def test_a_create_after_its_cancel_creates_nothing() -> None:
    shipping = _shipping()
    order_id = _order_id()

    tombstone = shipping.cancel(OrderRef(order_id=order_id))
    late = shipping.create(_request(order_id))

    assert tombstone.state == late.state == ShipmentState.CANCELLED
    assert late.shipment_id is None


def test_cancelling_an_undeliverable_shipment_leaves_it_undeliverable() -> None:
    shipping = _shipping()
    order = OrderRef(order_id=_order_id())
    shipping.create(_request(order.order_id, country="ZZ"))

    assert shipping.cancel(order).state == ShipmentState.UNDELIVERABLE
