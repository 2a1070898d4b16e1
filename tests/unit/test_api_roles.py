"""Who may do what on the API: 401 without a valid token, 403 for the wrong role, and a
client that sees only its own customer's orders. Each rule fails its test if removed."""

import json
import time
from typing import Any
from unittest.mock import MagicMock

import jwt
import pytest
from fastapi import FastAPI

from contracts.api import OrderView
from contracts.orders import OrderStatus
from contracts.roles import API_AUDIENCE, DEV_ISSUER, Role, allows
from fleet.identity import mint, new_signing_key
from orchestrator.api import app as api_module
from orchestrator.workflows.inputs import OrderPolicy
from tests.unit.asgi import request
from tests.unit.dev_issuer import ISSUER_KEY, auth, verifier

ORDER = {
    "order_id": "o-1",
    "customer_id": "cust-dev",
    "items": [{"sku": "SKU-1", "quantity": 1}],
    "shipping_address": {
        "name": "Ada",
        "line1": "1 Way",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    },
    "payment_token": "tok_visa",
}
# (method, path, body, the least role that may)
PROTECTED: list[tuple[str, str, Any, Role]] = [
    ("POST", "/orders", ORDER, Role.CLIENT),
    ("GET", "/orders/o-1", None, Role.CLIENT),
    ("GET", "/orders", None, Role.CLIENT),
    ("GET", "/orders/o-1/payments", None, Role.CLIENT),
    ("GET", "/orders/o-1/events", None, Role.CLIENT),
    ("GET", "/catalog", None, Role.CLIENT),
    ("GET", "/me", None, Role.CLIENT),
    ("PUT", "/catalog/SKU-1", {"name": "n", "price": "1.00", "stock": 1}, Role.OPERATOR),
    ("GET", "/orders/bulk/b-1", None, Role.OPERATOR),
    ("POST", "/orders/o-1/approval", {"approved": True}, Role.OPERATOR),
    ("POST", "/orders/o-1/cancel", None, Role.OPERATOR),
    ("POST", "/diagnostics/doctor", None, Role.OPERATOR),
    ("DELETE", "/orders?older_than_s=60", None, Role.ADMIN),
]


@pytest.fixture
def deps() -> MagicMock:
    deps = MagicMock()
    deps.policy = OrderPolicy()
    deps.catalog.unknown.return_value = []
    deps.read_model.list.return_value = []
    deps.read_model.finished_before.return_value = []
    deps.is_ready.return_value = True
    deps.worker_status.return_value = {}
    return deps


@pytest.fixture
def api(deps: MagicMock, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    def view(_: Any, order_id: str) -> OrderView:
        return OrderView(order_id=order_id, customer_id="cust-other", status=OrderStatus.PENDING)

    monkeypatch.setattr(api_module, "order_view", view)
    # No sidecar here: the calls past the guards answer at once.
    monkeypatch.setattr(
        api_module, "invoke", lambda *_: {"order_id": "o-1", "entries": [], "items": []}
    )
    monkeypatch.setattr(api_module, "raise_event", lambda *_: None)
    return api_module.build_api(deps, verifier())


def _call(api: FastAPI, method: str, path: str, body: Any, headers: dict[str, str]) -> int:
    return request(api, method, path, json=body, headers=headers).status_code


@pytest.mark.parametrize(("method", "path", "body", "least"), PROTECTED)
def test_a_missing_or_bad_token_gets_401(
    api: FastAPI, method: str, path: str, body: Any, least: Role
) -> None:
    response = request(api, method, path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _call(api, method, path, body, {"Authorization": "Bearer not-a-jwt"}) == 401
    assert _call(api, method, path, body, {"Authorization": "Basic YTpi"}) == 401


@pytest.mark.parametrize(("method", "path", "body", "least"), PROTECTED)
def test_each_endpoint_needs_its_role(
    api: FastAPI, method: str, path: str, body: Any, least: Role
) -> None:
    for role in Role:
        status = _call(api, method, path, body, auth(role))
        if allows(role, least):
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(mint(ISSUER_KEY, Role.ADMIN, now=time.time() - 86400, ttl_s=60), id="expired"),
        pytest.param(mint(ISSUER_KEY, Role.ADMIN, audience="someone-else"), id="audience"),
        pytest.param(mint(ISSUER_KEY, Role.ADMIN, issuer="https://evil.example"), id="issuer"),
        pytest.param(mint(new_signing_key(), Role.ADMIN), id="another-key"),
        pytest.param(
            jwt.encode(
                {
                    "sub": "x",
                    "roles": ["admin"],
                    "iss": DEV_ISSUER,
                    "aud": API_AUDIENCE,
                    "exp": int(time.time()) + 60,
                },
                "a-shared-secret-of-thirty-two-bytes",
                algorithm="HS256",
            ),
            id="hs256",
        ),
    ],
)
def test_a_token_that_does_not_verify_gets_401(api: FastAPI, token: str) -> None:
    assert request(api, "GET", "/me", headers=_bearer(token)).status_code == 401
    assert request(api, "GET", "/me", headers=auth(Role.ADMIN)).status_code == 200


def test_a_verified_token_without_a_known_role_gets_403(api: FastAPI) -> None:
    claims = jwt.decode(mint(ISSUER_KEY, Role.ADMIN), options={"verify_signature": False}) | {
        "roles": ["superuser"]
    }
    from fleet.identity import ALGORITHM, _private_key, _thumbprint

    token = jwt.encode(
        claims,
        _private_key(ISSUER_KEY),
        algorithm=ALGORITHM,
        headers={"kid": _thumbprint(ISSUER_KEY)},
    )
    assert request(api, "GET", "/me", headers=_bearer(token)).status_code == 403


def test_health_and_the_console_stay_open(api: FastAPI) -> None:
    assert request(api, "GET", "/healthz").status_code == 200
    assert request(api, "GET", "/livez").status_code == 200
    assert request(api, "GET", "/").status_code == 200
    assert request(api, "GET", "/console/app.js").status_code == 200


def test_me_names_the_subject_and_role(api: FastAPI) -> None:
    body = request(api, "GET", "/me", headers=auth(Role.OPERATOR, "ops-1")).json()
    assert body == {"subject": "ops-1", "role": "operator"}


def test_a_client_orders_for_its_own_customer_only(api: FastAPI) -> None:
    own = request(api, "POST", "/orders", json=ORDER, headers=auth(Role.CLIENT, "cust-dev"))
    assert own.status_code == 202
    other = request(api, "POST", "/orders", json=ORDER, headers=auth(Role.CLIENT, "cust-2"))
    assert other.status_code == 403
    assert "cust-2" in other.json()["detail"]
    bulk = {"bulk_id": "b-1", "orders": [ORDER]}
    bulk_status = request(api, "POST", "/orders/bulk", json=bulk, headers=auth(Role.CLIENT, "c9"))
    assert bulk_status.status_code == 403


def test_a_client_does_not_see_another_customers_order(api: FastAPI) -> None:
    # The stubbed order belongs to cust-other.
    assert (
        request(api, "GET", "/orders/o-1", headers=auth(Role.CLIENT, "cust-dev")).status_code == 404
    )
    theirs = auth(Role.CLIENT, "cust-other")
    assert request(api, "GET", "/orders/o-1", headers=theirs).status_code == 200
    assert request(api, "GET", "/orders/o-1", headers=auth(Role.OPERATOR)).status_code == 200
    mine = auth(Role.CLIENT, "cust-dev")
    assert request(api, "GET", "/orders/o-1/payments", headers=mine).status_code == 404
    assert (
        request(api, "GET", "/customers/cust-other/notifications", headers=mine).status_code == 403
    )


def test_a_clients_list_is_its_own_orders(api: FastAPI, deps: MagicMock) -> None:
    request(api, "GET", "/orders", headers=auth(Role.CLIENT, "cust-dev"))
    assert deps.read_model.list.call_args.kwargs["customer"] == "cust-dev"
    request(api, "GET", "/orders", headers=auth(Role.OPERATOR))
    assert deps.read_model.list.call_args.kwargs["customer"] is None


def test_the_approver_is_the_signed_in_identity(api: FastAPI, deps: MagicMock) -> None:
    response = request(
        api,
        "POST",
        "/orders/o-1/approval",
        json={"approved": True, "reason": "fine"},
        headers=auth(Role.OPERATOR, "alice@example.com"),
    )
    assert response.status_code == 202
    published = json.loads(deps.dapr.return_value.publish_event.call_args.kwargs["data"])
    assert published["approver"] == "alice@example.com"
    assert response.json()["approver"] == "alice@example.com"


def test_an_approver_named_by_the_caller_is_refused(api: FastAPI, deps: MagicMock) -> None:
    response = request(
        api,
        "POST",
        "/orders/o-1/approval",
        json={"approved": True, "approver": "someone-else"},
        headers=auth(Role.OPERATOR, "alice"),
    )
    assert response.status_code == 422
    assert "approver" in response.text
    deps.dapr.return_value.publish_event.assert_not_called()


def test_a_purge_goes_past_an_instance_the_engine_cannot_purge(
    api: FastAPI, deps: MagicMock
) -> None:
    import grpc

    class Stalled(grpc.RpcError):  # type: ignore[misc]
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNKNOWN

        def details(self) -> str:
            return "actor is stalled"

    deps.read_model.finished_before.return_value = ["o-stalled", "o-done"]
    deps.workflows.return_value.purge_workflow.side_effect = [Stalled(), None]
    response = request(api, "DELETE", "/orders?older_than_s=1", headers=auth(Role.ADMIN))
    assert response.status_code == 200
    assert response.json() == {"purged": 1, "order_ids": ["o-done"], "failed": ["o-stalled"]}
    deps.read_model.forget.assert_called_once_with(["o-done"])
