"""Wiring only: build the gRPC callback app, register its methods, serve."""

import json
import logging
from collections.abc import Callable
from typing import TypeVar

from dapr.clients import DaprClient
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.ext.grpc import App
from pydantic import BaseModel, ValidationError

from contracts.commands import (
    Method,
    OrderSkus,
    QuoteRequest,
    ReserveRequest,
    ServiceError,
    SkuRef,
    UpsertItem,
)
from observability.logging import configure_logging
from services.diagnostics import register_ping
from services.inventory import catalog
from services.inventory.handlers import Inventory
from services.serve import serve
from services.settings import ServiceSettings
from services.state import DaprStateStore, KeyValueStore

APP_ID = "inventory"
logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class _NoInput(BaseModel):
    """Methods that take nothing accept `{}` (or an empty body)."""


def build_app(store: KeyValueStore, seed: list[UpsertItem]) -> App:
    app = App()
    register_ping(app, APP_ID)
    inventory = Inventory(store)
    _method(app, Method.QUOTE, QuoteRequest, inventory.quote)
    _method(app, Method.RESERVE, ReserveRequest, inventory.reserve)
    _method(app, Method.RELEASE, OrderSkus, inventory.release)
    _method(app, Method.COMMIT, OrderSkus, inventory.commit)
    _method(app, Method.CATALOG, _NoInput, lambda _: catalog.read_catalog(store))
    _method(app, Method.CATALOG_ITEM, SkuRef, lambda ref: catalog.catalog_item(store, ref))
    _method(app, Method.UPSERT_ITEM, UpsertItem, lambda item: catalog.upsert_item(store, item))
    _method(app, Method.RESET, _NoInput, lambda _: catalog.reset(store, seed))
    return app


def _method(app: App, name: str, model: type[M], handle: Callable[[M], BaseModel]) -> None:
    def invoked(request: InvokeMethodRequest) -> str:
        try:
            command = model.model_validate_json(request.data or b"{}")
        except ValidationError as error:
            logger.warning("invalid %s request: %s", name, error)
            details = json.loads(error.json(include_url=False))
            raise ValueError(
                ServiceError(error=f"invalid {name} request", details=details).model_dump_json()
            ) from error
        return handle(command).model_dump_json()

    app.method(name)(invoked)


def main() -> None:
    configure_logging(APP_ID)
    settings = ServiceSettings.from_env(APP_ID)
    with DaprClient() as dapr:
        store = DaprStateStore(dapr, f"{APP_ID}-store")
        seed = catalog.load_catalog_file()
        if catalog.seed_once(store, seed):
            logger.info("first start: catalog seeded")
        serve(build_app(store, seed), settings)
