"""Builds the Dapr control plane's Kubernetes binaries, operator and injector.

The same `github.com/dapr/dapr` module and wrapper-module build as daprd (fleet/provision/
dapr.py), into a cache folder of its own: the local fleet never needs these two, and
rebuilding the runtime's folder would take it away from a running fleet.
"""

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from fleet import versions
from fleet.provision import dapr
from fleet.provision.gopiece import GoPiece

COMMANDS = ("operator", "injector")


@dataclass(frozen=True)
class ControlPlaneBinaries:
    operator: Path
    injector: Path


def piece(version: str = versions.DAPR_RUNTIME) -> GoPiece:
    return dataclasses.replace(
        dapr.piece(version),
        name="dapr-control-plane",
        commands=COMMANDS,
        packages=tuple(f"{dapr.DAPR_MODULE}/cmd/{name}" for name in COMMANDS),
        home_name=f"dapr-control-plane-{version}-{versions.DAPR_BUILD_TAGS}",
    )


def control_plane_home(version: str = versions.DAPR_RUNTIME) -> Path:
    return piece(version).home


def binaries(version: str = versions.DAPR_RUNTIME) -> ControlPlaneBinaries:
    built = piece(version)
    return ControlPlaneBinaries(*(built.binary(name) for name in COMMANDS))


def is_built(version: str = versions.DAPR_RUNTIME) -> bool:
    return piece(version).is_built() and all(
        os.access(p, os.X_OK) for p in vars(binaries(version)).values()
    )


def ensure_control_plane(version: str = versions.DAPR_RUNTIME) -> ControlPlaneBinaries:
    piece(version).ensure()
    return binaries(version)
