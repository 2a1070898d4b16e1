"""HTTP guards: only the sidecar may use the app channel, and bodies have a size limit.

Plain ASGI middleware rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware
runs each request through a task group and memory streams, a cost every sidecar delivery
paid twice.
"""

import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.app_token import TOKEN_HEADER, token_matches

MAX_API_BODY_BYTES = 1024 * 1024
# The channel carries intake messages, which may be oversized on purpose: intake itself
# dead-letters anything over 1 MiB, so the channel accepts up to the sidecar's own limit.
MAX_CHANNEL_BODY_BYTES = 16 * 1024 * 1024
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class _BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            {"detail": f"request body over the {self.max_bytes}-byte limit"}, status_code=413
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        # Chunked: read the body up to the limit, then hand it on as one message.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away; let the app see it
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
        replayed = False

        async def receive_body() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, receive_body, send)


class _AppToken:
    def __init__(self, app: ASGIApp, expected: str) -> None:
        self.app = app
        self.expected = expected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not token_matches(
            Headers(scope=scope).get(TOKEN_HEADER), self.expected
        ):
            response = JSONResponse({"detail": "missing or wrong app API token"}, status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def limit_body_size(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(_BodyLimit, max_bytes=max_bytes)


def require_app_token(app: FastAPI, token: str | None = None) -> None:
    """Refuses every request that lacks the app API token daprd sends (APP_API_TOKEN)."""
    expected = token if token is not None else os.environ.get("APP_API_TOKEN")
    if expected:
        app.add_middleware(_AppToken, expected=expected)
