"""Only the app's own sidecar may call it: every call must carry the app API token.

daprd sends APP_API_TOKEN as `dapr-api-token` metadata on each call to its app; anything
else reaching the app's port (another process on the host, a stray sidecar) is refused.
"""

import hmac
import os
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from dapr.ext.grpc import App

TOKEN_HEADER = "dapr-api-token"
# daprd 1.18 asks for the app's subscriptions and bindings without the token; they only
# describe configuration, so discovery stays open while every work-carrying call is guarded.
UNGUARDED_METHODS = frozenset(
    {
        "/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions",
        "/dapr.proto.runtime.v1.AppCallback/ListInputBindings",
        "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck",
    }
)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def token_matches(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


class AppTokenInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self._token = token

        def refuse(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong app API token")

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        metadata = dict(details.invocation_metadata or ())
        if details.method in UNGUARDED_METHODS or token_matches(
            metadata.get(TOKEN_HEADER), self._token
        ):
            return continuation(details)
        return self._refusal


def new_app() -> App:
    """A gRPC callback app; it requires the app API token whenever APP_API_TOKEN is set."""
    token = os.environ.get("APP_API_TOKEN")
    interceptors = [AppTokenInterceptor(token)] if token else []
    return App(
        thread_pool=futures.ThreadPoolExecutor(max_workers=16),
        interceptors=interceptors,
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ],
    )
