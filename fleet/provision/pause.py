"""Builds the pod sandbox ("pause") image from pause.c in the `k8s.io/kubernetes` module.

Every pod's network namespace is held by one pause process; containerd runs it from the
image named by its `sandbox_image` setting, which nothing here can pull. So: compile
pause.c the way its Makefile does (`gcc -Os -static`), and pack the binary as a one-layer
OCI archive for `ctr images import`.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path

from fleet import versions
from fleet.paths import cache_dir
from fleet.provision import gomodule, kubernetes, oci
from fleet.provision.errors import ProvisionError, failure
from fleet.provision.gopiece import BUILD_SECONDS
from fleet.provision.progress import progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require_go

ARCHIVE = "pause-image.tar"
IMAGE_REPOSITORY = "localhost/order-fleet/pause"


def pause_home(version: str = versions.KUBERNETES) -> Path:
    return cache_dir() / f"pause-{version}"


def image_dir(version: str = versions.KUBERNETES) -> Path:
    return pause_home(version) / "image"


def archive(version: str = versions.KUBERNETES) -> Path:
    return image_dir(version) / ARCHIVE


def image_reference(version: str = versions.KUBERNETES) -> str:
    """The name the node's containerd knows the sandbox image by (written at build time)."""
    return (image_dir(version) / "REFERENCE").read_text().strip()


def makefile_tag(makefile: str) -> str:
    """The pause image version its Makefile builds (`TAG ?= 3.10.2`)."""
    match = re.search(r"^TAG \?= (\S+)$", makefile, flags=re.M)
    if not match:
        raise ProvisionError("no `TAG ?= ...` line in build/pause/Makefile")
    return match.group(1)


def is_built(version: str = versions.KUBERNETES) -> bool:
    return is_complete(image_dir(version)) and archive(version).is_file()


def ensure_pause(version: str = versions.KUBERNETES) -> Path:
    home = pause_home(version)
    with piece_lock(home):
        if not is_built(version):
            _build(version, home)
    return archive(version)


def _build(version: str, home: Path) -> None:
    go, gcc = require_go(), shutil.which("gcc")
    if gcc is None:
        raise ProvisionError(
            "gcc is needed to build the pause image: apt-get install gcc libc6-dev"
        )
    log = home / "build.log"
    label = f"pause (kubernetes {version})"
    began = time.monotonic()
    with (
        progress(label) as shown,
        log.open("w") as log_file,
        staged(image_dir(version), label, label) as staging,
    ):
        shown.phase("resolving", f"{kubernetes.MODULE}@v{version}")
        (module,) = gomodule.download(go, [f"{kubernetes.MODULE}@v{version}"], log_file, log)
        source = module.dir / "build" / "pause"
        tag = makefile_tag((source / "Makefile").read_text())
        shown.phase("compiling", f"pause.c {tag}")
        binary = staging / "pause"
        result = subprocess.run(
            [gcc, "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{tag}-orderfleet",
             "-o", str(binary), str(source / "linux" / "pause.c")],
            stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        if result.returncode != 0:
            raise failure("compiling pause.c", log)
        subprocess.run(["strip", str(binary)], check=False)
        reference = f"{IMAGE_REPOSITORY}:{tag}"
        shown.phase("packing", reference)
        oci.write_archive(
            staging / ARCHIVE,
            reference,
            [oci.Entry("pause", binary.read_bytes(), 0o755)],
            # The upstream image runs as 65535 too: pause needs no privilege at all.
            oci.ImageConfig(entrypoint=("/pause",), user="65535:65535"),
        )
        binary.unlink()
        (staging / "REFERENCE").write_text(reference + "\n")
        (staging / BUILD_SECONDS).write_text(f"{time.monotonic() - began:.0f}\n")
