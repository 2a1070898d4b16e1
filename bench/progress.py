"""A progress line on stdout: redrawn in place on a terminal, plain lines in a pipe."""

import shutil
import sys
import time
from typing import TextIO

BAR_WIDTH = 24


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


def format_line(label: str, fraction: float, detail: str, elapsed_s: float) -> str:
    minutes, seconds = divmod(int(elapsed_s), 60)
    return f"[{minutes:02d}:{seconds:02d}] {label:<22} {bar(fraction)} {fraction:4.0%}  {detail}"


class Progress:
    """`update` often; on a terminal it redraws one line, in a pipe it prints a line at
    most every `plain_every_s` seconds (and whenever the label changes). `note` prints a
    line that stays."""

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, plain_every_s: float = 5.0
    ) -> None:
        self._stream = stream or sys.stdout
        self._tty = self._stream.isatty() if tty is None else tty
        self._plain_every_s = plain_every_s
        self._began = time.monotonic()
        self._last_plain = -1e9
        self._last_label = ""
        self._drawn = False

    @property
    def is_tty(self) -> bool:
        return self._tty

    def update(self, label: str, fraction: float, detail: str = "") -> None:
        now = time.monotonic()
        line = format_line(label, fraction, detail, now - self._began)
        if self._tty:
            width = shutil.get_terminal_size((120, 20)).columns
            self._stream.write("\r" + line[: width - 1] + "\x1b[K")
            self._drawn = True
        elif label != self._last_label or now - self._last_plain >= self._plain_every_s:
            self._stream.write(line + "\n")
            self._last_plain = now
        self._last_label = label
        self._stream.flush()

    def note(self, message: str) -> None:
        if self._tty and self._drawn:
            self._stream.write("\r\x1b[K")
            self._drawn = False
        self._stream.write(message + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._drawn = False
        self._stream.flush()
