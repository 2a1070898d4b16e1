"""Makes released local volumes available again: a no-provisioner class never does.

A PersistentVolume whose claim was deleted (a test namespace gone, a StatefulSet's PVC
removed) stays Released with its old data; with only a few static volumes the node
would soon have none left. Recycling wipes the folder and clears the claim reference,
which is what a provisioner's delete-and-recreate amounts to here.
"""

import os
import shutil
from pathlib import Path
from typing import Any

from fleet.cluster.addons import STORAGE_CLASS
from fleet.cluster.node import Node


def released(volumes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        v
        for v in volumes
        if v["spec"].get("storageClassName") == STORAGE_CLASS
        and v.get("status", {}).get("phase") == "Released"
        and "local" in v["spec"]
    ]


def _wipe(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def recycle(node: Node) -> list[str]:
    """Wipes and frees every Released local volume of the node; returns their names."""
    volumes = node.kubectl_json("get", "persistentvolumes")["items"]
    freed = []
    for volume in released(volumes):
        folder = Path(volume["spec"]["local"]["path"])
        if not folder.is_relative_to(node.layout.volumes):
            continue  # not one of the node's own folders: leave it to whoever made it
        _wipe(folder)
        # As new: the last pod's fsGroup made it group-owned and setgid.
        os.chown(folder, 0, 0)
        folder.chmod(0o755)
        name = volume["metadata"]["name"]
        patch = '{"spec":{"claimRef":null}}'
        node.kubectl("patch", "persistentvolume", name, "--type=merge", "-p", patch)
        freed.append(name)
    return freed
