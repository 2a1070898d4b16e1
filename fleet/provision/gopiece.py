"""A piece made of commands built from one Go module, through a wrapper module of our own.

Each piece is a `GoPiece` value (module, version, commands, flags); this module turns it
into a cached, version-keyed `bin/` folder, built in one `go build` with visible progress.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleet.paths import cache_dir
from fleet.provision import gomodule
from fleet.provision.errors import failure
from fleet.provision.progress import format_elapsed, progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require_go

BUILD_SECONDS = "BUILD_SECONDS"


@dataclass(frozen=True)
class GoPiece:
    name: str
    module: str
    version: str  # without the leading v
    commands: tuple[str, ...]  # the binaries bin/ holds once built
    # Import paths of the main packages; "." is the wrapper's own main.go (main_go).
    packages: tuple[str, ...]
    tags: str = ""
    x_flags: tuple[str, ...] = ()  # `-X importpath.name=value` stamps
    # -s -w: no symbol table or DWARF. Smaller binaries and a faster link.
    strip: bool = True
    # For upstream replaces that point into its own checkout: the published version.
    version_of: Callable[[str], str] | None = None
    main_go: str | None = None
    home_name: str | None = None
    # `nice -n` for the compile: pieces only the bench needs yield to everyone else's work.
    niceness: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def home(self) -> Path:
        return cache_dir() / (self.home_name or f"{self.name}-{self.version}")

    @property
    def bin_dir(self) -> Path:
        return self.home / "bin"

    def binary(self, command: str) -> Path:
        if command not in self.commands:
            raise KeyError(f"{self.label} builds {self.commands}, not {command!r}")
        return self.bin_dir / command

    @property
    def ldflags(self) -> str:
        flags = [f"-X {stamp}" for stamp in self.x_flags]
        return " ".join((["-s", "-w"] if self.strip else []) + flags)

    @property
    def wrapper_name(self) -> str:
        # `go build -o dir/ .` names the binary after the wrapper's last path element.
        return f"orderfleet.local/{self.commands[0] if self.main_go else self.name + 'build'}"

    def is_built(self) -> bool:
        return is_complete(self.bin_dir) and all(
            os.access(self.bin_dir / c, os.X_OK) for c in self.commands
        )

    def build_seconds(self) -> float | None:
        try:
            return float((self.bin_dir / BUILD_SECONDS).read_text())
        except (OSError, ValueError):
            return None

    def ensure(self) -> Path:
        """Builds the commands unless this version is in the cache; returns bin/."""
        with piece_lock(self.home):
            if not self.is_built():
                _build(self)
        return self.bin_dir


def _build(piece: GoPiece) -> None:
    go = require_go()
    work = piece.home / "build"
    log = piece.home / "build.log"
    began = time.monotonic()
    with (
        progress(piece.label) as shown,
        log.open("w") as log_file,
        staged(piece.bin_dir, piece.label, f"{piece.label} {piece.ldflags}") as staging,
    ):
        shown.phase("resolving", f"{piece.module}@v{piece.version}")
        (upstream,) = gomodule.download(go, [f"{piece.module}@v{piece.version}"], log_file, log)
        go_mod = gomodule.wrapper_go_mod(upstream, piece.wrapper_name, piece.version_of)
        upstream_sum = upstream.dir / "go.sum"
        go_sum = (upstream_sum.read_text() if upstream_sum.exists() else "") + upstream.sum_lines()
        if piece.version_of is not None:
            pins = gomodule.pinned_modules(upstream.go_mod.read_text(), piece.version_of)
            if pins:
                shown.phase("resolving", f"{len(pins)} pinned modules")
                go_sum += "".join(m.sum_lines() for m in gomodule.download(go, pins, log_file, log))
        gomodule.write_wrapper(work, go_mod, go_sum, piece.main_go)
        shown.phase("downloading modules")
        total = gomodule.count_packages(go, work, piece.packages, piece.tags, log_file, log, shown)
        shown.phase("building", f"0/{total} packages")
        request = gomodule.BuildRequest(
            work,
            staging,
            piece.packages,
            piece.tags,
            piece.ldflags,
            cgo=False,
            niceness=piece.niceness,
        )
        gomodule.build(go, request, total, log_file, log, shown)
        absent = [c for c in piece.commands if not (staging / c).is_file()]
        if absent:
            raise failure(f"{piece.label}: the build wrote no {absent}", log)
        seconds = time.monotonic() - began
        (staging / BUILD_SECONDS).write_text(f"{seconds:.0f}\n")
        log_file.write(f"built in {format_elapsed(seconds)}\n")
