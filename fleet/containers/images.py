"""`make images`: builds every image of the catalog that is not current, in build order.

An image is current when every tag it carries points at an image labelled with its
content key (fleet/containers/inputs.py). The tag and the label are written only by a
finished `docker build` or `docker import`, so an interrupted build is never taken for
a finished one: the next run builds that image again (Docker's layer cache keeps the
steps that had completed). Root file systems are cached as tarballs under their own key.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleet import console
from fleet.containers import catalog, engine, packages
from fleet.containers.catalog import INPUTS_LABEL, ImageSpec
from fleet.containers.client import DockerError, cli_env, docker
from fleet.containers.docker_api import get_json
from fleet.containers.hashing import Memo
from fleet.containers.inputs import context_files, image_keys
from fleet.containers.rootfs import ensure_rootfs, package_versions, prune_other_keys, rootfs_key
from fleet.paths import cache_dir
from fleet.provision.errors import ProvisionError, failure
from fleet.provision.progress import Progress, format_elapsed, progress

# The pieces whose files go into the images.
INPUT_PIECES = ("container-engine", "dapr", "dapr-control-plane", "kafka", "kafka-tools", "zipkin")


@dataclass(frozen=True)
class Built:
    spec: ImageSpec
    key: str
    seconds: float | None  # None: it was current already
    size_bytes: int


def images_home() -> Path:
    return cache_dir() / "images"


def _memo() -> Memo:
    return Memo(images_home() / "hash-memo.json")


def current_keys(specs: list[ImageSpec]) -> dict[str, str]:
    memo = _memo()
    keys = image_keys(specs, memo)
    memo.save()
    return keys


def _labels_from_engine(where: engine.Engine, tag: str) -> dict[str, str] | None:
    try:
        image = get_json(where.socket, f"/images/{tag}/json")
    except (OSError, ValueError):
        return None
    labels: dict[str, str] = (image.get("Config") or {}).get("Labels") or {}
    return labels


def _labels_on_disk(data_root: Path, tag: str) -> dict[str, str] | None:
    """The labels of `tag` in our engine's store while it is stopped (its own JSON files)."""
    store = data_root / "image" / "overlay2"
    try:
        repositories = json.loads((store / "repositories.json").read_text())["Repositories"]
        repository = tag.rsplit(":", 1)[0]
        image_id = repositories[repository][tag].split(":", 1)[1]
        config = json.loads((store / "imagedb" / "content" / "sha256" / image_id).read_text())
    except (OSError, ValueError, KeyError, IndexError):
        return None
    labels: dict[str, str] = (config.get("config") or {}).get("Labels") or {}
    return labels


def is_current(labels: dict[str, str] | None, key: str) -> bool:
    return labels is not None and labels.get(INPUTS_LABEL) == key


def ready() -> bool:
    """Every image current, checked without starting an engine (the provision piece)."""
    from fleet.provision.pieces import missing

    if missing(INPUT_PIECES):
        return False
    specs = catalog.images()
    keys = current_keys(specs)
    try:
        running = engine.find_engine()
    except engine.EngineError:
        return False
    where = engine.layout()
    for spec in specs:
        for tag in spec.tags:
            if running is not None:
                labels = _labels_from_engine(running, tag)
            else:
                labels = _labels_on_disk(where.data_root, tag)
            if not is_current(labels, keys[spec.name]):
                return False
    return True


def build_all(where: engine.Engine, specs: list[ImageSpec] | None = None) -> list[Built]:
    specs = specs or catalog.images()
    keys = current_keys(specs)
    results: list[Built] = []
    with progress("images") as shown:
        for n, spec in enumerate(specs, start=1):
            key = keys[spec.name]
            labels = [_labels_from_engine(where, tag) for tag in spec.tags]
            if all(is_current(found, key) for found in labels):
                results.append(Built(spec, key, None, _size(where, spec.tag)))
                continue
            shown.phase(f"{n}/{len(specs)} {spec.tag}")
            began = time.monotonic()
            replaced = _image_id(where, spec.tag)
            if spec.rootfs is not None:
                _import(where, spec, key, shown)
            else:
                _build(where, spec, key, keys, shown)
            if replaced and replaced != _image_id(where, spec.tag):
                # The image this one replaces, unless a container or a tag still uses it.
                # Not `image prune`: that would also drop the build stages' cached layers.
                docker(where, ["image", "rm", replaced], check=False)
            results.append(Built(spec, key, time.monotonic() - began, _size(where, spec.tag)))
    return results


def _image_id(where: engine.Engine, tag: str) -> str | None:
    try:
        return str(get_json(where.socket, f"/images/{tag}/json")["Id"])
    except (OSError, ValueError, KeyError):
        return None


def _size(where: engine.Engine, tag: str) -> int:
    try:
        return int(get_json(where.socket, f"/images/{tag}/json").get("Size", 0))
    except (OSError, ValueError):
        return 0


def _log(spec: ImageSpec) -> Path:
    log = images_home() / "logs" / f"{spec.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return log


def _import(where: engine.Engine, spec: ImageSpec, key: str, shown: Progress) -> None:
    assert spec.rootfs is not None
    tarball = ensure_rootfs(spec.rootfs, rootfs_key(spec.rootfs), shown)
    prune_other_keys(spec.rootfs, rootfs_key(spec.rootfs))
    shown.phase(f"importing {spec.tag}")
    debian = package_versions(spec.rootfs, rootfs_key(spec.rootfs))
    main = next((debian[p] for p in spec.rootfs.packages if p in debian), spec.version)
    changes = [
        *spec.changes,
        f"LABEL {INPUTS_LABEL}={key}",
        f"LABEL org.opencontainers.image.version={main}",
    ]
    args = ["import", *(arg for c in changes for arg in ("--change", c)), str(tarball), spec.tag]
    docker(where, args)
    for extra in spec.extra_tags:
        docker(where, ["tag", spec.tag, extra])


def _assemble_context(spec: ImageSpec) -> Path:
    """A folder holding exactly the image's context: recipe files copied, large inputs
    hard-linked (same file system as the cache) so that nothing big is copied."""
    context = images_home() / "contexts" / spec.name
    if context.exists():
        shutil.rmtree(context)
    for name, source in context_files(spec).items():
        target = context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    return context


def _build(
    where: engine.Engine, spec: ImageSpec, key: str, keys: dict[str, str], shown: Progress
) -> None:
    by_name = catalog.by_name()
    context = spec.context_root or _assemble_context(spec)
    args = [
        "build",
        # RUN steps that download (pip) use the host's network: our engine sets up no NAT.
        "--network=host",
        "--force-rm",
        f"--label={INPUTS_LABEL}={key}",
        f"--label=org.opencontainers.image.version={spec.version}",
        f"--file={spec.dockerfile}",
        *(f"--build-arg={arg}={by_name[parent].tag}" for arg, parent in spec.parents.items()),
        *(f"--build-arg={arg}={value}" for arg, value in spec.build_args.items()),
        *(f"--tag={tag}" for tag in spec.tags),
        str(context),
    ]
    log = _log(spec)
    with log.open("w") as out:
        out.write(f"$ docker {' '.join(args)}\n")
        out.flush()
        process = subprocess.Popen(
            [str(packages.DOCKER_CLI), *args],
            env=cli_env(where),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if line.startswith("Step "):
                shown.detail(line.split(":", 1)[0].removeprefix("Step "))
        if process.wait() != 0:
            raise failure(f"building {spec.tag}", log)
    if spec.context_root is None:
        shutil.rmtree(context, ignore_errors=True)


@contextlib.contextmanager
def engine_for_build() -> Iterator[engine.Engine]:
    """An engine for the duration of a build; ours is stopped again if this started it."""
    running, started = engine.ensure_engine()
    try:
        yield running
    finally:
        if started:
            engine.stop_engine()
            console.say("[engine] stopped (it was started for this build)")


def ensure_images() -> list[Built]:
    """The provision piece's action: inputs provisioned, then every image current."""
    from fleet.provision.pieces import piece, provision

    provision([piece(name) for name in INPUT_PIECES])
    with engine_for_build() as running:
        return build_all(running)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def report(results: list[Built]) -> str:
    rows = [
        [
            b.spec.tag,
            ", ".join(b.spec.official) or "-",
            _megabytes(b.size_bytes),
            "cached" if b.seconds is None else f"built {format_elapsed(b.seconds)}",
        ]
        for b in results
    ]
    return console.table(["IMAGE", "STANDS IN FOR", "SIZE", "STATE"], rows)


def main() -> int:
    began = time.monotonic()
    try:
        if engine.find_engine() is None and ready():
            # Not worth starting an engine for: its store says every image is current.
            count = len(catalog.images())
            console.say(f"{count} images current (checked in our stopped engine's store)")
            return 0
        results = ensure_images()
    except (ProvisionError, DockerError) as error:
        console.error(f"✗ {error}")
        return 1
    console.say(report(results))
    built = sum(1 for b in results if b.seconds is not None)
    console.say(
        f"{len(results)} images ready ({built} built) in {format_elapsed(time.monotonic() - began)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
