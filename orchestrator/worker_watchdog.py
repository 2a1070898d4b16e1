"""Keeps the workflow worker registered with its sidecar, and heals the sidecar when it can't.

daprd 1.18 counts the work-item streams of its app and registers the workflow actor types
while the count is above zero. A stream whose registration fails is decremented twice
(once by dapr's connect callback, once more by durabletask-go's disconnect path), so the
count can end up one below the number of live streams. From then on the sidecar reports
zero workers while ours is connected, and the next time a close is processed after an
open (an app restart, a reconnect) the actor types are unregistered with a stream still
open: every workflow stalls ("actor type ... workflow not registered"). Reconnecting
cannot fix a count that is off by one; each reconnect only replays the race.

So when the sidecar counts no worker of ours for two checks in a row, the watchdog:
1. closes our stream and waits until the sidecar has processed that close;
2. if the count is then exactly zero, the count is sound: it opens a fresh stream and
   checks that it is counted;
3. otherwise (a negative count, a fresh stream not counted) the sidecar's count is broken
   and only a fresh sidecar resets it: it asks the sidecar to shut down
   (`POST /v1.0/shutdown`) and lets the platform restart it (the local runner's keeper,
   compose's `restart: unless-stopped`, the pod's restart policy in Kubernetes), then
   connects to the new one.
After each heal it waits a grace period, doubled each time it has to heal again soon.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger(__name__)


class WorkflowRuntimeLike(Protocol):
    def start(self) -> None: ...

    def shutdown(self) -> None: ...


class SidecarWorkers(Protocol):
    """What the watchdog asks of the orchestrator's own sidecar."""

    def connected_workers(self) -> int | None:
        """The sidecar's count of workflow workers; None when it does not answer."""

    def shutdown(self) -> None:
        """Asks the sidecar to exit (the platform restarts it)."""


@dataclass(frozen=True)
class Timings:
    check_every_s: float = 5.0
    settle_s: float = 10.0  # for the sidecar to process our close, or count our new stream
    poll_s: float = 0.25
    sidecar_gone_s: float = 20.0  # for the sidecar to exit once asked
    sidecar_back_s: float = 180.0  # for the platform to bring it back
    grace_s: float = 30.0  # after a heal, before judging again (doubled on repeats)
    longest_grace_s: float = 600.0


class RuntimeHandle:
    """Runs the workflow worker in the background; `ready` tells the health check."""

    def __init__(
        self,
        build: Callable[[], WorkflowRuntimeLike],
        sidecar: SidecarWorkers,
        timings: Timings = Timings(),
    ) -> None:
        self._build = build
        self._sidecar = sidecar
        self._t = timings
        self.runtime: WorkflowRuntimeLike | None = None
        self._running = False
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.reconnects = 0
        self.sidecar_restarts = 0
        self.stalled_since: float | None = None
        self._grace_s = timings.grace_s
        self._last_heal_at = 0.0
        self._stopping = threading.Event()

    def status(self) -> dict[str, object]:
        stalled = self.stalled_since
        return {
            "reconnects": self.reconnects,
            "sidecar_restarts": self.sidecar_restarts,
            "unseen_by_sidecar_s": round(time.monotonic() - stalled, 1) if stalled else 0.0,
        }

    def start_in_background(self) -> None:
        threading.Thread(target=self._run, name="workflow-runtime", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        self._close()

    # ---- the worker

    def _open(self) -> bool:
        self.runtime = self._build()
        try:
            self.runtime.start()
        except Exception as error:
            self.failed = error
            logger.exception("workflow runtime failed to start")
            return False
        self._running = True
        self.failed = None
        logger.info("workflow runtime connected to its sidecar")
        self.ready.set()
        return True

    def _close(self) -> None:
        self.ready.clear()
        if not self._running:
            return
        self._running = False
        try:
            assert self.runtime is not None
            self.runtime.shutdown()
        except Exception:  # a half-dead stream may fail to close; what follows matters
            logger.exception("closing the workflow worker failed")

    # ---- the watch

    def _run(self) -> None:
        if not self._open():
            return
        unseen = 0
        while not self._stopping.wait(self._t.check_every_s):
            count = self._sidecar.connected_workers()
            unseen = unseen + 1 if count is not None and count <= 0 else 0
            if unseen == 1 and self.stalled_since is None:
                self.stalled_since = time.monotonic()
            if unseen == 0:
                self.stalled_since = None
            if unseen >= 2:
                self._heal(count)
                unseen = 0
                self._stopping.wait(self._grace())

    def _grace(self) -> float:
        """Longer after each heal that follows the previous one closely."""
        now = time.monotonic()
        if now - self._last_heal_at < 2 * self._grace_s + self._t.check_every_s * 4:
            self._grace_s = min(self._grace_s * 2, self._t.longest_grace_s)
        else:
            self._grace_s = self._t.grace_s
        self._last_heal_at = now
        return self._grace_s

    def _heal(self, seen: int | None) -> None:
        logger.warning(
            "the sidecar counts %s workflow workers while ours is connected; closing ours", seen
        )
        before = self._sidecar.connected_workers()
        self._close()
        after = self._settled(lambda count: before is None or count < before)
        if after == 0:
            self._open()
            if self._settled(lambda count: count >= 1) is not None and self._counted():
                self.reconnects += 1
                self.stalled_since = None
                logger.warning("workflow worker reconnected; the sidecar counts it again")
                return
            self._close()
        logger.error(
            "the sidecar's worker count is broken (%s with no worker of ours); restarting "
            "the sidecar, the only way to reset it",
            after,
        )
        self._restart_sidecar()

    def _counted(self) -> bool:
        count = self._sidecar.connected_workers()
        return count is not None and count >= 1

    def _settled(self, done: Callable[[int], bool]) -> int | None:
        """Polls the count until `done(count)` or `settle_s`; returns the last count."""
        deadline = time.monotonic() + self._t.settle_s
        count = self._sidecar.connected_workers()
        while not (count is not None and done(count)) and time.monotonic() < deadline:
            if self._stopping.wait(self._t.poll_s):
                break
            count = self._sidecar.connected_workers()
        return count

    def _restart_sidecar(self) -> None:
        try:
            self._sidecar.shutdown()
        except Exception:
            logger.exception("asking the sidecar to shut down failed")
        self.sidecar_restarts += 1
        if not self._wait(
            lambda: self._sidecar.connected_workers() is None, self._t.sidecar_gone_s
        ):
            logger.warning("the sidecar still answers after being asked to shut down")
        if not self._wait(
            lambda: self._sidecar.connected_workers() is not None, self._t.sidecar_back_s
        ):
            logger.error("the sidecar did not come back; connecting anyway")
        self._open()
        self.stalled_since = None

    def _wait(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline or self._stopping.wait(self._t.poll_s):
                return False
        return True
