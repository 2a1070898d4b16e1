"""Builds the Dapr control plane's Kubernetes binaries, operator and injector.

The same `github.com/dapr/dapr` module and wrapper-module build as daprd (fleet/provision/
dapr.py), into a cache folder of its own: the local fleet never needs these two, and
rebuilding the runtime's folder would take it away from a running fleet.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from fleet import versions
from fleet.paths import cache_dir
from fleet.provision.dapr import build_commands
from fleet.provision.staging import is_complete, piece_lock

COMMANDS = ("operator", "injector")


@dataclass(frozen=True)
class ControlPlaneBinaries:
    operator: Path
    injector: Path


def control_plane_home(version: str = versions.DAPR_RUNTIME) -> Path:
    return cache_dir() / f"dapr-control-plane-{version}-{versions.DAPR_BUILD_TAGS}"


def binaries(version: str = versions.DAPR_RUNTIME) -> ControlPlaneBinaries:
    bin_dir = control_plane_home(version) / "bin"
    return ControlPlaneBinaries(*(bin_dir / name for name in COMMANDS))


def is_built(version: str = versions.DAPR_RUNTIME) -> bool:
    return is_complete(control_plane_home(version) / "bin") and all(
        os.access(p, os.X_OK) for p in vars(binaries(version)).values()
    )


def ensure_control_plane(version: str = versions.DAPR_RUNTIME) -> ControlPlaneBinaries:
    home = control_plane_home(version)
    with piece_lock(home):
        if not is_built(version):
            build_commands(version, home, COMMANDS, f"dapr control plane {version}")
    return binaries(version)
