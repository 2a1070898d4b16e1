"""A host port that leads to a cluster Service: 127.0.0.1:PORT → <service>:<port>.

Why not NodePorts or `kubectl port-forward`: NodePorts live in 30000-32767 and would
need Service changes; port-forward pins one pod and dies with it. This forwards each
new connection to the Service's current address, looked up in the cluster's DNS (so a
Service re-created with a new address is followed), and kube-proxy picks a ready pod.
Listens on loopback only.

    python -m fleet.cluster.forward --listen 18000 --service orchestrator.order-fleet:8000
"""

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fleet.cluster import dns
from fleet.cluster import layout as L

CACHE_S = 5.0


@dataclass(frozen=True)
class Target:
    service: str  # name.namespace
    port: int

    @classmethod
    def parse(cls, text: str) -> "Target":
        name, sep, port = text.rpartition(":")
        if not sep or "." not in name or not port.isdigit():
            raise ValueError(f"{text!r} is not name.namespace:port")
        return cls(name, int(port))

    @property
    def fqdn(self) -> str:
        return f"{self.service}.svc.{L.CLUSTER_DOMAIN}"


class Resolver:
    """The Service's address from cluster DNS, remembered for a few seconds."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._address: str | None = None
        self._at = 0.0

    def address(self) -> str | None:
        if self._address is None or time.monotonic() - self._at > CACHE_S:
            found = dns.resolve(L.DNS_SERVICE_IP, self.target.fqdn)
            self._address, self._at = (found[0] if found else None), time.monotonic()
        return self._address


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _handle(
    resolver: Resolver, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
) -> None:
    address = await asyncio.to_thread(resolver.address)
    if address is None:
        client_w.close()  # no such Service (yet): the client sees a closed connection
        return
    try:
        upstream_r, upstream_w = await asyncio.wait_for(
            asyncio.open_connection(address, resolver.target.port), timeout=10
        )
    except (OSError, TimeoutError):
        client_w.close()
        return
    await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))


async def serve(listen_port: int, target: Target) -> None:
    resolver = Resolver(target)
    server = await asyncio.start_server(
        lambda r, w: _handle(resolver, r, w), host="127.0.0.1", port=listen_port
    )
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True, help="the host port (127.0.0.1)")
    parser.add_argument("--service", required=True, help="name.namespace:port")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, Target.parse(args.service)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
