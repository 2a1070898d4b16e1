"""Running the Docker CLI against the engine in use, with the compose plugin we build.

Always Debian's client (/usr/bin/docker, the daemon's version): on this machine
/usr/local/bin/docker, first on PATH, is a newer client whose `docker build` wants
BuildKit. The classic builder (DOCKER_BUILDKIT=0) also never fetches a Dockerfile
frontend image from a registry.
"""

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from fleet.containers.engine import Engine
from fleet.containers.packages import DOCKER_CLI
from fleet.provision import compose_plugin


def cli_env(engine: Engine, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "DOCKER_HOST": engine.host,
            # Our plugin folder; no credentials or contexts of the user's ~/.docker.
            "DOCKER_CONFIG": str(compose_plugin.docker_config_dir()),
            "DOCKER_BUILDKIT": "0",
            "COMPOSE_DOCKER_CLI_BUILD": "0",
            "DOCKER_CLI_HINTS": "false",
        }
    )
    # A context named in the environment would take precedence over DOCKER_HOST.
    env.pop("DOCKER_CONTEXT", None)
    return env


def docker(
    engine: Engine,
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    capture: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs `docker ARGS`; raises DockerError with its output when `check` and it fails."""
    result = subprocess.run(
        [str(DOCKER_CLI), *args],
        env=cli_env(engine, env),
        capture_output=capture,
        text=True,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        output = ((result.stderr or "") + (result.stdout or "")).strip()
        raise DockerError(f"`docker {' '.join(args)}` failed (exit {result.returncode}): {output}")
    return result


class DockerError(RuntimeError):
    """A docker command failed; the message has its command line and output."""
