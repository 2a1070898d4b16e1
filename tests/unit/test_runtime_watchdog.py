"""The workflow worker reconnects when its sidecar stops counting it."""

import threading
from typing import Any

from orchestrator.runtime import RuntimeHandle


class FakeRuntime:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.shut = False

    def start(self) -> None:
        self.started.set()

    def shutdown(self) -> None:
        self.shut = True


def _run(counts: list[int | None]) -> tuple[RuntimeHandle, list[FakeRuntime]]:
    """Runs the watchdog until it has seen every scripted reply, then stops it."""
    built: list[FakeRuntime] = []
    replies = iter(counts)
    all_seen = threading.Event()

    def build() -> Any:
        built.append(FakeRuntime())
        return built[-1]

    def counting() -> int | None:
        try:
            return next(replies)
        except StopIteration:
            all_seen.set()
            return 1

    handle = RuntimeHandle(build, counting, check_every_s=0.005)
    handle.start_in_background()
    assert all_seen.wait(timeout=10), "the watchdog stopped asking the sidecar"
    handle.stop()
    return handle, built


def test_a_worker_the_sidecar_no_longer_counts_is_reconnected() -> None:
    handle, built = _run([1, 0, 0, 1])
    assert handle.reconnects == 1
    assert built[0].shut and built[1].started.is_set()


def test_an_unreachable_sidecar_or_a_single_blip_does_not_reconnect() -> None:
    handle, built = _run([None, None, 0, 1, None, 0, 1])
    assert handle.reconnects == 0
    assert len(built) == 1


def test_the_real_runtime_can_be_built_again_for_a_reconnect() -> None:
    from orchestrator.runtime import build_runtime

    build_runtime()
    build_runtime()  # the SDK refuses re-registration unless its marks are cleared
