"""Builds daprd, placement and scheduler from the `github.com/dapr/dapr` Go module.

`go install github.com/dapr/dapr/cmd/daprd@vX` cannot work: dapr's go.mod carries
replace directives, which only apply in the main module. So we generate a wrapper
module whose go.mod is dapr's own (requirements and replaces) under another name, plus
a requirement on dapr itself, seed go.sum from dapr's, and build the three commands.
"""

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fleet import versions
from fleet.paths import cache_dir
from fleet.provision.errors import ProvisionError, failure
from fleet.provision.progress import progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require_go

DAPR_MODULE = "github.com/dapr/dapr"
COMMANDS = ("daprd", "placement", "scheduler", "sentry")
_WRAPPER_MODULE = "orderfleet.local/daprbuild"


@dataclass(frozen=True)
class DaprBinaries:
    daprd: Path
    placement: Path
    scheduler: Path
    sentry: Path


def dapr_home(version: str = versions.DAPR_RUNTIME) -> Path:
    return cache_dir() / f"dapr-{version}-{versions.DAPR_BUILD_TAGS}"


def binaries(version: str = versions.DAPR_RUNTIME) -> DaprBinaries:
    bin_dir = dapr_home(version) / "bin"
    return DaprBinaries(*(bin_dir / name for name in COMMANDS))


def is_built(version: str = versions.DAPR_RUNTIME) -> bool:
    return is_complete(dapr_home(version) / "bin") and all(
        os.access(p, os.X_OK) for p in vars(binaries(version)).values()
    )


def ensure_dapr(version: str = versions.DAPR_RUNTIME) -> DaprBinaries:
    """Builds the runtime unless this version is already in the cache."""
    home = dapr_home(version)
    with piece_lock(home):
        if not is_built(version):
            _build_dapr(version, home)
    return binaries(version)


def _build_dapr(version: str, home: Path) -> None:
    build_commands(version, home, COMMANDS, f"dapr {version}")


def build_commands(version: str, home: Path, commands: tuple[str, ...], label: str) -> None:
    """Builds `commands` (folders of dapr's cmd/) of one Dapr version into `home`/bin.

    Shared by every piece built from the dapr module, each into a cache folder of its own;
    Go's build cache makes the packages they have in common compile once."""
    go = require_go()
    work = home / "build"
    log = home / "build.log"
    work.mkdir(parents=True, exist_ok=True)
    packages = _packages(commands)
    with (
        progress(label) as shown,
        log.open("w") as log_file,
        staged(home / "bin", label, f"{label} tags={versions.DAPR_BUILD_TAGS}") as staging,
    ):
        shown.phase("resolving", f"{DAPR_MODULE}@v{version}")
        module = download_module(go, version, log_file, log)
        write_wrapper_module(work, module)
        shown.phase("downloading modules")
        total = _count_packages(go, work, log_file, log, shown, packages)
        shown.phase("building", f"0/{total} packages")
        _build(go, work, staging, version, log_file, log, total, shown, packages)


def _go_env() -> dict[str, str]:
    # CGO off matches dapr's release builds; its sqlite driver is pure Go.
    return {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}


def download_module(  # type: ignore[no-untyped-def]
    go: str, version: str, log_file, log: Path, module_path: str = DAPR_MODULE
) -> dict[str, str]:
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{module_path}@v{version}"],
        capture_output=True,
        text=True,
        env=_go_env(),
        cwd=log.parent,
    )
    log_file.write(result.stdout + result.stderr)
    log_file.flush()
    if result.returncode != 0:
        raise failure(f"downloading {module_path}@v{version}", log)
    info: dict[str, str] = json.loads(result.stdout)
    return info


def write_wrapper_module(
    work: Path,
    module: dict[str, str],
    module_path: str = DAPR_MODULE,
    wrapper: str = _WRAPPER_MODULE,
) -> None:
    """go.mod and go.sum of a main module that keeps `module_path`'s directives and builds it.

    Replace and exclude directives apply only in the main module, so `go install pkg@v`
    refuses such modules; the wrapper is that module's go.mod under another name."""
    original = Path(module["GoMod"]).read_text()
    go_mod, renamed = re.subn(
        rf"^module {re.escape(module_path)}$", f"module {wrapper}", original, flags=re.M
    )
    if renamed != 1:
        raise ProvisionError(f"unexpected go.mod layout in {module['GoMod']}")
    go_mod += f"\nrequire {module_path} {module['Version']}\n"
    (work / "go.mod").write_text(go_mod)
    go_sum = (Path(module["Dir"]) / "go.sum").read_text()
    go_sum += (
        f"{module_path} {module['Version']} {module['Sum']}\n"
        f"{module_path} {module['Version']}/go.mod {module['GoModSum']}\n"
    )
    (work / "go.sum").write_text(go_sum)


def _packages(commands: tuple[str, ...]) -> list[str]:
    return [f"{DAPR_MODULE}/cmd/{name}" for name in commands]


def _count_packages(go: str, work: Path, log_file, log: Path, shown, packages: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Lists every package to compile; on a cold cache this is where modules download."""
    # The package list goes to a file: reading two pipes in turn could deadlock.
    with tempfile.TemporaryFile("w+") as listing:
        process = subprocess.Popen(
            [go, "list", "-deps", "-tags", versions.DAPR_BUILD_TAGS, *packages],
            cwd=work,
            env=_go_env(),
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
            raise failure("resolving the Dapr module graph", log)
        listing.seek(0)
        return len(listing.read().split())


def _build(  # type: ignore[no-untyped-def]
    go: str,
    work: Path,
    out: Path,
    version: str,
    log_file,
    log: Path,
    total: int,
    shown,
    packages: list[str],
) -> None:
    ldflags = (
        f"-X github.com/dapr/dapr/pkg/buildinfo.version={version} "
        f"-X github.com/dapr/kit/logger.DaprVersion={version}"
    )
    command = [
        go, "build", "-v", "-trimpath",
        "-tags", versions.DAPR_BUILD_TAGS,
        "-ldflags", ldflags,
        "-o", f"{out}/",
        *packages,
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=work,
        env=_go_env(),
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
        raise failure(f"building Dapr {version} ({' '.join(command[:2])})", log)
