"""Which local ports are taken, and by whom."""

import contextlib
import socket
import time
from pathlib import Path

from fleet.topology import LOOPBACK


def is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def is_bindable(port: int) -> bool:
    """True when nothing holds the port: no listener, no connection bound to it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def wait_bindable(port: int, timeout_s: float, every_s: float = 0.2) -> bool:
    """Waits for a port that no process listens on to become bindable: a client
    connection can hold one of the fleet's ports as its local port (most lie in the
    kernel's ephemeral range) until it closes."""
    deadline = time.monotonic() + timeout_s
    while not is_bindable(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(every_s)
    return True


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def holder(port: int) -> str | None:
    """`pid NNN (command line)` of the process listening on the port, when it can be seen."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and inodes & _socket_inodes(proc):
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                return f"pid {proc.name} ({cmdline.strip()[:120]})"
            return f"pid {proc.name}"
    return "another process (not visible to this user)"


def _socket_inodes(proc: Path) -> set[str]:
    """Socket inodes a process holds; fds that close while we look are skipped, not fatal."""
    found: set[str] = set()
    try:
        fds = list((proc / "fd").iterdir())
    except OSError:
        return found
    for fd in fds:
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                found.add(target[8:-1])
    return found
