"""Root file systems made from Debian packages with mmdebstrap, cached by their inputs.

No registry is reachable here, so every base image starts as a tarball of Debian
packages. The tarball is kept in the cache under its content key: a lost image (an
engine data folder wiped) is imported again in seconds instead of bootstrapped again.
"""

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fleet.containers.hashing import Memo, inputs_hash
from fleet.paths import REPO_ROOT, cache_dir
from fleet.provision.errors import failure
from fleet.provision.progress import Progress
from fleet.provision.staging import is_complete, piece_lock, staged

SUITE = "bookworm"
# The machine's own Debian sources (mirror and suites), so the mirror is not written in
# our files; the file's content is part of every rootfs key.
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
# Certificate authorities the host trusts beyond Debian's (here: a TLS-intercepting egress
# proxy). Only images that download at build time get them (pip in the fleet image).
HOST_EXTRA_CAS = Path("/usr/local/share/ca-certificates")
RECIPES = REPO_ROOT / "deploy" / "images"
# Part of every rootfs key: raise it when mmdebstrap_argv changes what a rootfs contains.
BUILD_FORMAT = "2"


@dataclass(frozen=True)
class RootfsSpec:
    name: str
    variant: str  # mmdebstrap variant: essential (dpkg, apt-less), extract (files only)
    packages: tuple[str, ...]
    # Scripts of deploy/images/<name>/ that mmdebstrap runs with the root folder as $1:
    # essential hooks before the included packages are installed, customize hooks after.
    essential_hooks: tuple[str, ...] = ()
    customize_hooks: tuple[str, ...] = ()
    host_cas: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def hook_path(self, script: str) -> Path:
        return RECIPES / self.name / script


def host_ca_files() -> list[Path]:
    return sorted(HOST_EXTRA_CAS.glob("*.crt")) if HOST_EXTRA_CAS.is_dir() else []


def rootfs_key(spec: RootfsSpec, memo: Memo | None = None) -> str:
    files = {f"hook/{s}": spec.hook_path(s) for s in (*spec.essential_hooks, *spec.customize_hooks)}
    if SOURCES.is_file():
        files["sources"] = SOURCES
    if spec.host_cas:
        files.update({f"ca/{ca.name}": ca for ca in host_ca_files()})
    values = {
        "format": BUILD_FORMAT,
        "suite": SUITE,
        "variant": spec.variant,
        "packages": ",".join(spec.packages),
        "essential": ",".join(spec.essential_hooks),
        "customize": ",".join(spec.customize_hooks),
        **spec.extra,
    }
    return inputs_hash(files, values, memo=memo)


def rootfs_home(spec: RootfsSpec, key: str) -> Path:
    return cache_dir() / "rootfs" / f"{spec.name}-{key[:16]}"


def tarball(spec: RootfsSpec, key: str) -> Path:
    return rootfs_home(spec, key) / "rootfs" / "rootfs.tar"


def is_built(spec: RootfsSpec, key: str) -> bool:
    return is_complete(tarball(spec, key).parent) and tarball(spec, key).is_file()


def mmdebstrap_argv(spec: RootfsSpec, out: Path, manifest: Path) -> list[str]:
    argv = ["mmdebstrap", f"--variant={spec.variant}", "--mode=root", "--format=tar"]
    if spec.packages:
        argv.append(f"--include={','.join(spec.packages)}")
    # No apt lists, caches, docs or man pages in an image.
    argv += ["--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*"]
    argv += ["--dpkgopt=path-include=/usr/share/doc/*/copyright"]
    # update-alternatives links man pages too and fails if their folder is missing
    # (openjdk's postinst does that).
    argv.append('--essential-hook=mkdir -p "$1"/usr/share/man/man1')
    argv += [f'--essential-hook={spec.hook_path(s)} "$1"' for s in spec.essential_hooks]
    if spec.host_cas:
        for ca in host_ca_files():
            argv.append(f"--customize-hook=upload {ca} /usr/local/share/ca-certificates/{ca.name}")
        argv.append('--customize-hook=chroot "$1" update-ca-certificates --fresh >/dev/null')
    # The extract variant installs nothing, so it runs no customize hooks: only extract ones.
    after = "extract" if spec.variant == "extract" else "customize"
    argv += [f'--{after}-hook={spec.hook_path(s)} "$1"' for s in spec.customize_hooks]
    if spec.variant != "extract":
        # What went in, for the image's label and for anyone asking which versions run.
        listing = "dpkg-query --admindir=\"$1\"/var/lib/dpkg -W -f='${Package} ${Version}\\n'"
        argv.append(f"--customize-hook={listing} > {shlex.quote(str(manifest))}")
        argv.append('--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*')
    argv += [SUITE, str(out)]
    if SOURCES.is_file():
        argv.append(str(SOURCES))
    return argv


def ensure_rootfs(spec: RootfsSpec, key: str, shown: Progress) -> Path:
    """The tarball for `spec`, bootstrapping it unless its key is already in the cache."""
    home = rootfs_home(spec, key)
    with piece_lock(home):
        if is_built(spec, key):
            return tarball(spec, key)
        log = home / "mmdebstrap.log"
        label = f"rootfs {spec.name}"
        with staged(tarball(spec, key).parent, label, f"{label} {key}") as staging:
            shown.phase(f"bootstrapping {spec.name}", f"{len(spec.packages)} packages + deps")
            argv = mmdebstrap_argv(spec, staging / "rootfs.tar", staging / "packages.txt")
            env = {**os.environ, "LC_ALL": "C.UTF-8"}
            with log.open("w") as out:
                result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
            if result.returncode != 0:
                raise failure(f"bootstrapping the {spec.name} root file system", log)
    return tarball(spec, key)


def prune_other_keys(spec: RootfsSpec, key: str) -> list[Path]:
    """Removes this root file system's tarballs of other keys (each is ~200-400 MB)."""
    current = rootfs_home(spec, key)
    removed = []
    own = re.compile(rf"^{re.escape(spec.name)}-[0-9a-f]{{16}}$")
    for home in sorted(current.parent.glob(f"{spec.name}-*")):
        if home != current and own.match(home.name):
            shutil.rmtree(home, ignore_errors=True)
            removed.append(home)
    return removed


def package_versions(spec: RootfsSpec, key: str) -> dict[str, str]:
    manifest = tarball(spec, key).parent / "packages.txt"
    try:
        lines = manifest.read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(" ", 1) for line in lines if " " in line)
