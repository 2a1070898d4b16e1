"""The operator console in a real browser: an order needing approval, approved by a click."""

import os
from collections.abc import Callable, Iterator
from typing import Literal, TypeVar

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from contracts.roles import Role
from contracts.topics import ORDER_REQUESTS
from fleet import topology
from fleet.runner.specs import ProcessSpec
from tests.e2e.browser import Chromium, chromium, save_failure, screenshot
from tests.e2e.fleet_client import auth, get_order, new_sku, order, publish, token

T = TypeVar("T")
# Another deployment's console can be checked with CONSOLE_URL (the local fleet's by default).
CONSOLE = os.environ.get("CONSOLE_URL", topology.API_URL).rstrip("/")


@pytest.fixture
def browser(request: pytest.FixtureRequest, fleet: list[ProcessSpec]) -> Iterator[Chromium]:
    page = httpx.get(f"{CONSOLE}/", timeout=10)
    if page.status_code != 200 or "operator console" not in page.text:
        pytest.fail(
            f"{CONSOLE}/ does not serve the operator console (HTTP {page.status_code}); "
            "an orchestrator started before the console existed needs a restart",
            pytrace=False,
        )
    failed_before = request.session.testsfailed
    with chromium() as driver:
        yield driver
        # The call's report is counted before teardown: a failure leaves the page behind.
        if request.session.testsfailed > failed_before:
            save_failure(driver, request.node.name)


def until(
    driver: WebDriver, condition: Callable[[WebDriver], T | None], what: str, timeout: float = 30
) -> T:
    """Polls the page until `condition` holds; a stale element just means a re-render."""

    def ready(page: WebDriver) -> T | Literal[False]:
        value = condition(page)
        return value if value is not None else False

    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
    )
    try:
        return wait.until(ready)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}") from None


def row(driver: WebDriver, table: str, order_id: str) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, f'#{table} tr[data-order-id="{order_id}"]')
    return found[0] if found else None


def text_of(driver: WebDriver, selector: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""


def attributes(driver: WebDriver, selector: str, name: str) -> list[str | None]:
    return [node.get_attribute(name) for node in driver.find_elements(By.CSS_SELECTOR, selector)]


def listed_as(order_id: str, status: str) -> Callable[[WebDriver], bool]:
    def check(driver: WebDriver) -> bool:
        found = row(driver, "orders-table", order_id)
        return found is not None and found.get_attribute("data-status") == status

    return check


def filter_orders(driver: WebDriver, status: str, text: str) -> None:
    Select(driver.find_element(By.ID, "status-filter")).select_by_value(status)
    box = driver.find_element(By.ID, "text-filter")
    box.clear()
    box.send_keys(text)


APPROVER = "grace@example.com"


def sign_in(driver: WebDriver, token: str) -> None:
    box = until(driver, lambda d: d.find_elements(By.ID, "token"), "the sign-in form")[0]
    box.clear()
    box.send_keys(token)
    driver.find_element(By.ID, "sign-in-button").click()


def test_the_console_asks_for_a_token_and_refuses_a_bad_one(browser: Chromium) -> None:
    browser.get(f"{CONSOLE}/#/orders")
    sign_in(browser, "not-a-token")
    until(browser, lambda d: "not signed in" in text_of(d, "#sign-in-state"), "the refusal")
    assert text_of(browser, "#signed-in-as") == ""
    assert not browser.find_elements(By.ID, "orders-table")
    sign_in(browser, token(Role.CLIENT, "cust-console"))
    until(browser, lambda d: text_of(d, "#signed-in-as") == "cust-console · client", "signed in")
    browser.find_element(By.ID, "sign-out").click()
    until(browser, lambda d: d.find_elements(By.ID, "sign-in"), "the form after signing out")


def test_operator_approves_a_high_value_order_and_sees_it_complete(browser: Chromium) -> None:
    sku = new_sku(stock=5, price="600.00")
    payload = order(sku=sku, quantity=2)  # 1200.00: at or above the approval threshold
    order_id = payload["order_id"]
    # Two orders under the threshold share the table: one pays, one is declined.
    cheap = new_sku(stock=5)
    others = {"COMPLETED": order(sku=cheap), "COMPENSATED": order(sku=cheap, token="tok_decline")}
    browser.get(f"{CONSOLE}/#/orders")
    sign_in(browser, token(Role.OPERATOR, APPROVER))
    until(browser, lambda d: text_of(d, "#signed-in-as") == f"{APPROVER} · operator", "sign-in")
    until(browser, lambda d: text_of(d, "#live").startswith("live"), "the console to go live")

    for message in (payload, *others.values()):
        publish(ORDER_REQUESTS, message, key=message["order_id"])

    # The orders table shows it live, found with both filters.
    filter_orders(browser, "AWAITING_APPROVAL", order_id[-8:])
    listed = until(browser, lambda d: row(d, "orders-table", order_id), "the order listed", 60)
    cells = [cell.text for cell in listed.find_elements(By.TAG_NAME, "td")]
    assert cells[:5] == [
        order_id,
        payload["customer_id"],
        "AWAITING_APPROVAL",
        "approval",
        "1200.00",
    ]
    filter_orders(browser, "", "")
    for status, other in others.items():
        until(browser, listed_as(other["order_id"], status), f"a {status} order in the table", 60)
    screenshot(browser, "console-orders")

    # The approvals queue: the button publishes the decision through POST .../approval.
    browser.find_element(By.CSS_SELECTOR, '[data-nav="approvals"]').click()
    queued = until(browser, lambda d: row(d, "approvals-table", order_id), "the approvals queue")
    queued.find_element(By.CSS_SELECTOR, "input.reason").send_keys("known customer")
    screenshot(browser, "console-approvals")
    queued.find_element(By.CSS_SELECTOR, "button.approve").click()
    until(browser, lambda d: row(d, "approvals-table", order_id) is None,
          "the approved order to leave the queue", 60)  # fmt: skip

    # Its page (from the workflow, not the read model) follows it live to the end.
    browser.get(f"{CONSOLE}/#/orders/{order_id}")
    until(browser, lambda d: text_of(d, "#order-facts .status") == "COMPLETED",
          "the order page to show COMPLETED", 120)  # fmt: skip
    until(browser, lambda d: "completed" in text_of(d, "#order-events-section"),
          "the completed event on the page")  # fmt: skip

    view = get_order(order_id)
    assert view is not None and view["status"] == "COMPLETED"
    diagram = '#workflow-diagram .node[data-state="current"]'
    assert attributes(browser, diagram, "data-step") == ["complete"]
    steps = attributes(browser, "#order-timeline li", "data-step")
    assert steps == [record["step"] for record in view["history"]]
    assert steps[:4] == ["quote", "reserve", "approval", "charge"]
    ids = attributes(browser, "#order-events tbody tr", "data-event-id")
    kinds = [str(event_id).rsplit(":", 1)[-1] for event_id in ids]
    assert kinds[0] == "accepted" and kinds[-1] == "completed" and "approved" in kinds
    # The approval names who signed in to the console.
    events = httpx.get(f"{CONSOLE}/orders/{order_id}/events", headers=auth(), timeout=10).json()
    approved = [e["data"] for e in events["events"] if e["type"].endswith(".approved.v1")]
    assert [a["approver"] for a in approved] == [APPROVER]
    trace = f"{topology.ZIPKIN_URL}/zipkin/traces/{view['trace_id']}"
    assert attributes(browser, "#trace-link", "href") == ([trace] if view["trace_id"] else [])
    screenshot(browser, "console-order", full_page=True)
