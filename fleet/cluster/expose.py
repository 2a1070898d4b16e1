"""The fleet's host addresses on the node: the API, Kafka and Zipkin at 127.0.0.1, on the
local fleet's ports unless FLEET_K8S_*_PORT moves them (fleet/cluster/layout.HostPorts).

Each is a forwarder daemon (fleet/cluster/forward.py) in the node's registry, so
`k8s-down` stops it with the rest.
"""

import sys

from fleet.cluster import daemons, forward
from fleet.cluster import layout as L
from fleet.cluster.daemons import Daemon, NodeError
from fleet.cluster.node import Node
from fleet.runner.ports import holder, is_bindable, is_listening

PREFIX = "forward-"
FLEET_NAMESPACE = "order-fleet"


def targets(ports: L.HostPorts, namespace: str = FLEET_NAMESPACE) -> dict[str, tuple[int, str]]:
    """forwarder name → (host port, Service name.namespace:port)."""
    return {
        f"{PREFIX}api": (ports.api, f"orchestrator.{namespace}:8000"),
        # The host listener (fleet_deploy.py): it advertises 127.0.0.1:<ports.kafka>.
        f"{PREFIX}kafka": (ports.kafka, f"kafka.{namespace}:29092"),
        f"{PREFIX}zipkin": (ports.zipkin, f"zipkin.{namespace}:9411"),
    }


def forwarder(name: str, port: int, service: str) -> Daemon:
    forward.Target.parse(service)  # refuse a malformed target before starting anything
    argv = (
        sys.executable,
        "-m",
        "fleet.cluster.forward",
        "--listen",
        str(port),
        "--service",
        service,
    )
    return Daemon(name, argv, lambda: is_listening(port), timeout_s=15)


def expose(node: Node, wanted: dict[str, tuple[int, str]]) -> list[str]:
    # Forwarders hold no state: start afresh, so changed ports or targets take effect.
    for name in running(node):
        daemons.stop(name, node.registry, grace_s=5)
    # Held by someone else (a local fleet, a compose run): say so before starting any, or
    # the readiness check would take their listener for ours.
    taken = [
        f"127.0.0.1:{port} (for {service}) is held by {holder(port) or 'a connection'}"
        for name, (port, service) in wanted.items()
        if not is_bindable(port)
    ]
    if taken:
        raise NodeError(
            "cannot expose the fleet: " + "; ".join(taken) + ". Move the node's host ports with "
            "FLEET_K8S_API_PORT, FLEET_K8S_KAFKA_PORT, FLEET_K8S_ZIPKIN_PORT."
        )
    started = []
    for name, (port, service) in wanted.items():
        daemon = forwarder(name, port, service)
        daemons.start(daemon, node.registry, node.layout.log(name))
        daemons.wait_ready(daemon, node.registry, node.layout.log(name))
        started.append(f"127.0.0.1:{port} → {service}")
    return started


def running(node: Node) -> list[str]:
    return [name for name in node.registry.load() if name.startswith(PREFIX)]
