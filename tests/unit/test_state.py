"""The Dapr adapter's mapping onto the SDK, against a recording stand-in for DaprClient."""

from types import SimpleNamespace
from typing import Any, cast

import grpc
import pytest
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._request import TransactionOperationType
from dapr.clients.grpc._state import Concurrency

from services.state import ConcurrencyConflict, DaprStateStore, Write, retry_on_conflict


class _RpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()


class _Dapr:
    def __init__(self, state: dict[str, bytes] | None = None, fail: Exception | None = None):
        self.state = state or {}
        self.fail = fail
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_state(self, store_name: str, key: str) -> Any:
        data = self.state.get(key, b"")
        return SimpleNamespace(data=data, etag="e1" if data else "", text=data.decode)

    def save_state(self, store_name: str, key: str, value: str, **kwargs: Any) -> None:
        self._record("save_state", key=key, value=value, **kwargs)

    def delete_state(self, store_name: str, key: str, **kwargs: Any) -> None:
        self._record("delete_state", key=key, **kwargs)

    def execute_state_transaction(self, store_name: str, operations: list[Any]) -> None:
        self._record("execute_state_transaction", operations=operations)

    def _record(self, name: str, **kwargs: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append((name, kwargs))


def _store(dapr: _Dapr) -> DaprStateStore:
    return DaprStateStore(cast(DaprClient, dapr), "test-store")


def test_a_missing_key_reads_as_none_and_a_present_one_with_its_etag() -> None:
    store = _store(_Dapr({"k": b'{"a": 1}'}))
    assert store.get("absent") == (None, None)
    assert store.get("k") == ('{"a": 1}', "e1")


def test_a_single_create_is_an_insert_only_first_write_save() -> None:
    dapr = _Dapr()
    _store(dapr).transact([Write("k", "{}", must_not_exist=True)])
    [(name, call)] = dapr.calls
    assert name == "save_state"
    assert call["etag"] is None
    assert call["options"].concurrency == Concurrency.first_write


def test_an_unconditional_single_write_is_last_write_wins() -> None:
    dapr = _Dapr()
    _store(dapr).transact([Write("k", "{}")])
    assert dapr.calls[0][1]["options"] is None


def test_a_multi_key_write_is_one_transaction_carrying_the_etags() -> None:
    dapr = _Dapr()
    _store(dapr).transact([Write("a", "{}", etag="e7"), Write("b", None, etag="e8")])
    [(name, call)] = dapr.calls
    assert name == "execute_state_transaction"
    ops = call["operations"]
    assert [(op.key, op.etag, op.operation_type) for op in ops] == [
        ("a", "e7", TransactionOperationType.upsert),
        ("b", "e8", TransactionOperationType.delete),
    ]


def test_a_multi_key_create_of_an_existing_key_conflicts_before_writing() -> None:
    dapr = _Dapr({"b": b"{}"})
    with pytest.raises(ConcurrencyConflict):
        _store(dapr).transact([Write("a", "{}", etag="e1"), Write("b", "{}", must_not_exist=True)])
    assert dapr.calls == []


@pytest.mark.parametrize(
    ("code", "details"),
    [
        (grpc.StatusCode.ABORTED, "failed saving state in state store s: possible etag mismatch"),
        (
            grpc.StatusCode.INTERNAL,
            "error while executing state transaction: possible etag mismatch",
        ),
    ],
)
def test_an_etag_mismatch_from_dapr_is_a_concurrency_conflict(
    code: grpc.StatusCode, details: str
) -> None:
    store = _store(_Dapr(fail=DaprGrpcError(_RpcError(code, details))))
    with pytest.raises(ConcurrencyConflict):
        store.transact([Write("k", "{}", etag="e1")])


def test_other_dapr_errors_are_not_mistaken_for_conflicts() -> None:
    error = DaprGrpcError(_RpcError(grpc.StatusCode.UNAVAILABLE, "sidecar down"))
    with pytest.raises(DaprGrpcError):
        _store(_Dapr(fail=error)).transact([Write("k", "{}")])


def test_retry_on_conflict_retries_until_the_attempt_wins_then_gives_up() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConcurrencyConflict("lost the race")
        return "won"

    assert retry_on_conflict(flaky) == "won"
    assert len(attempts) == 3

    def always_loses() -> str:
        raise ConcurrencyConflict("lost again")

    with pytest.raises(ConcurrencyConflict):
        retry_on_conflict(always_loses, attempts=2)
