import json
import re
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from dapr.clients.grpc._request import InvokeMethodRequest

from contracts.commands import (
    Method,
    OrderSkus,
    QuoteRequest,
    ReservationOutcome,
    ReserveRequest,
    SkuRef,
    UpsertItem,
)
from contracts.orders import OrderLine
from services.inventory import catalog
from services.inventory.app import build_app
from services.inventory.handlers import Inventory
from tests.unit.fake_store import FakeStore


def _order_id() -> str:
    return f"o-{uuid.uuid4().hex[:12]}"


def _sku() -> str:
    return f"T-{uuid.uuid4().hex[:10].upper()}"


def _stocked(store: FakeStore, units: int, price: str = "12.50") -> str:
    sku = _sku()
    catalog.upsert_item(
        store, UpsertItem(sku=sku, name=f"Test {sku}", price=Decimal(price), stock=units)
    )
    return sku


def _levels(store: FakeStore, sku: str) -> tuple[int, int, int]:
    item = catalog.catalog_item(store, SkuRef(sku=sku))
    return item.available, item.reserved, item.shipped


def _reserve(inventory: Inventory, order_id: str, sku: str, quantity: int) -> ReservationOutcome:
    request = ReserveRequest(order_id=order_id, sku=sku, quantity=quantity)
    return inventory.reserve(request).outcome


def _in_threads(*targets: Callable[[], object]) -> None:
    start = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        start.wait()
        try:
            target()
        except BaseException as error:  # surfaced in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


# ---- the catalog file and seeding


def test_the_catalog_file_is_valid_and_has_an_item_above_the_approval_threshold() -> None:
    items = catalog.load_catalog_file()
    assert 6 <= len(items) <= 8
    assert len({item.sku for item in items}) == len(items)
    for item in items:
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,31}", item.sku)
        assert item.price == item.price.quantize(Decimal("0.01"))
        assert 25 <= item.stock <= 500
    assert any(item.price >= Decimal("1000.00") for item in items)


def test_seeding_happens_on_the_first_start_only() -> None:
    store = FakeStore()
    seed = catalog.load_catalog_file()
    assert catalog.seed_once(store, seed) is True
    first = seed[0]
    Inventory(store).reserve(ReserveRequest(order_id=_order_id(), sku=first.sku, quantity=2))

    assert catalog.seed_once(store, seed) is False
    assert _levels(store, first.sku) == (first.stock - 2, 2, 0)
    assert {i.sku for i in catalog.read_catalog(store).items} == {s.sku for s in seed}


def test_reset_restores_seeded_stock_and_keeps_other_items() -> None:
    store = FakeStore()
    seed = catalog.load_catalog_file()
    catalog.seed_once(store, seed)
    extra = _stocked(store, units=7)
    first = seed[0]
    Inventory(store).reserve(ReserveRequest(order_id=_order_id(), sku=first.sku, quantity=3))

    reply = catalog.reset(store, seed)

    by_sku = {item.sku: item for item in reply.items}
    assert (by_sku[first.sku].available, by_sku[first.sku].reserved) == (first.stock, 0)
    assert by_sku[extra].available == 7


def test_an_upserted_item_is_listed_with_all_its_stock_available() -> None:
    store = FakeStore()
    catalog.seed_once(store, catalog.load_catalog_file())
    sku = _stocked(store, units=9, price="3.10")

    listed = {item.sku: item for item in catalog.read_catalog(store).items}
    assert (listed[sku].available, listed[sku].reserved, listed[sku].shipped) == (9, 0, 0)
    assert listed[sku].price == Decimal("3.10")


def test_concurrent_upserts_all_end_up_in_the_listing() -> None:
    store = FakeStore()
    skus = [_sku() for _ in range(12)]
    _in_threads(
        *[
            lambda sku=sku: catalog.upsert_item(
                store, UpsertItem(sku=sku, name=sku, price=Decimal("1.00"), stock=1)
            )
            for sku in skus
        ]
    )
    assert {item.sku for item in catalog.read_catalog(store).items} == set(skus)


def test_an_unknown_catalog_item_is_a_clear_error() -> None:
    with pytest.raises(catalog.UnknownSku, match="NO-SUCH"):
        catalog.catalog_item(FakeStore(), SkuRef(sku="NO-SUCH"))


# ---- quote


def test_quote_prices_lines_from_the_catalog_and_sums_them() -> None:
    store = FakeStore()
    cheap, dear = _stocked(store, 5, "12.50"), _stocked(store, 5, "0.35")
    request = QuoteRequest(
        order_id=_order_id(),
        items=[OrderLine(sku=cheap, quantity=3), OrderLine(sku=dear, quantity=7)],
    )

    quote = Inventory(store).quote(request)

    assert quote.ok
    assert [line.line_total for line in quote.lines] == [Decimal("37.50"), Decimal("2.45")]
    assert quote.total == Decimal("39.95")
    assert quote.currency == "EUR"


def test_quoting_an_unknown_sku_fails_naming_it() -> None:
    store = FakeStore()
    known = _stocked(store, 5)
    request = QuoteRequest(
        order_id=_order_id(),
        items=[OrderLine(sku=known, quantity=1), OrderLine(sku="NO-SUCH", quantity=1)],
    )

    quote = Inventory(store).quote(request)

    assert not quote.ok
    assert quote.total is None
    assert quote.reason is not None and "NO-SUCH" in quote.reason


# ---- reserve


def test_reserve_sets_units_aside_and_a_retry_reserves_nothing_more() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku, order_id = _stocked(store, 10), _order_id()

    first = inventory.reserve(ReserveRequest(order_id=order_id, sku=sku, quantity=4))
    again = inventory.reserve(ReserveRequest(order_id=order_id, sku=sku, quantity=4))

    assert first.outcome == again.outcome == ReservationOutcome.RESERVED
    assert first.available == 6
    assert again.quantity == 4
    assert _levels(store, sku) == (6, 4, 0)


def test_a_quantity_beyond_stock_is_refused_with_what_is_available_and_records_nothing() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku, order_id = _stocked(store, 3), _order_id()

    result = inventory.reserve(ReserveRequest(order_id=order_id, sku=sku, quantity=4))

    assert result.outcome == ReservationOutcome.INSUFFICIENT_STOCK
    assert result.available == 3
    assert _levels(store, sku) == (3, 0, 0)
    assert store.stored_keys("line:") == []


def test_reserving_an_unknown_sku_says_so() -> None:
    result = Inventory(FakeStore()).reserve(
        ReserveRequest(order_id=_order_id(), sku="NO-SUCH", quantity=1)
    )
    assert result.outcome == ReservationOutcome.UNKNOWN_SKU


@pytest.mark.parametrize("dapr_like_creates", [False, True])
def test_reserve_never_oversells_the_last_unit_under_concurrency(dapr_like_creates: bool) -> None:
    store = FakeStore(dapr_like_creates=dapr_like_creates)
    inventory = Inventory(store)
    sku = _stocked(store, 1)
    outcomes: list[ReservationOutcome] = []

    _in_threads(
        *[lambda: outcomes.append(_reserve(inventory, _order_id(), sku, 1)) for _ in range(16)]
    )

    assert outcomes.count(ReservationOutcome.RESERVED) == 1
    assert outcomes.count(ReservationOutcome.INSUFFICIENT_STOCK) == 15
    assert _levels(store, sku) == (0, 1, 0)


def test_many_concurrent_orders_reserve_exactly_the_stock() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku = _stocked(store, 20)
    outcomes: list[ReservationOutcome] = []

    _in_threads(
        *[lambda: outcomes.append(_reserve(inventory, _order_id(), sku, 1)) for _ in range(50)]
    )

    assert outcomes.count(ReservationOutcome.RESERVED) == 20
    assert _levels(store, sku) == (0, 20, 0)


# ---- release and commit


def test_release_is_idempotent_and_restores_stock_exactly() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku, other, order_id = _stocked(store, 10), _stocked(store, 5), _order_id()
    _reserve(inventory, order_id, sku, 4)
    _reserve(inventory, order_id, other, 2)
    request = OrderSkus(order_id=order_id, skus=[sku, other])

    first = inventory.release(request)
    second = inventory.release(request)  # a retry whose first answer was lost

    assert first.released == {sku: 4, other: 2}
    assert second.released == first.released, "a retry reports the release it repeats"
    assert _levels(store, sku) == (10, 0, 0)
    assert _levels(store, other) == (5, 0, 0)


def test_late_reserve_after_release_reserves_nothing() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku, order_id = _stocked(store, 10), _order_id()

    released = inventory.release(OrderSkus(order_id=order_id, skus=[sku]))
    late = inventory.reserve(ReserveRequest(order_id=order_id, sku=sku, quantity=3))

    assert released.released == {sku: 0}
    assert late.outcome == ReservationOutcome.RELEASED
    assert _levels(store, sku) == (10, 0, 0)


@pytest.mark.parametrize("dapr_like_creates", [False, True])
def test_a_reserve_racing_its_release_never_strands_stock(dapr_like_creates: bool) -> None:
    store = FakeStore(dapr_like_creates=dapr_like_creates)
    inventory = Inventory(store)
    sku = _stocked(store, 100)
    orders = [_order_id() for _ in range(20)]
    releases: dict[str, int] = {}

    def release(order_id: str) -> None:
        releases[order_id] = inventory.release(OrderSkus(order_id=order_id, skus=[sku])).released[
            sku
        ]

    _in_threads(
        *[lambda o=o: _reserve(inventory, o, sku, 2) for o in orders],
        *[lambda o=o: release(o) for o in orders],
    )

    # Whichever ran first, one release per order leaves nothing reserved: a release
    # before the reserve leaves a tombstone, one after it returns the units.
    assert _levels(store, sku) == (100, 0, 0)
    assert set(releases.values()) <= {0, 2}


def test_a_release_landing_inside_the_adapters_create_window_still_wins() -> None:
    # DaprStateStore checks must_not_exist by a read before a multi-key transaction; the
    # item ETag must catch a release that writes its tombstone right after that read.
    store = FakeStore(dapr_like_creates=True)
    inventory = Inventory(store)
    sku, order_id = _stocked(store, 10), _order_id()
    released: list[int] = []
    store.in_next_window = lambda: released.append(
        inventory.release(OrderSkus(order_id=order_id, skus=[sku])).released[sku]
    )

    late = inventory.reserve(ReserveRequest(order_id=order_id, sku=sku, quantity=3))

    assert released == [0]
    assert late.outcome == ReservationOutcome.RELEASED
    assert _levels(store, sku) == (10, 0, 0)


def test_commit_ships_reserved_units_once() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku, order_id = _stocked(store, 10), _order_id()
    _reserve(inventory, order_id, sku, 3)
    request = OrderSkus(order_id=order_id, skus=[sku])

    assert inventory.commit(request).committed == {sku: 3}
    assert inventory.commit(request).committed == {sku: 3}, "a retry reports the same commit"
    assert inventory.release(request).released == {sku: 0}
    assert _levels(store, sku) == (7, 0, 3)


def test_units_are_conserved_through_reserve_release_and_commit() -> None:
    store = FakeStore()
    inventory = Inventory(store)
    sku = _stocked(store, 30)
    orders = [_order_id() for _ in range(9)]
    for index, order_id in enumerate(orders):
        _reserve(inventory, order_id, sku, 1 + index % 3)
    for order_id in orders[::2]:
        inventory.commit(OrderSkus(order_id=order_id, skus=[sku]))
    for order_id in orders[1::2]:
        inventory.release(OrderSkus(order_id=order_id, skus=[sku]))

    available, reserved, shipped = _levels(store, sku)
    assert available + reserved + shipped == 30
    assert reserved == 0
    assert shipped == sum(1 + i % 3 for i in range(0, 9, 2))


# ---- wiring


def _call(method: str, body: bytes, store: FakeStore) -> Any:
    app = build_app(store, catalog.load_catalog_file())
    invoked = app._servicer._invoke_method_map[method]
    reply = invoked(InvokeMethodRequest(body, "application/json"))
    assert isinstance(reply, str)
    return json.loads(reply)


def test_the_app_answers_catalog_methods_with_contract_json() -> None:
    store = FakeStore()
    catalog.seed_once(store, catalog.load_catalog_file())
    items = _call(Method.CATALOG, b"{}", store)["items"]
    assert {"sku", "name", "price", "available", "reserved", "shipped"} <= set(items[0])
    assert _call(Method.RESET, b"", store)["items"]


def test_an_invalid_request_is_an_error_naming_the_field() -> None:
    body = json.dumps({"order_id": "o-1", "sku": "SKU-X", "quantity": 0}).encode()
    with pytest.raises(ValueError, match="quantity"):
        _call(Method.RESERVE, body, FakeStore())
