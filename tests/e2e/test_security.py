"""The fleet's security baseline, each protection proved on the real fleet."""

import json
import stat
import subprocess
import uuid

import grpc
import httpx
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2_grpc

from fleet import topology
from fleet.paths import REPO_ROOT
from fleet.runner.specs import ProcessSpec
from fleet.secrets import app_api_token, dapr_api_token, ensure_secrets, secrets_file
from tests.e2e.fleet_client import auth, new_sku, order


def _sidecar(app: topology.AppSpec) -> str:
    return f"http://127.0.0.1:{app.dapr_http_port}"


@pytest.mark.parametrize("app", topology.APPS, ids=lambda a: a.app_id)
def test_every_sidecar_refuses_calls_without_its_api_token(
    fleet: list[ProcessSpec], app: topology.AppSpec
) -> None:
    url = f"{_sidecar(app)}/v1.0/metadata"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers={"dapr-api-token": "wrong"}, timeout=10).status_code == 401
    good = {"dapr-api-token": dapr_api_token(app.app_id)}
    assert httpx.get(url, headers=good, timeout=10).status_code == 200


def _invoke_app_directly(app: topology.AppSpec, token: str | None) -> grpc.StatusCode:
    metadata = (("dapr-api-token", token),) if token else ()
    with grpc.insecure_channel(f"127.0.0.1:{app.app_port}") as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        try:
            stub.OnInvoke(common_pb2.InvokeRequest(method="diagnostics.ping"), metadata=metadata)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("app", topology.SERVICE_APPS, ids=lambda a: a.app_id)
def test_service_apps_accept_calls_only_from_their_own_sidecar(
    fleet: list[ProcessSpec], app: topology.AppSpec
) -> None:
    assert _invoke_app_directly(app, None) == grpc.StatusCode.UNAUTHENTICATED
    assert _invoke_app_directly(app, "wrong") == grpc.StatusCode.UNAUTHENTICATED
    assert _invoke_app_directly(app, app_api_token(app.app_id)) == grpc.StatusCode.OK


def test_the_orchestrators_app_channel_refuses_anyone_but_its_sidecar(
    fleet: list[ProcessSpec],
) -> None:
    url = f"http://127.0.0.1:{topology.ORCHESTRATOR.app_port}/events/order-requests"
    forged = {"data": order(sku="SKU-KEYBOARD"), "id": uuid.uuid4().hex}
    assert httpx.post(url, json=forged, timeout=10).status_code == 401
    wrong = {"dapr-api-token": "wrong"}
    assert httpx.post(url, json=forged, headers=wrong, timeout=10).status_code == 401


def _call_payment_via(caller: topology.AppSpec) -> httpx.Response:
    return httpx.post(
        f"{_sidecar(caller)}/v1.0/invoke/payment/method/payment.ledger",
        json={"order_id": f"acl-{uuid.uuid4().hex[:8]}"},
        headers={"dapr-api-token": dapr_api_token(caller.app_id)},
        timeout=30,
    )


def test_payment_refuses_a_call_from_shipping_and_serves_the_orchestrator(
    fleet: list[ProcessSpec],
) -> None:
    refused = _call_payment_via(topology.SHIPPING)
    assert refused.status_code == 403
    assert "access control policy has denied access" in refused.text
    assert "spiffe://public/ns/default/shipping" in refused.text
    allowed = _call_payment_via(topology.ORCHESTRATOR)
    assert allowed.status_code == 200, allowed.text


def test_the_api_refuses_oversized_bodies(fleet: list[ProcessSpec]) -> None:
    big = order(sku="SKU-KEYBOARD", customer_id="c" * (2 * 1024 * 1024))
    response = httpx.post(f"{topology.API_URL}/orders", json=big, headers=auth(), timeout=30)
    assert response.status_code == 413


def test_the_api_rejects_unknown_fields(fleet: list[ProcessSpec]) -> None:
    payload = {**order(sku=new_sku(stock=1)), "discount": "100%"}
    response = httpx.post(f"{topology.API_URL}/orders", json=payload, headers=auth(), timeout=30)
    assert response.status_code == 422
    assert [tuple(e["loc"]) for e in response.json()["detail"]] == [("body", "discount")]


def test_tokens_live_in_the_generated_secret_store_not_in_the_checkout(
    fleet: list[ProcessSpec],
) -> None:
    path = secrets_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.resolve().is_relative_to(REPO_ROOT) or ".fleet" in path.parts
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    values = [value.encode() for value in ensure_secrets().values()]
    for name in filter(None, tracked):
        file = REPO_ROOT / name.decode()
        if file.is_file():
            content = file.read_bytes()
            assert not any(value in content for value in values), f"a token is in {name!r}"
    assert json.loads(path.read_text()).keys() == ensure_secrets().keys()
