"""Checks for the toolchains the first run needs, with install advice when one is missing."""

import re
import shutil
import subprocess

from fleet.provision.errors import ProvisionError

_ADVICE = {
    "go": "Go 1.21 or newer builds the Dapr runtime (newer toolchains are fetched through "
    "the Go module proxy). Install it: `apt-get install golang-go`, or see go.dev/doc/install.",
    "java": "Java 17 or newer runs Kafka and Zipkin. Install it: "
    "`apt-get install openjdk-17-jre-headless`.",
    "mvn": "Maven downloads Kafka and Zipkin from Maven Central. Install it: "
    "`apt-get install maven`.",
}


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ProvisionError(f"`{tool}` is not installed. {_ADVICE[tool]}")
    return path


def go_version(go: str) -> tuple[int, int]:
    out = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"go(\d+)\.(\d+)", out)
    if not match:
        raise ProvisionError(f"could not read the Go version from {out!r}")
    return int(match.group(1)), int(match.group(2))


def require_go() -> str:
    go = require("go")
    if go_version(go) < (1, 21):
        raise ProvisionError(f"{go} is too old to fetch the toolchain Dapr needs. {_ADVICE['go']}")
    return go
