"""Builds the Kubernetes node's commands from the `k8s.io/kubernetes` Go module.

One `go build` compiles all six, so the packages they share (most of them) compile once.
The tags and version stamps are the ones the project's release builds use
(hack/lib/golang.sh, hack/lib/version.sh): without the stamp every component reports
v0.0.0, and clients that compare versions (kubectl, the Dapr injector) misjudge it.
"""

from collections.abc import Callable

from fleet import versions
from fleet.provision.gopiece import GoPiece

MODULE = "k8s.io/kubernetes"
COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)


def staging_version(kubernetes_version: str) -> str:
    """The version of the `k8s.io/api`-style modules published with a release: 1.37.2 → v0.37.2."""
    major, minor, patch = kubernetes_version.split(".")
    if major != "1":
        raise ValueError(f"no staging version scheme known for Kubernetes {kubernetes_version}")
    return f"v0.{minor}.{patch}"


def _stamps(version: str) -> tuple[str, ...]:
    _, minor, _ = version.split(".")
    values = {"gitVersion": f"v{version}", "gitMajor": "1", "gitMinor": minor}
    return tuple(
        f"{package}.{key}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in values.items()
    )


def _staging_only(kubernetes_version: str) -> Callable[[str], str]:
    pinned = staging_version(kubernetes_version)

    def version_of(path: str) -> str:
        if not path.startswith("k8s.io/"):
            raise ValueError(
                f"{MODULE} replaces {path} with a local directory; not a staging module"
            )
        return pinned

    return version_of


def piece(version: str = versions.KUBERNETES) -> GoPiece:
    return GoPiece(
        name="kubernetes",
        module=MODULE,
        version=version,
        commands=COMMANDS,
        packages=tuple(f"{MODULE}/cmd/{command}" for command in COMMANDS),
        tags="selinux,notest,grpcnotrace",
        x_flags=_stamps(version),
        version_of=_staging_only(version),
    )
