"""Builds crictl (the CRI client) from `sigs.k8s.io/cri-tools`: the node's pods and
containers as the kubelet sees them, for `fleet cluster` and for debugging."""

from fleet import versions
from fleet.provision.gopiece import GoPiece

MODULE = "sigs.k8s.io/cri-tools"


def piece(version: str = versions.CRI_TOOLS) -> GoPiece:
    return GoPiece(
        name="crictl",
        module=MODULE,
        version=version,
        commands=("crictl",),
        packages=(f"{MODULE}/cmd/crictl",),
        x_flags=(f"{MODULE}/pkg/version.Version=v{version}",),
    )
