"""Builds daprd, placement, scheduler and sentry from the `github.com/dapr/dapr` Go module.

`go install github.com/dapr/dapr/cmd/daprd@vX` cannot work: dapr's go.mod carries
replace directives, which only apply in the main module. So the build goes through a
wrapper module (fleet/provision/gomodule.py): dapr's own go.mod under another name, plus
a requirement on dapr itself, with go.sum seeded from dapr's.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from fleet import versions
from fleet.provision import gomodule
from fleet.provision.gopiece import GoPiece

DAPR_MODULE = "github.com/dapr/dapr"
COMMANDS = ("daprd", "placement", "scheduler", "sentry")
_WRAPPER_MODULE = "orderfleet.local/daprbuild"


@dataclass(frozen=True)
class DaprBinaries:
    daprd: Path
    placement: Path
    scheduler: Path
    sentry: Path


def piece(version: str = versions.DAPR_RUNTIME) -> GoPiece:
    return GoPiece(
        name="dapr",
        module=DAPR_MODULE,
        version=version,
        commands=COMMANDS,
        packages=tuple(f"{DAPR_MODULE}/cmd/{name}" for name in COMMANDS),
        tags=versions.DAPR_BUILD_TAGS,
        # Stamp the version: unstamped daprd reports `edge`, and the dapr CLI then
        # omits --scheduler-host-address (workflows break).
        x_flags=(
            f"github.com/dapr/dapr/pkg/buildinfo.version={version}",
            f"github.com/dapr/kit/logger.DaprVersion={version}",
        ),
        # As dapr's release builds: symbols kept (its Makefile strips only on request).
        strip=False,
        home_name=f"dapr-{version}-{versions.DAPR_BUILD_TAGS}",
    )


def dapr_home(version: str = versions.DAPR_RUNTIME) -> Path:
    return piece(version).home


def binaries(version: str = versions.DAPR_RUNTIME) -> DaprBinaries:
    built = piece(version)
    return DaprBinaries(*(built.binary(name) for name in COMMANDS))


def is_built(version: str = versions.DAPR_RUNTIME) -> bool:
    return piece(version).is_built() and all(
        os.access(p, os.X_OK) for p in vars(binaries(version)).values()
    )


def ensure_dapr(version: str = versions.DAPR_RUNTIME) -> DaprBinaries:
    """Builds the runtime unless this version is already in the cache."""
    piece(version).ensure()
    return binaries(version)


def _write_wrapper_module(work: Path, module: dict[str, str]) -> None:
    """The wrapper module for `go mod download -json` output `module` (kept for tests)."""
    upstream = gomodule.Module.from_json({"Path": DAPR_MODULE, **module})
    go_mod = gomodule.wrapper_go_mod(upstream, _WRAPPER_MODULE)
    go_sum = (upstream.dir / "go.sum").read_text() + upstream.sum_lines()
    gomodule.write_wrapper(work, go_mod, go_sum)
