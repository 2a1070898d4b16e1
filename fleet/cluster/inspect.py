"""`make k8s-status` and `make k8s-logs POD=...`: the node's daemons, its pods, their logs."""

import subprocess

from fleet import console
from fleet.cluster.daemons import Registry
from fleet.cluster.node import DAEMONS, Node
from fleet.provision.errors import tail


def daemon_rows(node: Node) -> list[list[str]]:
    registry: Registry = node.registry
    table = node.daemons()
    rows = []
    for name in DAEMONS:
        pid = registry.alive(name)
        state = "down" if pid is None else ("ready" if table[name].ready() else "not ready")
        rows.append([name, str(pid or "-"), state, str(node.layout.log(name))])
    return rows


def status() -> int:
    node = Node.default()
    rows = daemon_rows(node)
    print(console.table(["DAEMON", "PID", "STATE", "LOG"], rows))
    if any(r[2] == "down" for r in rows):
        return 3
    pods = node.kubectl("get", "nodes,pods", "--all-namespaces", "-o", "wide", check=False)
    print()
    print(pods.stdout.rstrip() or pods.stderr.rstrip())
    print(f"\nexport KUBECONFIG={node.layout.admin_kubeconfig}")
    print(f"kubectl: {node.bin.kubectl}")
    return 0 if all(r[2] == "ready" for r in rows) else 3


def _find_pod(node: Node, name: str) -> tuple[str, str] | None:
    """(namespace, pod) of the first pod whose name is or starts with `name`."""
    pods = node.kubectl_json("get", "pods", "--all-namespaces")["items"]
    exact = [p for p in pods if p["metadata"]["name"] == name]
    matches = exact or [p for p in pods if p["metadata"]["name"].startswith(name)]
    if not matches:
        return None
    meta = matches[0]["metadata"]
    return meta["namespace"], meta["name"]


def logs(name: str, lines: int = 200) -> int:
    """A node daemon's log, or a pod's (all its containers, each line prefixed)."""
    node = Node.default()
    if name in DAEMONS:
        print(tail(node.layout.log(name), lines))
        return 0
    found = _find_pod(node, name)
    if found is None:
        console.error(f"no pod or node daemon called {name!r} (daemons: {', '.join(DAEMONS)})")
        return 1
    namespace, pod = found
    return subprocess.call(
        [str(node.bin.kubectl), f"--kubeconfig={node.layout.admin_kubeconfig}", "logs",
         "-n", namespace, pod, "--all-containers", "--prefix", f"--tail={lines}"]
    )  # fmt: skip
