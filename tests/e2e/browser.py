"""Headless Chromium for browser tests: Debian's `chromium` and `chromium-driver`, offline."""

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

Chromium = webdriver.Chrome

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
WINDOW = (1280, 860)


def _require(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        # A failure, not a skip: .ci/run installs both, so a missing browser is a broken setup.
        pytest.fail(
            f"{program} is not installed: the console's browser test needs Debian's "
            f"`{package}` (apt-get install chromium chromium-driver; .ci/run does this)",
            pytrace=False,
        )
    return path


@contextmanager
def chromium() -> Iterator[Chromium]:
    options = Options()
    options.binary_location = _require("chromium", "chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-GB",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    service = Service(executable_path=_require("chromedriver", "chromium-driver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def _full_page_png(driver: Chromium) -> bytes:
    # Headless Chromium caps the window at its screen size; DevTools captures past it.
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def screenshot(driver: Chromium, name: str, *, full_page: bool = False) -> Path:
    """Saves a test artifact; with UPDATE_SCREENSHOTS=1 also the README's copy."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.execute_script("document.activeElement?.blur()")  # no caret or focus ring
    path.write_bytes(_full_page_png(driver) if full_page else driver.get_screenshot_as_png())
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SCREENSHOTS / path.name)
    return path


def save_failure(driver: Chromium, name: str) -> None:
    """What a failed browser test leaves behind: the page as seen, its DOM and its console."""
    screenshot_path = ARTIFACTS / f"{name}-failure.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot_path))
    (ARTIFACTS / f"{name}-failure.html").write_text(driver.page_source, encoding="utf-8")
    entries = driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves it bare
    logs = "\n".join(str(entry) for entry in entries)
    (ARTIFACTS / f"{name}-failure-console.log").write_text(logs, encoding="utf-8")
