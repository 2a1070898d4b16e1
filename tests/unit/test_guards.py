"""The HTTP guards in isolation: app token, body limit, and errors without stack traces."""

from collections.abc import AsyncIterator

from fastapi import FastAPI

from orchestrator.guards import limit_body_size, require_app_token
from tests.unit.asgi import request
from tests.unit.dev_issuer import auth, verifier


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    return app


def test_the_app_token_is_required_when_configured() -> None:
    app = _app()
    require_app_token(app, token="s3cret")
    assert request(app, "POST", "/echo", json={"a": "b"}).status_code == 401
    wrong = {"dapr-api-token": "nope"}
    assert request(app, "POST", "/echo", json={}, headers=wrong).status_code == 401
    right = {"dapr-api-token": "s3cret"}
    assert request(app, "POST", "/echo", json={"a": "b"}, headers=right).status_code == 200


def test_bodies_over_the_limit_are_refused_before_parsing() -> None:
    app = _app()
    limit_body_size(app, 100)
    assert request(app, "POST", "/echo", json={"a": "x" * 200}).status_code == 413
    assert request(app, "POST", "/echo", json={"a": "x"}).status_code == 200


def test_an_internal_error_answers_without_its_stack_trace() -> None:
    from unittest.mock import MagicMock

    from orchestrator.api.app import build_api
    from orchestrator.workflows.inputs import OrderPolicy

    deps = MagicMock()
    deps.read_model.list.side_effect = RuntimeError("db path /secret/place exploded")
    deps.policy = OrderPolicy()
    response = request(build_api(deps, verifier()), "GET", "/orders", headers=auth())
    assert response.status_code == 500
    assert response.json()["detail"] == "internal error"
    assert "Traceback" not in response.text and "/secret/place" not in response.text


def test_a_chunked_body_is_measured_as_it_arrives_and_passed_on_whole() -> None:
    app = _app()
    limit_body_size(app, 100)

    async def chunks(text: str) -> AsyncIterator[bytes]:
        data = text.encode()
        for start in range(0, len(data), 7):
            yield data[start : start + 7]

    big = request(app, "POST", "/echo", content=chunks('{"a": "' + "x" * 200 + '"}'),
                  headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413
    small = request(app, "POST", "/echo", content=chunks('{"a": "bc"}'),
                    headers={"content-type": "application/json"})  # fmt: skip
    assert small.status_code == 200 and small.json() == {"a": "bc"}


def test_a_sidecar_that_cannot_take_the_call_answers_503_retry_not_500() -> None:
    from unittest.mock import MagicMock

    import grpc

    from orchestrator.api.app import build_api
    from orchestrator.workflows.inputs import OrderPolicy

    class Busy(grpc.RpcError):  # type: ignore[misc]
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNKNOWN

    deps = MagicMock()
    deps.workflows.return_value.get_workflow_state.side_effect = Busy("SQLITE_BUSY")
    deps.policy = OrderPolicy()
    response = request(build_api(deps, verifier()), "GET", "/orders/o-1", headers=auth())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "retry" in response.json()["detail"]


def test_liveness_fails_only_when_the_worker_stays_unseen_past_healing() -> None:
    from unittest.mock import MagicMock

    from orchestrator.api.app import STALLED_FOR_GOOD_S, build_api
    from orchestrator.workflows.inputs import OrderPolicy

    deps = MagicMock()
    deps.policy = OrderPolicy()
    deps.worker_status.return_value = {"unseen_by_sidecar_s": 12.0}
    assert request(build_api(deps, verifier()), "GET", "/livez").status_code == 200
    deps.worker_status.return_value = {"unseen_by_sidecar_s": STALLED_FOR_GOOD_S + 1}
    assert request(build_api(deps, verifier()), "GET", "/livez").status_code == 503
