"""HTTP reads and admin calls on the running fleet: the public API and the orchestrator
sidecar's service invocation (the way tests/e2e/fleet_client does it)."""

import importlib
import time
from typing import Any

import httpx

from contracts.commands import Method
from contracts.roles import Role
from fleet import topology
from fleet.api_tokens import bearer

SIDECAR_URL = f"http://{topology.LOOPBACK}:{topology.ORCHESTRATOR.dapr_http_port}"
RETRIED_STATUS = frozenset({500, 502, 503, 504})


def sidecar_headers() -> dict[str, str]:
    """The orchestrator sidecar's API token header, when the fleet uses API tokens."""
    try:
        secrets = importlib.import_module("fleet.secrets")
    except ImportError:  # a fleet without sidecar API tokens
        return {}
    headers: dict[str, str] = secrets.sidecar_headers(topology.ORCHESTRATOR.app_id)
    return headers


class FleetClient:
    def __init__(
        self, api_urls: list[str] | None = None, *, timeout_s: float = 15.0, attempts: int = 5
    ) -> None:
        # The chaos suite acts as the local fleet's admin (it reads every order, purges).
        self._http = httpx.Client(timeout=timeout_s, headers=bearer(Role.ADMIN))
        self._attempts = attempts
        self._headers = sidecar_headers()
        self._apis = api_urls or [topology.API_URL]
        self._api = 0

    def close(self) -> None:
        self._http.close()

    def _request(
        self, method: str, url: str, *, retried: frozenset[int] = RETRIED_STATUS, **kwargs: Any
    ) -> httpx.Response:
        """Retries what a restarting fleet answers (refused connections, 5xx) a few times.

        Only idempotent reads and overwrites go through here."""
        for attempt in range(1, self._attempts + 1):
            target = url.replace(topology.API_URL, self._apis[self._api], 1)
            try:
                response = self._http.request(method, target, **kwargs)
            except httpx.TransportError:
                if attempt == self._attempts:
                    raise
            else:
                if response.status_code not in retried or attempt == self._attempts:
                    return response
            self._api = (self._api + 1) % len(self._apis)  # another replica, if any
            time.sleep(0.5 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def invoke(self, app_id: str, method: str, body: dict[str, Any]) -> httpx.Response:
        url = f"{SIDECAR_URL}/v1.0/invoke/{app_id}/method/{method}"
        return self._request("POST", url, json=body, headers=self._headers)

    def upsert_item(self, sku: str, name: str, price: str, stock: int) -> dict[str, Any]:
        body = {"sku": sku, "name": name, "price": price, "stock": stock}
        response = self.invoke("inventory", Method.UPSERT_ITEM, body)
        response.raise_for_status()
        item: dict[str, Any] = response.json()
        return item

    def order_view(self, order_id: str) -> dict[str, Any] | None:
        response = self._request("GET", f"{topology.API_URL}/orders/{order_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        view: dict[str, Any] = response.json()
        return view

    def ledger(self, order_id: str) -> dict[str, Any]:
        response = self._request("GET", f"{topology.API_URL}/orders/{order_id}/payments")
        response.raise_for_status()
        ledger: dict[str, Any] = response.json()
        return ledger

    def catalog_item(self, sku: str) -> dict[str, Any]:
        response = self._request("GET", f"{topology.API_URL}/catalog/{sku}")
        response.raise_for_status()
        item: dict[str, Any] = response.json()
        return item

    def shipment(self, order_id: str) -> dict[str, Any] | None:
        """Shipping's own record of the order's shipment; None when it has none."""
        url = f"{SIDECAR_URL}/v1.0/invoke/shipping/method/{Method.SHIPMENT_STATUS}"
        body = {"order_id": order_id}
        for attempt in range(1, self._attempts + 1):
            # Shipping answers an order it never saw with a 500; only other 500s are retried.
            response = self._request(
                "POST", url, json=body, headers=self._headers, retried=RETRIED_STATUS - {500}
            )
            if response.status_code == 500 and "no shipment for order" in response.text:
                return None
            if response.status_code != 500 or attempt == self._attempts:
                break
            time.sleep(0.5 * attempt)
        response.raise_for_status()
        shipment: dict[str, Any] = response.json()
        return shipment

    def doctor(self) -> str | None:
        """Runs the fleet's diagnostic workflow (every hop); None when all work, else why not."""
        try:
            response = self._http.post(f"{topology.API_URL}/diagnostics/doctor", timeout=90.0)
        except httpx.HTTPError as error:
            return f"POST /diagnostics/doctor failed: {error!r}"
        if not response.is_success:
            return (
                f"POST /diagnostics/doctor answered {response.status_code}: {response.text[:300]}"
            )
        failed = [hop for hop in response.json().get("hops", []) if not hop.get("ok")]
        return f"failed hops: {failed}" if failed else None
