"""The workflow worker stays registered with its sidecar, and a broken sidecar count heals.

`FakeSidecar` keeps daprd 1.18.2's bookkeeping of work-item streams (wfengine.go and
durabletask-go's executor.go): a count of streams, actor types registered while it is
above zero, a failed registration decremented twice, and a stream's close that may be
processed after the next open.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from orchestrator.worker_watchdog import RuntimeHandle, Timings

FAST = Timings(
    check_every_s=0.01,
    settle_s=0.3,
    poll_s=0.005,
    sidecar_gone_s=0.3,
    sidecar_back_s=1.0,
    grace_s=0.02,
    longest_grace_s=0.1,
)


class FakeSidecar:
    def __init__(self, *, failed_connects: int = 0, close_lag_polls: int = 0) -> None:
        self.count = 0
        self.registered = False
        self.failed_connects = failed_connects
        self.close_lag_polls = close_lag_polls
        self.pending_closes: list[int] = []  # polls left before each close is processed
        self.streams = 0  # the streams really open
        self.down_polls = 0  # > 0: exiting and being restarted by the platform
        self.restarts = 0
        self.lock = threading.Lock()

    # what the app's worker does
    def connect(self) -> bool:
        with self.lock:
            if self.down_polls:
                return False
            self.count += 1
            self.streams += 1
            if self.failed_connects:
                self.streams -= 1
                self.failed_connects -= 1
                self.count -= 1  # dapr's connect callback undoes its own increment ...
                self._decrement()  # ... and durabletask-go's disconnect path does it again
                return False
            self.registered = True
            # A close still pending is processed now, after this open: the race.
            while self.pending_closes:
                self.pending_closes.pop()
                self._decrement()
            return True

    def close(self) -> None:
        with self.lock:
            self.streams -= 1
            if self.close_lag_polls:
                self.pending_closes.append(self.close_lag_polls)
            else:
                self._decrement()

    def _decrement(self) -> None:
        self.count -= 1
        if self.count == 0 and self.registered:
            self.registered = False

    # what the watchdog asks
    def connected_workers(self) -> int | None:
        with self.lock:
            if self.down_polls:
                self.down_polls -= 1
                if self.down_polls == 0:  # the platform started a fresh sidecar, and
                    # every worker still running (the SDK retries) connects to it
                    self.count, self.registered = self.streams, self.streams > 0
                    self.pending_closes = []
                    self.restarts += 1
                return None
            self.pending_closes = [polls - 1 for polls in self.pending_closes]
            while self.pending_closes and self.pending_closes[0] <= 0:
                self.pending_closes.pop(0)
                self._decrement()
            return self.count

    def shutdown(self) -> None:
        with self.lock:
            self.down_polls = 3

    @property
    def workflows_flow(self) -> bool:
        return self.registered and self.count >= 1


class FakeRuntime:
    """The SDK's worker: start() connects (retrying, as the SDK does); shutdown() closes."""

    def __init__(self, sidecar: FakeSidecar) -> None:
        self.sidecar = sidecar
        self.connected = False

    def start(self) -> None:
        deadline = time.monotonic() + 2
        while not self.sidecar.connect():
            assert time.monotonic() < deadline, "the fake sidecar never took the stream"
            time.sleep(0.002)
        self.connected = True

    def shutdown(self) -> None:
        if self.connected:
            self.sidecar.close()
            self.connected = False


def _until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _watch(sidecar: FakeSidecar) -> tuple[RuntimeHandle, list[FakeRuntime]]:
    built: list[FakeRuntime] = []

    def build() -> Any:
        built.append(FakeRuntime(sidecar))
        return built[-1]

    handle = RuntimeHandle(build, sidecar, FAST)
    handle.start_in_background()
    return handle, built


def _steady(handle: RuntimeHandle, sidecar: FakeSidecar, checks: int = 30) -> bool:
    """Workflows flow and stay flowing for `checks` watch intervals, with no further heal."""
    heals = handle.reconnects + handle.sidecar_restarts
    for _ in range(checks):
        time.sleep(FAST.check_every_s)
        if not sidecar.workflows_flow or handle.reconnects + handle.sidecar_restarts != heals:
            return False
    return True


def test_the_fake_sidecar_reproduces_the_stall_that_plain_reconnects_cause() -> None:
    # An app restart whose first registration failed: the count is one below the streams.
    sidecar = FakeSidecar(failed_connects=1, close_lag_polls=3)
    runtime = FakeRuntime(sidecar)
    runtime.start()
    assert sidecar.connected_workers() == 0 and sidecar.registered
    for _ in range(5):  # what the old watchdog did every 10 s: close, then open at once
        runtime.shutdown()
        runtime = FakeRuntime(sidecar)
        runtime.start()
        assert sidecar.connected_workers() == 0, "the count never comes back"
        assert not sidecar.registered, "the close processed after the open unregistered"


def test_a_broken_count_is_healed_by_restarting_the_sidecar_once() -> None:
    sidecar = FakeSidecar(failed_connects=1, close_lag_polls=3)
    handle, built = _watch(sidecar)
    try:
        assert _until(lambda: handle.sidecar_restarts == 1), "the watchdog never healed"
        assert _until(lambda: sidecar.workflows_flow), "workflows never flowed again"
        assert _steady(handle, sidecar), "the watchdog kept acting on a healthy sidecar"
        assert sidecar.restarts == 1 and sidecar.connected_workers() == 1
        assert handle.ready.is_set()
        assert [r.connected for r in built].count(True) == 1, "exactly one live stream"
    finally:
        handle.stop()


def test_a_sound_count_that_lost_our_stream_is_healed_by_a_reconnect() -> None:
    sidecar = FakeSidecar()
    handle, built = _watch(sidecar)
    try:
        assert _until(lambda: sidecar.workflows_flow)
        with sidecar.lock:  # the stream dropped without the SDK noticing
            sidecar.count, sidecar.registered, sidecar.streams = 0, False, 0
        built[-1].connected = False
        assert _until(lambda: handle.reconnects == 1)
        assert _until(lambda: sidecar.workflows_flow)
        assert handle.sidecar_restarts == 0 and _steady(handle, sidecar)
    finally:
        handle.stop()


def test_an_unreachable_sidecar_or_a_single_blip_changes_nothing() -> None:
    sidecar = FakeSidecar()
    handle, built = _watch(sidecar)
    try:
        assert _until(lambda: sidecar.workflows_flow)
        with sidecar.lock:
            sidecar.down_polls = 2  # answers nothing for a while, then comes back empty ...
        assert _until(lambda: sidecar.restarts == 1)
        assert _steady(handle, sidecar)
        assert handle.reconnects == 0 and handle.sidecar_restarts == 0 and len(built) == 1
    finally:
        handle.stop()


def test_the_real_runtime_can_be_built_again_for_a_reconnect() -> None:
    from orchestrator.runtime import build_runtime

    build_runtime()
    build_runtime()  # the SDK refuses re-registration unless its marks are cleared
