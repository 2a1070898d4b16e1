"""Calls an ASGI app in-process with httpx (starlette's TestClient is deprecated with httpx)."""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI


def request(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; app exceptions become 500 responses, as a real server would answer."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(call())


def get(app: FastAPI, path: str) -> httpx.Response:
    return request(app, "GET", path)
