"""The state port of the service apps (a key-value store with ETags) and its Dapr adapter.

Handlers read a key with its ETag, decide, and write back in one `transact` call whose
writes each say what they expect: the ETag they read (`etag`), or that the key is still
absent (`must_not_exist`). Any expectation that fails raises `ConcurrencyConflict`, nothing
is written, and the handler re-reads and decides again (`retry_on_conflict`).
"""

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._request import TransactionalStateOperation, TransactionOperationType
from dapr.clients.grpc._state import Concurrency, StateOptions

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ConcurrencyConflict(Exception):
    """A key changed (or appeared) between our read and our write; re-read and retry."""


@dataclass(frozen=True)
class Write:
    key: str
    value: str | None  # JSON; None deletes the key
    etag: str | None = None  # the key must still carry this ETag
    must_not_exist: bool = False  # the key must still be absent

    def __post_init__(self) -> None:
        if self.must_not_exist and (self.etag is not None or self.value is None):
            raise ValueError(f"{self.key}: must_not_exist is for creating a key, without an etag")


class KeyValueStore(Protocol):
    def get(self, key: str) -> tuple[str | None, str | None]:
        """The key's JSON value and ETag, or (None, None) when it does not exist."""
        ...

    def transact(self, ops: Sequence[Write]) -> None:
        """All writes or none; raises ConcurrencyConflict when an expectation fails."""
        ...


def retry_on_conflict(fn: Callable[[], T], attempts: int = 50) -> T:
    """Runs a read-decide-write attempt until it wins its race (or `attempts` run out)."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            # Jitter, so writers that just collided do not collide again in lockstep.
            time.sleep(random.uniform(0, min(0.05, 0.002 * attempt)))
    raise AssertionError("unreachable")


# With first-write concurrency a write without an ETag only inserts (the store answers
# an ETag mismatch when the key exists) and a write with an ETag only updates that version.
_FIRST_WRITE = StateOptions(concurrency=Concurrency.first_write)


class DaprStateStore:
    """KeyValueStore over a Dapr state store (sqlite locally) through DaprClient.

    must_not_exist: a single write goes through `save_state` with first-write concurrency
    and no ETag, which the store enforces atomically. The SDK's transactional operations
    carry no StateOptions, so inside a multi-key transaction must_not_exist is a read
    just before the transaction; callers make that safe by putting a write under the ETag
    of a key that every writer of the new key also writes (inventory: the item).
    """

    def __init__(self, dapr: DaprClient, store_name: str) -> None:
        self._dapr = dapr
        self._store = store_name

    def get(self, key: str) -> tuple[str | None, str | None]:
        response = self._dapr.get_state(self._store, key)
        if not response.data:
            return None, None
        return response.text(), response.etag or None

    def transact(self, ops: Sequence[Write]) -> None:
        if not ops:
            return
        try:
            if len(ops) == 1:
                self._write_one(ops[0])
            else:
                self._write_many(ops)
        except DaprGrpcError as error:
            if _is_etag_conflict(error):
                raise ConcurrencyConflict(f"{self._store}: {error.details()}") from error
            raise

    def _write_one(self, op: Write) -> None:
        guarded = op.etag is not None or op.must_not_exist
        options = _FIRST_WRITE if guarded else None
        if op.value is None:
            self._dapr.delete_state(self._store, op.key, etag=op.etag, options=options)
        else:
            self._dapr.save_state(self._store, op.key, op.value, etag=op.etag, options=options)

    def _write_many(self, ops: Sequence[Write]) -> None:
        for op in ops:
            if op.must_not_exist and self.get(op.key)[0] is not None:
                raise ConcurrencyConflict(f"{self._store}: {op.key} already exists")
        self._dapr.execute_state_transaction(
            self._store,
            [
                TransactionalStateOperation(
                    op.key,
                    op.value,
                    etag=op.etag,
                    operation_type=TransactionOperationType.upsert
                    if op.value is not None
                    else TransactionOperationType.delete,
                )
                for op in ops
            ],
        )


def _is_etag_conflict(error: DaprGrpcError) -> bool:
    # save/delete answer ABORTED on an ETag mismatch; a transaction answers INTERNAL with
    # the store's "possible etag mismatch" text, so both are recognised.
    return bool(
        error.code() == grpc.StatusCode.ABORTED or "etag mismatch" in (error.details() or "")
    )
