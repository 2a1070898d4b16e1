"""The catalog: items seeded from catalog.json, a listing of every SKU, and admin writes.

Keys: `item:{sku}` (one Item each), `catalog:skus` (the listing, written under its ETag),
`catalog:seeded` (the first-start marker, written with the seeded items).
"""

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import resources

from pydantic import BaseModel

from contracts.commands import Catalog, CatalogItem, SkuRef, UpsertItem
from services.inventory.domain import Item
from services.state import KeyValueStore, Write, retry_on_conflict

logger = logging.getLogger(__name__)

LISTING_KEY = "catalog:skus"
SEEDED_KEY = "catalog:seeded"


class UnknownSku(LookupError):
    pass


class _Listing(BaseModel):
    skus: list[str]


class _CatalogFile(BaseModel):
    items: list[UpsertItem]


def item_key(sku: str) -> str:
    return f"item:{sku}"


def load_catalog_file() -> list[UpsertItem]:
    text = resources.files("services.inventory").joinpath("catalog.json").read_text("utf-8")
    return _CatalogFile.model_validate_json(text).items


def read_item(store: KeyValueStore, sku: str) -> tuple[Item | None, str | None]:
    raw, etag = store.get(item_key(sku))
    return (Item.model_validate_json(raw), etag) if raw is not None else (None, None)


def catalog_item(store: KeyValueStore, ref: SkuRef) -> CatalogItem:
    item, _ = read_item(store, ref.sku)
    if item is None:
        raise UnknownSku(f"unknown SKU {ref.sku}")
    return _view(item)


def read_catalog(store: KeyValueStore) -> Catalog:
    raw, _ = store.get(LISTING_KEY)
    skus = _Listing.model_validate_json(raw).skus if raw is not None else []
    items = (read_item(store, sku)[0] for sku in skus)
    return Catalog(items=[_view(item) for item in items if item is not None])


def upsert_item(store: KeyValueStore, request: UpsertItem) -> CatalogItem:
    """Creates or overwrites one item with all its stock available, and lists it."""
    item = Item.stocked(request.sku, request.name, request.price, request.stock)

    def attempt() -> None:
        writes = [Write(item_key(item.sku), item.model_dump_json())]
        store.transact(writes + _listing_writes(store, [item.sku]))

    retry_on_conflict(attempt)
    logger.info("catalog item %s set to %s units", item.sku, item.available)
    return _view(item)


def reset(store: KeyValueStore, seed: list[UpsertItem]) -> Catalog:
    """Overwrites the seeded SKUs with their file values; other items are left alone."""
    items = [Item.stocked(s.sku, s.name, s.price, s.stock) for s in seed]
    marker = json.dumps({"seeded_at": datetime.now(UTC).isoformat()})

    def attempt() -> None:
        writes = [Write(item_key(item.sku), item.model_dump_json()) for item in items]
        listing = _listing_writes(store, [item.sku for item in items])
        store.transact([*writes, *listing, Write(SEEDED_KEY, marker)])

    retry_on_conflict(attempt)
    logger.info("catalog reseeded with %s items", len(items))
    return read_catalog(store)


def seed_once(store: KeyValueStore, seed: list[UpsertItem]) -> bool:
    """Seeds on the very first start only, so restarts never reset stock."""
    if store.get(SEEDED_KEY)[0] is not None:
        return False
    reset(store, seed)
    return True


def _listing_writes(store: KeyValueStore, skus: Iterable[str]) -> list[Write]:
    raw, etag = store.get(LISTING_KEY)
    current = _Listing.model_validate_json(raw).skus if raw is not None else []
    merged = sorted(set(current) | set(skus))
    if raw is not None and merged == sorted(current):
        return []
    value = _Listing(skus=merged).model_dump_json()
    return [Write(LISTING_KEY, value, etag=etag, must_not_exist=raw is None)]


def _view(item: Item) -> CatalogItem:
    return CatalogItem(
        sku=item.sku,
        name=item.name,
        price=item.price,
        available=item.available,
        reserved=item.reserved,
        shipped=item.shipped,
    )
