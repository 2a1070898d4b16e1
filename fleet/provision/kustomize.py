"""Builds kustomize from its Go module: `make validate-deploy` renders deploy/k8s with it.

The real tool rather than a renderer of our own, so that what is checked is exactly what
`kubectl apply -k` applies, overlays and patches included.
"""

import os
import subprocess
from pathlib import Path

from fleet.paths import cache_dir
from fleet.provision.errors import failure
from fleet.provision.progress import progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require_go

KUSTOMIZE = "5.8.2"
MODULE = "sigs.k8s.io/kustomize/kustomize/v5"


def kustomize_home(version: str = KUSTOMIZE) -> Path:
    return cache_dir() / f"kustomize-{version}"


def kustomize_binary(version: str = KUSTOMIZE) -> Path:
    return kustomize_home(version) / "bin" / "kustomize"


def is_built(version: str = KUSTOMIZE) -> bool:
    binary = kustomize_binary(version)
    return is_complete(binary.parent) and os.access(binary, os.X_OK)


def ensure_kustomize(version: str = KUSTOMIZE) -> Path:
    """Builds kustomize unless this version is already in the cache."""
    home = kustomize_home(version)
    with piece_lock(home):
        if is_built(version):
            return kustomize_binary(version)
        go = require_go()
        log = home / "build.log"
        label = f"kustomize {version}"
        with (
            progress(label) as shown,
            log.open("w") as log_file,
            staged(home / "bin", label, label) as staging,
        ):
            shown.phase("building", f"{MODULE}@v{version}")
            env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(staging), "GOFLAGS": "-mod=mod"}
            result = subprocess.run(
                [go, "install", "-trimpath", "-ldflags=-s -w", f"{MODULE}@v{version}"],
                cwd=home,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            if result.returncode != 0:
                raise failure(f"building kustomize {version}", log)
    return kustomize_binary(version)
