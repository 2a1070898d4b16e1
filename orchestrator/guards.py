"""HTTP guards: only the sidecar may use the app channel, and bodies have a size limit."""

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.app_token import TOKEN_HEADER, token_matches

MAX_API_BODY_BYTES = 1024 * 1024
# The channel carries intake messages, which may be oversized on purpose: intake itself
# dead-letters anything over 1 MiB, so the channel accepts up to the sidecar's own limit.
MAX_CHANNEL_BODY_BYTES = 16 * 1024 * 1024

Handler = Callable[[Request], Awaitable[Response]]


def limit_body_size(app: FastAPI, max_bytes: int) -> None:
    @app.middleware("http")
    async def reject_large_bodies(request: Request, call_next: Handler) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            return JSONResponse(
                {"detail": f"request body over the {max_bytes}-byte limit"}, status_code=413
            )
        if declared is None and request.method in {"POST", "PUT", "PATCH"}:
            body = await request.body()  # chunked: read it (Starlette caches it) and measure
            if len(body) > max_bytes:
                return JSONResponse(
                    {"detail": f"request body over the {max_bytes}-byte limit"}, status_code=413
                )
        return await call_next(request)


def require_app_token(app: FastAPI, token: str | None = None) -> None:
    """Refuses every request that lacks the app API token daprd sends (APP_API_TOKEN)."""
    expected = token if token is not None else os.environ.get("APP_API_TOKEN")
    if not expected:
        return

    @app.middleware("http")
    async def check_token(request: Request, call_next: Handler) -> Response:
        if not token_matches(request.headers.get(TOKEN_HEADER), expected):
            return JSONResponse({"detail": "missing or wrong app API token"}, status_code=401)
        return await call_next(request)
