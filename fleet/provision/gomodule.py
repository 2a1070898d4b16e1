"""Building commands out of a Go module that `go install` cannot build: the wrapper module.

Replace directives only apply in the main module, so `go install module/cmd/x@v` fails for
modules that carry them (dapr, Kubernetes, etcd). The way round is a small module of our
own whose go.mod is the upstream go.mod under another name, plus a requirement on the
upstream module itself. Replaces that point into the upstream checkout (`=> ./staging/...`,
`=> ../api`) cannot resolve from the module cache, so they are pinned to the published
versions of those modules. go.sum is seeded from upstream's, so the build runs with
`-mod=readonly` and checks every module against the sums the project itself recorded.
"""

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from fleet.provision.errors import ProvisionError, failure
from fleet.provision.progress import Progress

# `path => ./dir` or `path => ../dir`, alone on a line or inside a replace block.
_LOCAL_REPLACE = re.compile(r"^(\s*(?:replace\s+)?)(\S+)(\s+=>\s+)(\.\.?/\S*)\s*$", re.M)
_REQUIRE_LINE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)(?:\s*//.*)?$", re.M)


@dataclass(frozen=True)
class Module:
    """What `go mod download -json` reports for one module version."""

    path: str
    version: str
    go_mod: Path
    dir: Path
    sum: str
    go_mod_sum: str

    @classmethod
    def from_json(cls, info: dict[str, str]) -> "Module":
        return cls(
            path=info["Path"],
            version=info["Version"],
            go_mod=Path(info["GoMod"]),
            dir=Path(info["Dir"]),
            sum=info["Sum"],
            go_mod_sum=info["GoModSum"],
        )

    def sum_lines(self) -> str:
        return (
            f"{self.path} {self.version} {self.sum}\n"
            f"{self.path} {self.version}/go.mod {self.go_mod_sum}\n"
        )


def go_env(*, cgo: bool = False) -> dict[str, str]:
    # CGO off: static binaries that need nothing from the host's libc; readonly: the
    # build never edits go.mod/go.sum behind our back (a missing sum is an error).
    return {**os.environ, "CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "-mod=readonly"}


def _json_objects(text: str) -> list[dict[str, str]]:
    """`go mod download -json a b` prints one JSON object after another, not a list."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, str]] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return objects
        obj, index = decoder.raw_decode(text, index)
        objects.append(obj)


def download(go: str, specs: Iterable[str], log_file: TextIO, log: Path) -> list[Module]:
    """Downloads `path@version` modules (or finds them in the module cache)."""
    wanted = list(specs)
    result = subprocess.run(
        [go, "mod", "download", "-json", *wanted],
        capture_output=True,
        text=True,
        env=go_env(),
        cwd=log.parent,
    )
    log_file.write(result.stdout + result.stderr)
    log_file.flush()
    objects = _json_objects(result.stdout) if result.stdout.strip() else []
    errors = [f"{o.get('Path')}: {o['Error']}" for o in objects if o.get("Error")]
    if result.returncode != 0 or errors or len(objects) != len(wanted):
        raise failure(f"downloading {', '.join(wanted)} ({'; '.join(errors)})", log)
    return [Module.from_json(o) for o in objects]


def rename_module(go_mod: str, old: str, new: str) -> str:
    renamed, count = re.subn(rf"^module {re.escape(old)}\s*$", f"module {new}", go_mod, flags=re.M)
    if count != 1:
        raise ProvisionError(f"unexpected go.mod layout: no single `module {old}` line")
    return renamed


def required_versions(go_mod: str) -> dict[str, str]:
    """Every `path version` requirement of a go.mod, single-line or in a block."""
    without_replaces = re.sub(r"^replace\s*\((?:.|\n)*?^\)", "", go_mod, flags=re.M)
    without_replaces = re.sub(r"^replace .*$", "", without_replaces, flags=re.M)
    return {
        m.group(1): m.group(2)
        for m in _REQUIRE_LINE.finditer(without_replaces)
        if m.group(1) not in {"module", "go", "toolchain", "godebug"}
    }


def local_replaces(go_mod: str) -> list[str]:
    """Module paths that upstream replaces with a directory of its own checkout."""
    return [m.group(2) for m in _LOCAL_REPLACE.finditer(go_mod)]


def pin_local_replaces(go_mod: str, version_of: Callable[[str], str]) -> str:
    """`X => ./staging/src/X` becomes `X => X <published version>`.

    Kept as a replace (not a new requirement) because upstream requires these modules at
    placeholder versions such as v0.0.0; the replace is what makes them resolve."""

    def pinned(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(2)} {version_of(m.group(2))}"

    return _LOCAL_REPLACE.sub(pinned, go_mod)


def wrapper_go_mod(
    upstream: Module,
    wrapper_name: str,
    version_of: Callable[[str], str] | None = None,
) -> str:
    """The wrapper's go.mod: upstream's own, renamed, requiring upstream itself."""
    go_mod = rename_module(upstream.go_mod.read_text(), upstream.path, wrapper_name)
    if version_of is not None:
        go_mod = pin_local_replaces(go_mod, version_of)
    elif local_replaces(go_mod):
        raise ProvisionError(
            f"{upstream.path} replaces {local_replaces(go_mod)} with local directories; "
            "say which published versions to use instead"
        )
    return go_mod + f"\nrequire {upstream.path} {upstream.version}\n"


def pinned_modules(upstream_go_mod: str, version_of: Callable[[str], str]) -> list[str]:
    """`path@version` of every module upstream replaces locally and actually requires."""
    go_mod = upstream_go_mod
    required = required_versions(go_mod)
    return [f"{path}@{version_of(path)}" for path in local_replaces(go_mod) if path in required]


def write_wrapper(work: Path, go_mod: str, go_sum: str, main_go: str | None = None) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "go.mod").write_text(go_mod)
    (work / "go.sum").write_text(go_sum)
    if main_go is not None:
        (work / "main.go").write_text(main_go)


def count_packages(
    go: str,
    work: Path,
    packages: Iterable[str],
    tags: str,
    log_file: TextIO,
    log: Path,
    shown: Progress,
) -> int:
    """Lists every package to compile; on a cold cache this is where modules download."""
    # The package list goes to a file: reading two pipes in turn could deadlock.
    with tempfile.TemporaryFile("w+") as listing:
        process = subprocess.Popen(
            [go, "list", "-deps", *(["-tags", tags] if tags else []), *packages],
            cwd=work,
            env=go_env(),
            stdout=listing,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        downloaded = 0
        for line in process.stderr:
            log_file.write(line)
            if line.startswith("go: downloading"):
                downloaded += 1
                shown.detail(f"{downloaded} modules")
        log_file.flush()
        if process.wait() != 0:
            raise failure(f"resolving the module graph in {work}", log)
        listing.seek(0)
        return len(listing.read().split())


@dataclass(frozen=True)
class BuildRequest:
    work: Path
    out: Path
    packages: tuple[str, ...]
    tags: str = ""
    ldflags: str = ""
    cgo: bool = False
    # Above 0: the compile runs under `nice -n` (a large build on a shared 2-core host).
    niceness: int = 0


def build_command(go: str, request: BuildRequest) -> list[str]:
    command = ["nice", "-n", str(request.niceness)] if request.niceness > 0 else []
    command += [go, "build", "-v", "-trimpath"]
    if request.tags:
        command += ["-tags", request.tags]
    if request.ldflags:
        command += ["-ldflags", request.ldflags]
    return [*command, "-o", f"{request.out}/", *request.packages]


def build(
    go: str, request: BuildRequest, total: int, log_file: TextIO, log: Path, shown: Progress
) -> None:
    """One `go build` for every command (shared packages compile once), with progress."""
    command = build_command(go, request)
    process = subprocess.Popen(
        command,
        cwd=request.work,
        env=go_env(cgo=request.cgo),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    compiled = downloaded = 0
    for line in process.stdout:
        log_file.write(line)
        if line.startswith("go: downloading"):
            downloaded += 1
            shown.detail(f"downloading modules ({downloaded})")
        elif not line.startswith(("go:", "#", " ", "\t")):
            compiled += 1
            shown.detail(f"{min(compiled, total)}/{total} packages")
    log_file.flush()
    if process.wait() != 0:
        raise failure(f"building {' '.join(request.packages)}", log)
