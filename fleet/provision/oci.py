"""Writes a one-layer OCI image archive (`ctr images import` loads it) from a few files.

The node's own images (pause, CoreDNS, a test image) are a static binary or two and
nothing else, so no image builder is needed: a layer is a tar, an image is that tar's
digest in a config and a manifest. Everything is deterministic (fixed times, sorted
entries): the same files always give the same image id.
"""

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Entry:
    """A file (data given) or a directory (data None) in the image."""

    path: str
    data: bytes | None = None
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    user: str = ""
    env: tuple[str, ...] = (DEFAULT_PATH,)
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def _digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def layer_tar(entries: Iterable[Entry]) -> bytes:
    """An uncompressed layer; parent directories are added, everything sorted by path."""
    by_path: dict[str, Entry] = {}
    for entry in entries:
        path = entry.path.strip("/")
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            by_path.setdefault(parent, Entry(parent))
        by_path[path] = Entry(path, entry.data, entry.mode, entry.uid, entry.gid)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(by_path):
            entry = by_path[path]
            info = tarfile.TarInfo(path)
            info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, 0
            if entry.data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def config_json(config: ImageConfig, diff_id: str) -> bytes:
    runtime: dict[str, object] = {"Entrypoint": list(config.entrypoint), "Env": list(config.env)}
    if config.cmd:
        runtime["Cmd"] = list(config.cmd)
    if config.user:
        runtime["User"] = config.user
    if config.working_dir:
        runtime["WorkingDir"] = config.working_dir
    if config.labels:
        runtime["Labels"] = dict(config.labels)
    return _canonical(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": runtime,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    )


def split_reference(reference: str) -> tuple[str, str]:
    """`host/name:tag` → (`host/name`, `tag`); a tag is required (no implicit latest)."""
    name, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag or not name:
        raise ValueError(f"image reference {reference!r} needs an explicit :tag")
    return name, tag


def write_archive(out: Path, reference: str, entries: Iterable[Entry], config: ImageConfig) -> str:
    """Writes the archive to `out`; returns the manifest digest."""
    _, tag = split_reference(reference)
    layer = layer_tar(entries)
    layer_digest = _digest(layer)  # uncompressed: the layer digest is its diff id
    config_blob = config_json(config, layer_digest)
    manifest = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": _digest(config_blob),
                "size": len(config_blob),
            },
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": len(layer)}],
        }
    )
    index = _canonical(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": MANIFEST_MEDIA_TYPE,
                    "digest": _digest(manifest),
                    "size": len(manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                    # containerd names the imported image after this annotation.
                    "annotations": {
                        "io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": tag,
                    },
                }
            ],
        }
    )
    files = {
        "oci-layout": _canonical({"imageLayoutVersion": "1.0.0"}),
        "index.json": index,
        **{f"blobs/sha256/{_digest(b)[7:]}": b for b in (layer, config_blob, manifest)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    with tarfile.open(temporary, mode="w") as tar:
        for name in ("blobs", "blobs/sha256"):
            directory = tarfile.TarInfo(name)
            directory.type, directory.mode, directory.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(directory)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    temporary.replace(out)
    return _digest(manifest)
