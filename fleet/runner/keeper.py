"""The keeper: restarts fleet processes that exit on their own, as a restart policy would.

Compose restarts an exited container (`restart: unless-stopped`) and Kubernetes an exited
container of a pod; locally the keeper does it. It is one more process of the fleet,
started last by `fleet up` and `fleet run` and stopped first by `fleet down`. It restarts
a process that the runner's records still list (so it was started and not stopped on
purpose) once it has died, unless someone holds it down (`state.hold`: a chaos fault, a
test), backing off while a process keeps failing to start. The orchestrator relies on it:
when its sidecar's worker count is broken, it asks the sidecar to exit and waits for a
fresh one.
"""

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from fleet.paths import run_dir
from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec

logger = logging.getLogger(__name__)

NAME = "keeper"
BEAT_EVERY_S = 1.0
FIRST_BACKOFF_S = 1.0
LONGEST_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0  # up this long: the next failure starts from the first backoff


def heartbeat_file() -> Path:
    return run_dir() / "keeper.beat"


def is_beating(within_s: float = 10.0) -> bool:
    try:
        return time.time() - heartbeat_file().stat().st_mtime < within_s
    except OSError:
        return False


@dataclass
class _Backoff:
    delay_s: float = FIRST_BACKOFF_S
    next_try_at: float = 0.0
    restarted_at: float = field(default_factory=time.monotonic)


class Keeper:
    def __init__(self, specs: list[ProcessSpec]) -> None:
        self._specs = [spec for spec in specs if spec.name != NAME]
        self._backoff: dict[str, _Backoff] = {}
        # Processes whose restart failed: `up` forgot them, but they are still wanted.
        self._retrying: set[str] = set()
        self.restarts: list[str] = []

    def sweep(self) -> None:
        """One look at every process; restarts those that died and are due."""
        supervisor.reap_children()  # the processes it restarted are its children
        known = state.load()
        now = time.monotonic()
        for spec in self._specs:
            if spec.name not in known and spec.name not in self._retrying:
                continue  # never started, or stopped on purpose
            if state.alive_pid(spec.name) is not None:
                continue
            if state.held(spec.name):
                continue
            backoff = self._backoff.setdefault(spec.name, _Backoff(restarted_at=0.0))
            if now < backoff.next_try_at:
                continue
            self._restart(spec, backoff, now)

    def _restart(self, spec: ProcessSpec, backoff: _Backoff, now: float) -> None:
        if now - backoff.restarted_at > STABLE_AFTER_S:
            backoff.delay_s = FIRST_BACKOFF_S
        logger.warning("%s exited on its own; restarting it", spec.name)
        try:
            supervisor.up([spec], announce=False)
        except supervisor.FleetError as error:
            self._retrying.add(spec.name)
            backoff.next_try_at = now + backoff.delay_s
            logger.error(
                "restarting %s failed (%s); next try in %.0fs",
                spec.name,
                str(error).splitlines()[0],
                backoff.delay_s,
            )
            backoff.delay_s = min(backoff.delay_s * 2, LONGEST_BACKOFF_S)
            return
        self._retrying.discard(spec.name)
        backoff.restarted_at = time.monotonic()
        backoff.next_try_at = backoff.restarted_at + backoff.delay_s
        backoff.delay_s = min(backoff.delay_s * 2, LONGEST_BACKOFF_S)
        self.restarts.append(spec.name)
        logger.warning("%s restarted", spec.name)


def run(specs: list[ProcessSpec], stop: threading.Event) -> None:
    keeper = Keeper(specs)
    beat = heartbeat_file()
    beat.parent.mkdir(parents=True, exist_ok=True)
    while not stop.is_set():
        beat.touch()
        try:
            keeper.sweep()
        except Exception:  # the keeper must outlive any one bad look
            logger.exception("the keeper's sweep failed; trying again")
        stop.wait(BEAT_EVERY_S)


def _stop_on(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main() -> int:
    """`python -m fleet.runner.keeper`: the keeper process the runner starts."""
    from fleet.stack import specs as fleet_specs

    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    stop = threading.Event()
    _stop_on(stop)
    run(fleet_specs(), stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
