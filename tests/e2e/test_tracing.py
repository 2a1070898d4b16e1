"""One order, one trace: connected Zipkin traces across every app."""

import json
import secrets
from typing import Any

from fleet.kafka_io import order_cloudevent
from fleet.runner.specs import ProcessSpec
from fleet.trace_view import fetch_trace, render
from tests.e2e.fleet_client import new_sku, order, publish, wait_for, wait_terminal

ALL_APPS = {"orchestrator", "inventory", "payment", "shipping", "notifications"}


def _service(span: dict[str, Any]) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName"))


def _orphans(spans: list[dict[str, Any]]) -> list[str]:
    ids = {span["id"] for span in spans}
    return [span["name"] for span in spans if span.get("parentId") and span["parentId"] not in ids]


def _settled_trace(
    trace_id: str, services: set[str], needed_names: set[str], *, connected: bool = True
) -> list[dict[str, Any]]:
    """Waits until the trace holds spans from `services` and spans named `needed_names`,
    and (when `connected`) every span's parent has arrived: long spans report last."""

    def ready() -> list[dict[str, Any]] | None:
        spans = fetch_trace(trace_id)
        names = {span.get("name") for span in spans}
        has = {_service(span) for span in spans}
        settled = not connected or not _orphans(spans)
        return spans if services <= has and needed_names <= names and settled else None

    return wait_for(ready, timeout=45, what=f"trace {trace_id} to hold every app's spans")


def test_a_completed_order_is_one_connected_trace_across_all_apps(
    fleet: list[ProcessSpec],
) -> None:
    payload = order(sku=new_sku(stock=5))
    publish("order-requests", payload, key=payload["order_id"])
    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPLETED"
    trace_id = view["trace_id"]
    assert trace_id and len(trace_id) == 32

    spans = _settled_trace(
        trace_id, ALL_APPS, {"intake order", "reserve stock", "charge", "create shipment"}
    )
    assert {_service(span) for span in spans} >= ALL_APPS
    roots = [span for span in spans if not span.get("parentId")]
    assert [root["name"] for root in roots] == ["intake order"]
    assert _orphans(spans) == []
    charge = next(span for span in spans if span["name"] == "charge")
    assert charge["tags"]["order_id"] == payload["order_id"]
    assert charge["tags"]["amount"] == "12.50"
    assert any(line.lstrip().startswith("orchestrator: intake order") for line in render(spans))


def test_a_producers_trace_context_is_continued(fleet: list[ProcessSpec]) -> None:
    trace_id = secrets.token_hex(16)
    payload = order(sku=new_sku(stock=5))
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    publish("order-requests", order_cloudevent(payload, traceparent), key=payload["order_id"])
    view = wait_terminal(payload["order_id"])
    assert view["trace_id"] == trace_id
    spans = _settled_trace(
        trace_id, {"orchestrator", "payment"}, {"intake order", "charge"}, connected=False
    )
    intake = next(span for span in spans if span["name"] == "intake order")
    assert intake["parentId"] == traceparent.split("-")[2]


def test_a_compensated_order_shows_the_failed_step_and_each_compensation(
    fleet: list[ProcessSpec],
) -> None:
    payload = order(sku=new_sku(stock=5), country="ZZ")
    publish("order-requests", payload, key=payload["order_id"])
    view = wait_terminal(payload["order_id"])
    assert view["status"] == "COMPENSATED"
    compensations = {
        "activity||refund_payment",
        "refund",
        "activity||release_stock",
        "release stock",
    }
    spans = _settled_trace(
        view["trace_id"],
        {"orchestrator", "inventory", "payment", "shipping"},
        {"create shipment", *compensations},
    )
    failed = [span for span in spans if "error" in span.get("tags", {})]
    assert [span["name"] for span in failed] == ["create shipment"]
    assert "ZZ" in failed[0]["tags"]["error"]
    names = [span["name"] for span in spans]
    for compensation in (
        "activity||refund_payment",
        "refund",
        "activity||release_stock",
        "release stock",
    ):
        assert compensation in names, compensation


def test_no_span_carries_a_payment_token_or_an_api_token(fleet: list[ProcessSpec]) -> None:
    views = []
    for token in ("tok_visa", "tok_decline", "tok_flaky"):
        payload = order(sku=new_sku(stock=5), token=token)
        publish("order-requests", payload, key=payload["order_id"])
        views.append(wait_terminal(payload["order_id"]))
    for view in views:
        spans = _settled_trace(
            view["trace_id"], {"orchestrator", "payment"}, {"charge"}, connected=False
        )
        text = json.dumps(spans).lower()
        assert "tok_" not in text
        assert "dapr-api-token" not in text
        assert "app-api-token" not in text


def test_the_trace_opens_in_zipkins_own_ui(fleet: list[ProcessSpec]) -> None:
    """What an operator sees: the order's trace in Zipkin, screenshotted for the README."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.e2e.browser import chromium, save_failure, screenshot

    payload = order(sku=new_sku(stock=5))
    publish("order-requests", payload, key=payload["order_id"])
    view = wait_terminal(payload["order_id"])
    _settled_trace(view["trace_id"], ALL_APPS, {"intake order", "charge", "create shipment"})
    with chromium() as driver:
        try:
            driver.get(f"http://127.0.0.1:9411/zipkin/traces/{view['trace_id']}")
            WebDriverWait(driver, 30).until(
                expected_conditions.text_to_be_present_in_element(
                    (By.TAG_NAME, "body"), "intake order"
                )
            )
            screenshot(driver, "zipkin-trace")
        except Exception:
            save_failure(driver, "zipkin-trace")
            raise
