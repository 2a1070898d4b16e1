"""The Debian packages the container engine and the base images come from.

Installed with apt-get when missing (we run as root on Debian). The packages' own
init scripts never start a daemon here (no init system runs services); the engine the
fleet uses is started by fleet/containers/engine.py with its own folders and socket.
"""

import os
import shutil
import subprocess
from pathlib import Path

from fleet.paths import cache_dir
from fleet.provision.errors import ProvisionError, failure
from fleet.provision.progress import progress

# Debian bookworm's engine: dockerd 20.10 with its managed containerd 1.6 and runc 1.1.
# tini is docker-init (`init: true`); mmdebstrap makes the base images from packages.
ENGINE = "20.10 (Debian bookworm)"
PACKAGES = ("docker.io", "containerd", "runc", "iptables", "tini", "mmdebstrap")
# What each package must have put in place, so a half-removed install is noticed.
BINARIES = {
    "dockerd": "/usr/sbin/dockerd",
    "docker": "/usr/bin/docker",
    "containerd": "/usr/bin/containerd",
    "containerd-shim-runc-v2": "/usr/bin/containerd-shim-runc-v2",
    "runc": "/usr/sbin/runc",
    "iptables": "/usr/sbin/iptables",
    "docker-init": "/usr/bin/docker-init",
    "mmdebstrap": "/usr/bin/mmdebstrap",
}
# The packages' own CLI: /usr/local/bin/docker on this machine's PATH is a newer client
# whose `docker build` wants BuildKit's buildx; this one matches the daemon.
DOCKER_CLI = Path(BINARIES["docker"])


def missing_binaries() -> list[str]:
    return [name for name, path in BINARIES.items() if not os.access(path, os.X_OK)]


def is_installed() -> bool:
    return not missing_binaries()


def engine_version() -> str:
    """The installed engine's version, or the candidate apt would install."""
    query = ["dpkg-query", "--show", "--showformat=${Version}", "docker.io"]
    result = subprocess.run(query, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "not installed"


def ensure_packages() -> None:
    if is_installed():
        return
    if os.geteuid() != 0:
        raise ProvisionError(
            f"the container engine is not installed (missing {', '.join(missing_binaries())}) "
            f"and installing it needs root: `sudo apt-get install {' '.join(PACKAGES)}`"
        )
    if shutil.which("apt-get") is None:
        raise ProvisionError(
            f"the container engine is missing ({', '.join(missing_binaries())}) and there is "
            f"no apt-get to install it: install {', '.join(PACKAGES)} with your package manager"
        )
    log = cache_dir() / "container-packages.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for another apt run (a second helper, unattended upgrades) instead of failing.
    lock_wait = ["-o", "DPkg::Lock::Timeout=600"]
    with progress("container engine packages") as shown, log.open("w") as log_file:
        shown.phase("apt-get update")
        steps = [
            ["apt-get", *lock_wait, "update"],
            ["apt-get", *lock_wait, "install", "-y", "--no-install-recommends", *PACKAGES],
        ]
        for n, step in enumerate(steps):
            if n == 1:
                shown.phase("apt-get install", " ".join(PACKAGES))
            result = subprocess.run(step, stdout=log_file, stderr=subprocess.STDOUT, env=env)
            if result.returncode != 0:
                raise failure(f"`{' '.join(step)}`", log)
    if not is_installed():
        raise ProvisionError(
            f"apt-get installed {', '.join(PACKAGES)} but {', '.join(missing_binaries())} "
            f"is still missing; see {log}"
        )
