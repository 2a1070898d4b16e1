"""Images the node runs, imported into its containerd (namespace k8s.io): nothing is pulled.

The node's own: the pause image (its sandbox), CoreDNS, and a busybox test image, packed
here from static binaries. Others (the fleet's, Dapr's, Kafka's...) come as image
archives (`docker save` or OCI) named in FLEET_K8S_IMAGES (files or folders of *.tar,
separated by `:`).
"""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fleet.provision import debian, oci
from fleet.provision.gopiece import GoPiece

NAMESPACE = "k8s.io"
BUSYBOX_IMAGE = "localhost/order-fleet/busybox:1.35"


@dataclass(frozen=True)
class Archive:
    path: Path
    reference: str | None  # None: whatever names the archive holds


def coredns_reference(piece: GoPiece) -> str:
    return f"localhost/order-fleet/coredns:{piece.version}"


def coredns_archive(piece: GoPiece) -> Archive:
    """CoreDNS as an image: its static binary, run as an unprivileged user."""
    path = piece.home / "image" / "coredns-image.tar"
    reference = coredns_reference(piece)
    if not path.is_file():
        oci.write_archive(
            path,
            reference,
            [oci.Entry("coredns", piece.binary("coredns").read_bytes(), 0o755)],
            oci.ImageConfig(entrypoint=("/coredns",), user="65532:65532"),
        )
    return Archive(path, reference)


def busybox_archive(directory: Path) -> Archive:
    """A shell, wget, nslookup and httpd for the node's own checks (busybox-static)."""
    path = directory / "busybox-image.tar"
    if not path.is_file():
        oci.write_archive(
            path,
            BUSYBOX_IMAGE,
            [oci.Entry("bin/busybox", debian.BUSYBOX.read_bytes(), 0o755), oci.Entry("tmp")],
            oci.ImageConfig(entrypoint=("/bin/busybox",), cmd=("sh",), user="65534:65534"),
        )
    return Archive(path, BUSYBOX_IMAGE)


def extra_archives(env: dict[str, str] | None = None) -> list[Archive]:
    """Archives named in FLEET_K8S_IMAGES: files, or folders whose *.tar are all taken."""
    raw = (os.environ if env is None else env).get("FLEET_K8S_IMAGES", "")
    found: list[Archive] = []
    for item in filter(None, raw.split(":")):
        path = Path(item)
        if path.is_dir():
            found += [Archive(p, None) for p in sorted(path.glob("*.tar"))]
        elif path.is_file():
            found.append(Archive(path, None))
        else:
            raise FileNotFoundError(f"FLEET_K8S_IMAGES names {path}, which does not exist")
    return found


def _ctr(socket: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", str(socket), "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
    )


def present(socket: Path) -> set[str]:
    return set(_ctr(socket, "images", "list", "--quiet").stdout.split())


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def import_all(socket: Path, archives: list[Archive], ledger: Path | None = None) -> list[str]:
    """Imports what is not there yet; returns the archives imported.

    An archive of unknown names is taken as imported while the ledger (kept next to the
    image store, so a purge forgets it) has it with the same size and time."""
    have = present(socket)
    seen: dict[str, str] = {}
    if ledger is not None and ledger.is_file():
        seen = json.loads(ledger.read_text())
    imported = []
    for archive in archives:
        if archive.reference is not None and archive.reference in have:
            continue
        if archive.reference is None and seen.get(str(archive.path)) == _stamp(archive.path):
            continue
        # ctr unpacks for the CRI's snapshotter (overlayfs) as it imports.
        result = _ctr(socket, "images", "import", str(archive.path))
        if result.returncode != 0:
            raise RuntimeError(f"importing {archive.path}: {result.stderr.strip()}")
        imported.append(archive.path.name)
        seen[str(archive.path)] = _stamp(archive.path)
        if ledger is not None:
            ledger.write_text(json.dumps(seen, indent=2))
    return imported


def default_archives(coredns_piece: GoPiece, pause: Archive, directory: Path) -> list[Archive]:
    return [
        pause,
        coredns_archive(coredns_piece),
        busybox_archive(directory),
        *extra_archives(),
    ]
