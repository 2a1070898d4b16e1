"""Wiring only: build the gRPC callback app, register its methods, serve."""

import logging

from dapr.clients import DaprClient
from dapr.ext.grpc import App
from pydantic import BaseModel

from contracts.commands import (
    Method,
    OrderSkus,
    QuoteRequest,
    ReservationOutcome,
    ReserveRequest,
    SkuRef,
    UpsertItem,
)
from observability.logging import configure_logging
from observability.tracing import configure_tracing
from services.app_token import new_app
from services.diagnostics import register_ping
from services.inventory import catalog
from services.inventory.handlers import Inventory
from services.methods import register_method
from services.serve import serve
from services.settings import ServiceSettings
from services.state import DaprStateStore, KeyValueStore

APP_ID = "inventory"
logger = logging.getLogger(__name__)


class _NoInput(BaseModel):
    """Methods that take nothing accept `{}` (or an empty body)."""


def build_app(store: KeyValueStore, seed: list[UpsertItem]) -> App:
    app = new_app()
    register_ping(app, APP_ID)
    inventory = Inventory(store)
    register_method(
        app,
        Method.QUOTE,
        QuoteRequest,
        inventory.quote,
        span_name="quote",
        attributes=lambda q: {"line_count": len(q.items)},
        failure=lambda r: None if r.ok else r.reason,
    )
    register_method(
        app,
        Method.RESERVE,
        ReserveRequest,
        inventory.reserve,
        span_name="reserve stock",
        attributes=lambda r: {"sku": r.sku, "quantity": r.quantity},
        failure=lambda r: None if r.outcome == ReservationOutcome.RESERVED else r.outcome.value,
    )
    register_method(
        app,
        Method.RELEASE,
        OrderSkus,
        inventory.release,
        span_name="release stock",
        attributes=lambda r: {"sku_count": len(r.skus)},
    )
    register_method(
        app,
        Method.COMMIT,
        OrderSkus,
        inventory.commit,
        span_name="commit stock",
        attributes=lambda r: {"sku_count": len(r.skus)},
    )
    register_method(
        app, Method.CATALOG, _NoInput, lambda _: catalog.read_catalog(store), span_name="catalog"
    )
    register_method(
        app,
        Method.CATALOG_ITEM,
        SkuRef,
        lambda ref: catalog.catalog_item(store, ref),
        span_name="catalog item",
        attributes=lambda ref: {"sku": ref.sku},
    )
    register_method(
        app,
        Method.UPSERT_ITEM,
        UpsertItem,
        lambda item: catalog.upsert_item(store, item),
        span_name="upsert item",
        attributes=lambda item: {"sku": item.sku},
    )
    register_method(
        app, Method.RESET, _NoInput, lambda _: catalog.reset(store, seed), span_name="reset"
    )
    return app


def main() -> None:
    configure_logging(APP_ID)
    configure_tracing(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    with DaprClient() as dapr:
        store = DaprStateStore(dapr, f"{APP_ID}-store")
        seed = catalog.load_catalog_file()
        if catalog.seed_once(store, seed):
            logger.info("first start: catalog seeded")
        serve(build_app(store, seed), settings)
