"""Plain terminal output helpers: tables, and colour only when talking to a terminal."""

import contextlib
import os
import sys
from collections.abc import Sequence

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1"}


def colour_enabled() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: str) -> str:
    if not colour_enabled():
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


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
