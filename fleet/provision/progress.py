"""A phase-and-elapsed-time indicator for long provisioning steps.

On a terminal it redraws one line; in a log (CI) it prints a line every few seconds,
so a cold run is never silent for long.
"""

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

from fleet.console import is_terminal


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """Shows `[label] phase detail · elapsed` until closed."""

    def __init__(
        self, label: str, *, log_every_s: float = 15.0, stream: TextIO | None = None
    ) -> None:
        self._label = label
        self._phase = "starting"
        self._detail = ""
        self._started = time.monotonic()
        # stderr when stdout carries data (e.g. --json), so progress never mixes into it.
        self._out = stream or sys.stdout
        self._tty = is_terminal(self._out)
        self._log_every_s = log_every_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        outcome = "failed" if exc_type else "done"
        self._emit(f"[{self._label}] {outcome} in {format_elapsed(self.elapsed)}", final=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def phase(self, phase: str, detail: str = "") -> None:
        with self._lock:
            changed = phase != self._phase
            self._phase, self._detail = phase, detail
        if changed and not self._tty:
            self._emit(self._line())

    def detail(self, detail: str) -> None:
        with self._lock:
            self._detail = detail

    def _line(self) -> str:
        with self._lock:
            detail = f" {self._detail}" if self._detail else ""
            return f"[{self._label}] {self._phase}{detail} · {format_elapsed(self.elapsed)}"

    def _tick(self) -> None:
        interval = 1.0 if self._tty else self._log_every_s
        while not self._stop.wait(interval):
            self._emit(self._line())

    def _emit(self, line: str, *, final: bool = False) -> None:
        if self._tty:
            self._out.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self._out.write(line + "\n")
        self._out.flush()


@contextmanager
def progress(label: str, stream: TextIO | None = None) -> Iterator[Progress]:
    with Progress(label, stream=stream) as shown:
        yield shown
