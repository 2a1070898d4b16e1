"""Builds the docker compose v2 CLI plugin from its Go module into the cache.

The plugin is found through a Docker CLI config folder of our own (`DOCKER_CONFIG`), so
`docker compose` works for our engine without touching the user's `~/.docker`. v2.40.3
is the last release under the `/v2` module path (later ones moved to `/v5`). Its go.mod
has exclude directives, which `go install module/cmd@version` refuses, so it is built
from a wrapper module like the Dapr runtime (fleet/provision/dapr.py).
"""

import os
import subprocess
from pathlib import Path

from fleet.paths import cache_dir
from fleet.provision import gomodule
from fleet.provision.errors import failure
from fleet.provision.progress import progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require_go

COMPOSE = "2.40.3"
MODULE = "github.com/docker/compose/v2"
# Compose's Makefile stamps the version here; `docker compose version` reads it.
_VERSION_VARIABLE = f"{MODULE}/internal.Version"
_WRAPPER_MODULE = "orderfleet.local/composebuild"


def compose_home(version: str = COMPOSE) -> Path:
    return cache_dir() / f"compose-{version}"


def docker_config_dir(version: str = COMPOSE) -> Path:
    """A DOCKER_CONFIG folder whose only content is the plugin (no credentials, no context)."""
    return compose_home(version) / "docker-config"


def plugin_binary(version: str = COMPOSE) -> Path:
    return docker_config_dir(version) / "cli-plugins" / "docker-compose"


def is_built(version: str = COMPOSE) -> bool:
    binary = plugin_binary(version)
    return is_complete(binary.parent.parent) and os.access(binary, os.X_OK)


def ensure_compose(version: str = COMPOSE) -> Path:
    """Builds the plugin unless this version is already in the cache; returns DOCKER_CONFIG."""
    home = compose_home(version)
    with piece_lock(home):
        if not is_built(version):
            _build(version, home)
    return docker_config_dir(version)


def _build(version: str, home: Path) -> None:
    go = require_go()
    work = home / "build"
    work.mkdir(parents=True, exist_ok=True)
    log = home / "build.log"
    label = f"compose {version}"
    with (
        progress(label) as shown,
        log.open("w") as log_file,
        staged(docker_config_dir(version), label, label) as staging,
    ):
        plugins = staging / "cli-plugins"
        plugins.mkdir()
        shown.phase("resolving", f"{MODULE}@v{version}")
        [upstream] = gomodule.download(go, [f"{MODULE}@v{version}"], log_file, log)
        gomodule.write_wrapper(
            work,
            gomodule.wrapper_go_mod(upstream, _WRAPPER_MODULE),
            (upstream.dir / "go.sum").read_text() + upstream.sum_lines(),
        )
        shown.phase("building", f"{MODULE}/cmd")
        # -mod=mod: compose's go.sum lacks a few lines the wrapper's graph needs; go
        # verifies every added line against the checksum database.
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
        process = subprocess.Popen(
            [
                go,
                "build",
                "-v",
                "-trimpath",
                f"-ldflags=-s -w -X {_VERSION_VARIABLE}=v{version}",
                "-o",
                str(plugins / "docker-compose"),
                f"{MODULE}/cmd",
            ],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        downloaded = compiled = 0
        for line in process.stdout:
            log_file.write(line)
            if line.startswith("go: downloading"):
                downloaded += 1
                shown.detail(f"downloading modules ({downloaded})")
            elif not line.startswith(("go:", "#", " ", "\t")):
                compiled += 1
                shown.detail(f"{compiled} packages compiled")
        log_file.flush()
        if process.wait() != 0:
            raise failure(f"building docker compose {version}", log)
