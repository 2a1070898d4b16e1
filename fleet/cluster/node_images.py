"""The images built here (`make images`), saved for the node's containerd: nothing is pulled.

Each image is written once per content key with `docker save` from our engine's store
(the engine is started for it if none runs, and stopped again) into the cache, under a
name that carries the key; a save is written to a partial file and renamed when whole, so
an interrupted save is never imported. Archives of older keys are removed.
"""

import contextlib
from pathlib import Path

from fleet.cluster.images import Archive
from fleet.containers import catalog
from fleet.containers.client import docker
from fleet.containers.images import current_keys, engine_for_build, images_home

# What deploy/k8s and deploy/dapr-system run (the rest of the catalog are their parents).
NODE_IMAGES = (
    "order-fleet", "kafka", "zipkin", "postgres",
    "daprd", "placement", "scheduler", "sentry", "operator", "injector",
)  # fmt: skip


def archives_dir() -> Path:
    return images_home() / "node"


def saved_archives() -> list[Archive]:
    """Every image the node runs, as an archive of its current build (saved if missing)."""
    by_name = catalog.by_name()
    keys = current_keys(catalog.images())
    wanted = {name: archives_dir() / f"{name}-{keys[name][:16]}.tar" for name in NODE_IMAGES}
    missing = [name for name, path in wanted.items() if not path.exists()]
    if missing:
        archives_dir().mkdir(parents=True, exist_ok=True)
        with engine_for_build() as running:
            for name in missing:
                partial = wanted[name].with_suffix(".partial")
                docker(running, ["save", "-o", str(partial), *by_name[name].tags])
                partial.rename(wanted[name])
    for stale in set(archives_dir().glob("*")) - set(wanted.values()):
        with contextlib.suppress(OSError):
            stale.unlink()
    return [Archive(path, None) for path in wanted.values()]
