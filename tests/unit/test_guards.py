"""The HTTP guards in isolation: app token, body limit, and errors without stack traces."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator.guards import limit_body_size, require_app_token


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    return app


def test_the_app_token_is_required_when_configured() -> None:
    app = _app()
    require_app_token(app, token="s3cret")
    client = TestClient(app)
    assert client.post("/echo", json={"a": "b"}).status_code == 401
    assert client.post("/echo", json={}, headers={"dapr-api-token": "nope"}).status_code == 401
    ok = client.post("/echo", json={"a": "b"}, headers={"dapr-api-token": "s3cret"})
    assert ok.status_code == 200


def test_bodies_over_the_limit_are_refused_before_parsing() -> None:
    app = _app()
    limit_body_size(app, 100)
    client = TestClient(app)
    assert client.post("/echo", json={"a": "x" * 200}).status_code == 413
    assert client.post("/echo", json={"a": "x"}).status_code == 200


def test_an_internal_error_answers_without_its_stack_trace() -> None:
    from unittest.mock import MagicMock

    from orchestrator.api.app import build_api
    from orchestrator.workflows.inputs import OrderPolicy

    deps = MagicMock()
    deps.read_model.list.side_effect = RuntimeError("db path /secret/place exploded")
    deps.policy = OrderPolicy()
    client = TestClient(build_api(deps), raise_server_exceptions=False)
    response = client.get("/orders")
    assert response.status_code == 500
    assert response.json()["detail"] == "internal error"
    assert "Traceback" not in response.text and "/secret/place" not in response.text
