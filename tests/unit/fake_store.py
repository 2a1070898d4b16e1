"""An in-memory KeyValueStore with the same ETag and conflict rules as the Dapr adapter."""

import itertools
import threading
import time
from collections.abc import Callable, Sequence

from services.state import ConcurrencyConflict, Write


class FakeStore:
    """Thread-safe. With `dapr_like_creates`, a multi-key transaction checks must_not_exist
    the way DaprStateStore does, by a read just before it (leaving a window for a racer),
    so tests can show the handlers stay correct on the real adapter too."""

    def __init__(self, *, dapr_like_creates: bool = False) -> None:
        self._data: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._versions = itertools.count(1)
        self._dapr_like_creates = dapr_like_creates
        self.transactions = 0  # committed ones, so tests can tell a read-only call
        # Runs once inside the next dapr-like window: a racer placed exactly there.
        self.in_next_window: Callable[[], object] | None = None

    def get(self, key: str) -> tuple[str | None, str | None]:
        with self._lock:
            value, etag = self._data.get(key, (None, None))
        time.sleep(0)  # yield, so that racing threads really interleave between read and write
        return value, etag

    def transact(self, ops: Sequence[Write]) -> None:
        check_creates = True
        if self._dapr_like_creates and len(ops) > 1:
            with self._lock:
                self._check(ops, creates=True, etags=False)
            time.sleep(0.002)  # the window between the adapter's read and its transaction
            racer, self.in_next_window = self.in_next_window, None
            if racer is not None:
                racer()
            check_creates = False
        with self._lock:
            self._check(ops, creates=check_creates, etags=True)
            for op in ops:
                if op.value is None:
                    self._data.pop(op.key, None)
                else:
                    self._data[op.key] = (op.value, str(next(self._versions)))
            self.transactions += 1

    def stored_keys(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(key for key in self._data if key.startswith(prefix))

    def _check(self, ops: Sequence[Write], *, creates: bool, etags: bool) -> None:
        for op in ops:
            current = self._data.get(op.key)
            if creates and op.must_not_exist and current is not None:
                raise ConcurrencyConflict(f"{op.key} already exists")
            if etags and op.etag is not None and (current is None or current[1] != op.etag):
                raise ConcurrencyConflict(f"{op.key}: etag mismatch")
