"""Readiness checks for the node's daemons: each True only once the daemon really serves."""

import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx

Check = Callable[[], bool]


def tls_context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def http_ok(url: str, context: ssl.SSLContext | None = None, body: str | None = None) -> Check:
    """200 (and, if given, `body` in the response): /healthz, /readyz, /health."""

    def check() -> bool:
        try:
            response = httpx.get(url, timeout=2.0, verify=context if context else True)
        except (httpx.HTTPError, OSError):
            return False
        return response.status_code == 200 and (body is None or body in response.text)

    return check


def unix_socket(path: Path) -> Check:
    def check() -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(str(path))
            except OSError:
                return False
            return True

    return check


def all_of(*checks: Check) -> Check:
    return lambda: all(check() for check in checks)
