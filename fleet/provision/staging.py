"""Builds and downloads land in a staging folder and become the finished piece in one rename.

A run cut short (Ctrl-C, SIGKILL, a timeout) leaves only `<name>.partial`, which nothing
takes for a finished piece: the next run says so and starts that piece again (Go's module
and build caches, and Maven's local repository, keep what was already fetched or
compiled, so the second attempt resumes in effect). A lock per piece keeps two runs
(`make run` in one terminal, `make test` in another) from building it at the same time.
"""

import contextlib
import fcntl
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from fleet.console import say

COMPLETE_MARK = "COMPLETE"


def staging_path(final: Path) -> Path:
    return final.with_name(final.name + ".partial")


def is_complete(final: Path) -> bool:
    return (final / COMPLETE_MARK).is_file()


def leftover(final: Path) -> Path | None:
    """The staging folder an interrupted run left behind, if any."""
    staging = staging_path(final)
    return staging if staging.exists() else None


@contextlib.contextmanager
def piece_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"  … another run is provisioning {home.name}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _age(path: Path) -> str:
    minutes = (time.time() - path.stat().st_mtime) / 60
    return f"{minutes:.0f} min ago" if minutes >= 1 else "moments ago"


@contextlib.contextmanager
def staged(final: Path, label: str, description: str) -> Iterator[Path]:
    """Yields an empty staging folder; on success marks it complete and swaps it in.

    On any failure the staging folder stays (for its logs) and the final one is untouched
    unless it was incomplete already."""
    staging = staging_path(final)
    if staging.exists():
        say(
            f"[{label}] found {staging.name}, left by an interrupted run {_age(staging)}: "
            "starting this piece again (cached downloads and compiled packages are reused)"
        )
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    yield staging
    (staging / COMPLETE_MARK).write_text(description + "\n")
    # Never two half-states: the old final folder goes first, then one rename.
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
