"""Renders kustomizations with the real kustomize (fleet/provision/kustomize.py)."""

import subprocess
from pathlib import Path

from deploy.checks.common import Doc, load_all
from fleet.provision.kustomize import kustomize_binary
from fleet.provision.pieces import require_pieces


class RenderError(RuntimeError):
    """kustomize refused the kustomization; the message is its own."""


def render(kustomization_dir: Path) -> list[Doc]:
    """Every object `kubectl apply -k` would apply, as parsed YAML."""
    result = subprocess.run(
        [str(_kustomize()), "build", str(kustomization_dir)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip() or f"kustomize exited {result.returncode}")
    return load_all(result.stdout)


def _kustomize() -> Path:
    require_pieces(["kustomize"])
    return kustomize_binary()
