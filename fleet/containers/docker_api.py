"""The few Docker Engine API calls made without the CLI: is a daemon answering, and which.

HTTP over the daemon's unix socket, so checking costs no process and no dependency.
"""

import http.client
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True)
class DaemonInfo:
    version: str
    api_version: str


def get_json(path: Path, url: str, timeout: float = 3.0) -> Any:
    """GET `url` from the daemon at unix socket `path`; OSError if it does not answer."""
    connection = _UnixConnection(path, timeout)
    try:
        connection.request("GET", url)
        response = connection.getresponse()
        body = response.read()
    except (http.client.HTTPException, ValueError) as error:
        raise OSError(f"{path}: {error}") from error
    finally:
        connection.close()
    if response.status != 200:
        raise OSError(f"{path} answered {url} with HTTP {response.status}")
    return json.loads(body)


def daemon_info(path: Path) -> DaemonInfo | None:
    """The daemon answering on `path`, or None when nothing usable answers there."""
    try:
        version = get_json(path, "/version")
    except (OSError, ValueError):
        return None
    return DaemonInfo(str(version.get("Version", "?")), str(version.get("ApiVersion", "?")))


def running_containers(path: Path) -> list[str]:
    """Names of the containers running in the daemon at `path` (empty if it is gone)."""
    try:
        containers = get_json(path, "/containers/json")
    except (OSError, ValueError):
        return []
    return [str(c.get("Names", ["?"])[0]).lstrip("/") for c in containers]
