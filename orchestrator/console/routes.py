"""Serves the console's page at `/` and its files under `/console/`, next to the API."""

import html
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from fleet import topology

STATIC = Path(__file__).parent / "static"
ZIPKIN_PLACEHOLDER = "__ZIPKIN_URL__"
# The files change with the code, not with time: the browser asks again on every load
# (a cheap 304), so an upgraded orchestrator never runs with a stale script.
NO_CACHE = {"Cache-Control": "no-cache"}


class _RevalidatedFiles(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(NO_CACHE)
        return response


def render_index(zipkin_url: str) -> str:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    return page.replace(ZIPKIN_PLACEHOLDER, html.escape(zipkin_url, quote=True))


def install_console(api: FastAPI, zipkin_url: str = topology.ZIPKIN_URL) -> None:
    """Adds the console to the public API app; its data comes from that API alone."""
    page = render_index(zipkin_url)

    @api.get("/", include_in_schema=False)
    def console_index() -> HTMLResponse:
        return HTMLResponse(page, headers=NO_CACHE)

    api.mount("/console", _RevalidatedFiles(directory=STATIC), name="console")
