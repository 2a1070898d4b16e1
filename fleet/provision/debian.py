"""Debian packages the fleet runs, installed when missing (as root, which `.ci/run` is;
otherwise the message names the command).

- PostgreSQL's server, for the scaled profile (`make up SCALE=N`).
- The Kubernetes node's packages: containerd, runc, the CNI plugins, iptables and nft.
  Debian's builds are what the node runs (containerd 1.6, runc 1.1, CNI plugins 1.1 on
  bookworm): built and patched by the distribution, and installed in seconds.
  busybox-static is the node's test image (a shell, wget, nslookup and httpd in one
  static binary).
"""

import os
import shutil
import subprocess
from pathlib import Path

from fleet.console import say
from fleet.provision.errors import ProvisionError
from fleet.provision.progress import progress

PACKAGES = (
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "nftables",
    "busybox-static",
)
# Debian puts the CNI plugins here, not in /opt/cni/bin.
CNI_BIN_DIR = Path("/usr/lib/cni")
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
COMMANDS = ("containerd", "containerd-shim-runc-v2", "ctr", "runc", "iptables", "nft")
BUSYBOX = Path("/bin/busybox")
LABEL = "debian packages"


def missing_files() -> list[str]:
    absent = [c for c in COMMANDS if shutil.which(c) is None]
    absent += [str(CNI_BIN_DIR / p) for p in CNI_PLUGINS if not (CNI_BIN_DIR / p).is_file()]
    if not BUSYBOX.is_file():
        absent.append(str(BUSYBOX))
    return absent


def is_installed() -> bool:
    return not missing_files()


def package_versions() -> dict[str, str]:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *PACKAGES],
        capture_output=True,
        text=True,
    )
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def apt_install(label: str, packages: list[str] | tuple[str, ...]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ProvisionError(
            f"{label} is missing. Install it: `sudo apt-get install {' '.join(packages)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with progress(label) as shown:
        shown.phase("apt-get update")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        shown.phase("apt-get install", " ".join(packages))
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ProvisionError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr}")


def ensure_postgresql() -> None:
    from fleet.runner.postgres_setup import bin_dir

    if bin_dir() is None:
        apt_install("postgresql", ["postgresql-15"])
        # Debian starts a cluster of its own on install; the fleet runs its own: stop it.
        subprocess.run(["service", "postgresql", "stop"], capture_output=True)


def ensure_packages() -> None:
    if is_installed():
        return
    apt_install(LABEL, PACKAGES)
    if not is_installed():
        raise ProvisionError(f"still missing after apt-get install: {missing_files()}")
    say(f"[{LABEL}] " + ", ".join(f"{k} {v}" for k, v in sorted(package_versions().items())))
