"""Keeps the kernel from handing the fleet's ports to client connections.

Most of the fleet's ports lie in the kernel's ephemeral range (32768-60999 by default),
so any outgoing connection on the host can take one as its local port and hold it for as
long as it lives; the fleet then cannot start. `net.ipv4.ip_local_reserved_ports` takes
ports out of automatic assignment while leaving explicit binds alone, which is exactly
what a fixed-port service needs. It is per network namespace and needs root; without it
the supervisor's wait-and-retry for a held port still applies.
"""

import logging
from collections.abc import Iterable
from pathlib import Path

RESERVED = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")

logger = logging.getLogger(__name__)


def parse(text: str) -> set[int]:
    """`8080,50000-50002` as the set of ports it names."""
    found: set[int] = set()
    for part in text.replace("\n", "").split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def render(ports: Iterable[int]) -> str:
    """The sysctl's own format: sorted, consecutive ports folded into ranges."""
    ranges: list[list[int]] = []
    for port in sorted(set(ports)):
        if ranges and port == ranges[-1][1] + 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def reserve(ports: Iterable[int], sysctl: Path = RESERVED) -> bool:
    """Adds `ports` to the reserved set, keeping what others reserved; True when they are
    (or already were) reserved."""
    try:
        current = parse(sysctl.read_text())
        wanted = current | set(ports)
        if wanted != current:
            sysctl.write_text(render(wanted) + "\n")
    except (OSError, ValueError) as failure:
        logger.warning(
            "could not reserve the fleet's ports against client connections",
            extra={"error": str(failure), "sysctl": str(sysctl)},
        )
        return False
    return True
