"""Plain terminal output helpers: tables, live blocks, and colour only on a terminal."""

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}
_ANSI = re.compile(r"\033\[[0-9;]*[A-Za-z]")


def is_terminal(stream: TextIO | None = None) -> bool:
    return (stream or sys.stdout).isatty() and os.environ.get("TERM") != "dumb"


def colour_enabled(stream: TextIO | None = None) -> bool:
    """Colour only where the text goes to a terminal, and never with NO_COLOR (no-color.org)."""
    return is_terminal(stream) and "NO_COLOR" not in os.environ


def paint(text: str, colour: str, *, stream: TextIO | None = None) -> str:
    """`text` in `colour` if it is bound for a terminal (stdout unless `stream` says else)."""
    if not colour_enabled(stream):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def error(text: str) -> None:
    """A red message on stderr (red only when stderr itself is a terminal)."""
    say(paint(text, "red", stream=sys.stderr), error=True)


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def say(text: str = "", *, error: bool = False) -> None:
    """Prints, but never lets a closed terminal or pipe interrupt a shutdown in progress."""
    with contextlib.suppress(BrokenPipeError, OSError):
        print(text, file=sys.stderr if error else sys.stdout, flush=True)


class LiveBlock:
    """Redraws a block of lines in place on a terminal: cursor up over the last block, clear.

    Lines are cut to the terminal's width, because a wrapped line would throw the count
    of lines to move back over.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._shown = 0

    def show(self, lines: Sequence[str]) -> None:
        width = shutil.get_terminal_size().columns
        fitted = [line if visible_len(line) < width else _cut(line, width - 1) for line in lines]
        back = f"\r\033[{self._shown}A" if self._shown else ""
        with contextlib.suppress(BrokenPipeError, OSError):
            self._stream.write(back + "\033[J" + "".join(f"{line}\n" for line in fitted))
            self._stream.flush()
        self._shown = len(fitted)


def _cut(line: str, width: int) -> str:
    """Keeps `width` visible characters, and every colour code (so none is left open)."""
    out, seen = [], 0
    for part in re.split(f"({_ANSI.pattern})", line):
        if _ANSI.fullmatch(part):
            out.append(part)
        else:
            out.append(part[: max(0, width - seen)])
            seen += len(part)
    return "".join(out)
