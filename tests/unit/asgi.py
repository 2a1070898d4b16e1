"""Calls an ASGI app in-process with httpx (starlette's TestClient is deprecated with httpx)."""

import asyncio

import httpx
from fastapi import FastAPI


def get(app: FastAPI, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            return await client.get(path)

    return asyncio.run(call())
