"""Debian packages the fleet runs (PostgreSQL for the scaled profile), installed when missing.

Installing needs root (as `.ci/run` is); otherwise the message names the command.
"""

import os
import shutil
import subprocess

from fleet.provision.errors import ProvisionError
from fleet.provision.progress import progress


def apt_install(label: str, packages: list[str]) -> None:
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
            ["apt-get", "install", "-y", "-qq", *packages],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ProvisionError(f"apt-get install {' '.join(packages)} failed:\n{result.stderr}")


def ensure_postgresql() -> None:
    from fleet.runner.postgres_setup import bin_dir

    if bin_dir() is None:
        # The server only: Debian's postgresql package would also start a system cluster.
        apt_install("postgresql", ["postgresql-15"])
        # Debian starts its own cluster on install; the fleet runs its own, so stop it.
        subprocess.run(["service", "postgresql", "stop"], capture_output=True)
