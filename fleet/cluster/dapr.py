"""The Dapr control plane on the node: deploy/dapr-system as users apply it, plus a local
overlay that only renames images (nothing is pulled here).

The overlay maps each `ghcr.io/dapr/<name>` to the locally built image and sets the
injector's SIDECAR_IMAGE, the one image name that is not a pod's image (so kustomize's
`images:` cannot reach it).
"""

import os
import time
from pathlib import Path
from typing import Any

import yaml

from fleet import versions
from fleet.cluster.node import Node
from fleet.paths import REPO_ROOT

DAPR_SYSTEM = REPO_ROOT / "deploy" / "dapr-system"
NAMESPACE = "dapr-system"
CONTROL_PLANE = ("operator", "placement", "scheduler", "sentry", "injector")
# The images the images helper builds (fleet/containers/catalog.py): orderfleet.local/<name>.
LOCAL_REGISTRY = "orderfleet.local"


def overlay(base: str, registry: str, version: str = versions.DAPR_RUNTIME) -> dict[str, Any]:
    """`base`: deploy/dapr-system relative to the overlay (kustomize refuses absolute roots)."""
    sidecar_patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "dapr-sidecar-injector", "namespace": NAMESPACE},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "dapr-sidecar-injector",
                            "env": [
                                {"name": "SIDECAR_IMAGE", "value": f"{registry}/daprd:{version}"}
                            ],
                        }
                    ]
                }
            }
        },
    }
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [base],
        "images": [
            {"name": f"ghcr.io/dapr/{name}", "newName": f"{registry}/{name}", "newTag": version}
            for name in CONTROL_PLANE
        ],
        "patches": [{"patch": yaml.safe_dump(sidecar_patch, sort_keys=False)}],
    }


def write_overlay(node: Node, registry: str = LOCAL_REGISTRY) -> Path:
    directory = node.layout.run / "overlays" / "dapr-system"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(
        yaml.safe_dump(overlay(os.path.relpath(DAPR_SYSTEM, directory), registry), sort_keys=False)
    )
    return directory


def _pods_ready(node: Node) -> tuple[int, int, list[str]]:
    pods = node.kubectl_json("get", "pods", "-n", NAMESPACE)["items"]
    waiting = []
    for pod in pods:
        ready = any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod["status"].get("conditions", [])
        )
        if not ready:
            waiting.append(pod["metadata"]["name"])
    return len(pods) - len(waiting), len(pods), waiting


def install(node: Node, timeout_s: float = 300.0) -> float:
    """Applies the control plane and waits until every dapr-system pod is Ready."""
    began = time.monotonic()
    directory = write_overlay(node)
    # CRDs first and established: the `daprsystem` Configuration is an instance of one,
    # and sentry and the operator exit at start if it is missing.
    # The operator takes over the CRDs' conversion webhook (its namespace and CA): a second
    # apply must take those fields back, or it fails on the conflict.
    node.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(DAPR_SYSTEM / "crds"))
    node.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    node.kubectl("apply", "--server-side", "-k", str(directory))
    while True:
        _, total, waiting = _pods_ready(node)
        if total and not waiting:
            return time.monotonic() - began
        if time.monotonic() - began > timeout_s:
            detail = node.kubectl("get", "pods", "-n", NAMESPACE, "-o", "wide", check=False).stdout
            raise RuntimeError(f"Dapr control plane not Ready after {timeout_s:.0f}s:\n{detail}")
        time.sleep(1.0)
