"""Renders kustomizations with the real kustomize, built once from its Go module.

Kustomize is built like the Dapr runtime (fleet/provision/dapr.py): `go install` of a pinned
module version into the version-keyed cache outside the checkout, skipped when present.
The real tool rather than a renderer of our own, so that what is checked is exactly what
`kubectl apply -k` applies, overlays and patches included.
"""

import os
import shutil
import subprocess
from pathlib import Path

from deploy.checks.common import Doc, load_all
from fleet.paths import cache_dir
from fleet.provision.errors import failure
from fleet.provision.progress import progress
from fleet.provision.tools import require_go

KUSTOMIZE = "5.8.2"
MODULE = "sigs.k8s.io/kustomize/kustomize/v5"


def kustomize_home(version: str = KUSTOMIZE) -> Path:
    return cache_dir() / f"kustomize-{version}"


def kustomize_binary(version: str = KUSTOMIZE) -> Path:
    return kustomize_home(version) / "bin" / "kustomize"


def is_built(version: str = KUSTOMIZE) -> bool:
    binary = kustomize_binary(version)
    return (binary.parent / "BUILT").exists() and os.access(binary, os.X_OK)


def ensure_kustomize(version: str = KUSTOMIZE) -> Path:
    """Builds kustomize unless this version is already in the cache."""
    if is_built(version):
        return kustomize_binary(version)
    go = require_go()
    home = kustomize_home(version)
    home.mkdir(parents=True, exist_ok=True)
    staging = home / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    log = home / "build.log"
    env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(staging), "GOFLAGS": "-mod=mod"}
    with progress(f"kustomize {version}") as shown, log.open("w") as log_file:
        shown.phase("building", f"{MODULE}@v{version}")
        result = subprocess.run(
            [go, "install", "-trimpath", "-ldflags=-s -w", f"{MODULE}@v{version}"],
            cwd=home,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        if result.returncode != 0:
            raise failure(f"building kustomize {version}", log)
    (staging / "BUILT").write_text(f"kustomize {version}\n")
    final = home / "bin"
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return kustomize_binary(version)


class RenderError(RuntimeError):
    """kustomize refused the kustomization; the message is its own."""


def render(kustomization_dir: Path) -> list[Doc]:
    """Every object `kubectl apply -k` would apply, as parsed YAML."""
    result = subprocess.run(
        [str(ensure_kustomize()), "build", str(kustomization_dir)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip() or f"kustomize exited {result.returncode}")
    return load_all(result.stdout)
