"""Builds the Temporal CLI from `github.com/temporalio/cli`: the bench's peer engine.

Only `make bench PEER=temporal` needs it (`temporal server start-dev`, a single-process
Temporal server on SQLite, see bench/peer/). The module has no replace directives, so the
wrapper module is upstream's go.mod as it is; the version is stamped as its release
builds stamp it (.goreleaser.yml). The compile is niced: a bench-only piece should not
slow down whoever shares the host.
"""

from pathlib import Path

from fleet import versions
from fleet.provision.gopiece import GoPiece

MODULE = "github.com/temporalio/cli"
NICENESS = 15


def piece(version: str = versions.TEMPORAL_CLI) -> GoPiece:
    return GoPiece(
        name="temporal",
        module=MODULE,
        version=version,
        commands=("temporal",),
        packages=(f"{MODULE}/cmd/temporal",),
        x_flags=(f"{MODULE}/temporalcli.Version={version}",),
        niceness=NICENESS,
    )


def is_built() -> bool:
    return piece().is_built()


def ensure() -> Path:
    return piece().ensure() / "temporal"


def binary() -> Path:
    return piece().binary("temporal")
