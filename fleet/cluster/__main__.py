"""`python -m fleet.cluster up|down|status|logs NAME|kubectl ARGS...` (the make k8s-* targets)."""

import argparse
import os
import sys
from collections.abc import Sequence

from fleet import console
from fleet.cluster.daemons import NodeError
from fleet.provision.errors import ProvisionError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fleet.cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="bring the node up; returns once it is Ready and DNS answers")
    down = commands.add_parser("down", help="stop the node and remove every trace of it")
    down.add_argument("--purge", action="store_true", help="also drop the imported images")
    commands.add_parser("status", help="the node's daemons and pods (exit 3 if any is down)")
    logs = commands.add_parser("logs", help="a pod's log (all containers) or a node daemon's")
    logs.add_argument("name")
    logs.add_argument("-n", "--lines", type=int, default=200)
    kubectl = commands.add_parser("kubectl", help="kubectl with the node's admin kubeconfig")
    kubectl.add_argument("args", nargs=argparse.REMAINDER)
    commands.add_parser("check", help="prove DNS, Services and webhooks work from pods")
    commands.add_parser(
        "dapr", help="install deploy/dapr-system (local image names); wait for every pod Ready"
    )
    commands.add_parser(
        "fleet", help="apply deploy/k8s (local image names), wait until ready, expose it"
    )
    exposed = commands.add_parser(
        "expose", help="the fleet's API, Kafka and Zipkin on 127.0.0.1 (FLEET_K8S_*_PORT)"
    )
    exposed.add_argument("--namespace", default="order-fleet")
    exposed.add_argument(
        "extra", nargs="*", help="more forwards as PORT=name.namespace:port (e.g. for tests)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "up":
                from fleet.cluster.up import up

                return up()
            case "down":
                from fleet.cluster.down import down

                return down(purge=args.purge)
            case "status":
                from fleet.cluster.inspect import status

                return status()
            case "logs":
                from fleet.cluster.inspect import logs

                return logs(args.name, args.lines)
            case "kubectl":
                from fleet.cluster.node import Node

                node = Node.default()
                kubectl = [str(node.bin.kubectl), f"--kubeconfig={node.layout.admin_kubeconfig}"]
                os.execv(kubectl[0], kubectl + args.args)
            case "expose":
                from fleet.cluster import expose, layout
                from fleet.cluster.node import Node

                wanted = expose.targets(layout.HostPorts.from_env(), args.namespace)
                for item in args.extra:
                    port, _, service = item.partition("=")
                    wanted[f"{expose.PREFIX}{port}"] = (int(port), service)
                for line in expose.expose(Node.default(), wanted):
                    console.say(f"  ✓ {line}")
                return 0
            case "dapr":
                from fleet.cluster import dapr, images, node_images
                from fleet.cluster.node import Node

                node = Node.default()
                archives = images.extra_archives() + node_images.saved_archives()
                imported = images.import_all(
                    node.layout.containerd_socket, archives, node.image_ledger
                )
                if imported:
                    console.say(f"  ✓ imported {', '.join(imported)}")
                seconds = dapr.install(node)
                console.say(f"  ✓ Dapr control plane Ready in {seconds:.0f}s")
                return 0
            case "fleet":
                from fleet.cluster import expose, fleet_deploy, images, layout, node_images
                from fleet.cluster.node import Node

                node = Node.default()
                ports = layout.HostPorts.from_env()
                archives = images.extra_archives() + node_images.saved_archives()
                imported = images.import_all(
                    node.layout.containerd_socket, archives, node.image_ledger
                )
                if imported:
                    console.say(f"  ✓ imported {', '.join(imported)}")
                seconds = fleet_deploy.deploy(node, ports)
                console.say(f"  ✓ the fleet is ready in {seconds:.0f}s")
                for line in expose.expose(node, expose.targets(ports)):
                    console.say(f"  ✓ {line}")
                return 0
            case "check":
                from fleet.cluster.check import check

                return check()
    except (NodeError, ProvisionError, RuntimeError) as error:
        console.error(f"✗ {error}")
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
