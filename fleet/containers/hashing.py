"""Content hashes of an image's inputs: the same inputs give the same key, anywhere.

Files are hashed by content, never by mtime, so a fresh clone or a `touch` reuses the
cache. Large inputs (the Dapr binaries, the Kafka and Zipkin jars) are remembered by
(size, mtime) in a small memo so that a warm check does not read 600 MB again.
"""

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

_CHUNK = 1 << 20
# Caches and bytecode never change what an image does.
IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Memo:
    """sha256 of files by (path, size, mtime_ns), persisted between runs."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._entries: dict[str, list[object]] = {}
        if path is not None:
            try:
                self._entries = json.loads(path.read_text())
            except (OSError, ValueError):
                self._entries = {}

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        entry = self._entries.get(key)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return str(entry[2])
        value = file_digest(path)
        self._entries[key] = [stat.st_size, stat.st_mtime_ns, value]
        return value

    def save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._entries))
        temporary.replace(self._path)


def tree_files(root: Path) -> list[Path]:
    """Every file under `root` that matters, in a stable order (a file is itself)."""
    if root.is_file():
        return [root]
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_PARTS)
        for name in sorted(names):
            if Path(name).suffix not in IGNORED_SUFFIXES:
                files.append(Path(folder) / name)
    return files


def inputs_hash(
    files: Mapping[str, Path],
    values: Mapping[str, str] | None = None,
    parents: Iterable[str] = (),
    memo: Memo | None = None,
) -> str:
    """One key for an image: its files (by name in the image's context and content),
    named values (packages, build arguments, versions) and its base images' keys."""
    memo = memo or Memo()
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        # The executable bit is part of what a file is in an image.
        mode = "x" if os.access(path, os.X_OK) else "-"
        digest.update(f"file {name} {mode} {memo.digest(path)}\n".encode())
    for key, value in sorted((values or {}).items()):
        digest.update(f"value {key}={value}\n".encode())
    for parent in sorted(parents):
        digest.update(f"parent {parent}\n".encode())
    return digest.hexdigest()
