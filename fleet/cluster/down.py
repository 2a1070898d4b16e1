"""`make k8s-down`: stops the node and removes every trace of it from the host.

Order matters. The kubelet goes first (else it restarts what is being removed); then
every pod sandbox is removed through containerd, which runs the CNI plugins' DEL (veths,
addresses, namespaces); then containerd and the shims that outlive it; then the control
plane. What is left of the host changes is undone after that: mounts, namespaces, the
bridge, packet filter rules, cgroups, the address and route, kernel settings. Finally a
check lists anything still there.
"""

import json
import shutil

from fleet.cluster import daemons, expose, host, netfilter, sysctl
from fleet.cluster import layout as L
from fleet.cluster.node import CONTROL_PLANE, Node
from fleet.console import say


def _netns_paths(node: Node) -> list[str]:
    """The network namespace of every pod sandbox containerd knows."""
    result = node.crictl("pods", "-q")
    paths = []
    for pod in result.stdout.split():
        info = node.crictl("inspectp", pod)
        try:
            namespaces = json.loads(info.stdout)["info"]["runtimeSpec"]["linux"]["namespaces"]
        except (ValueError, KeyError, TypeError):
            continue
        paths += [n["path"] for n in namespaces if n.get("type") == "network" and n.get("path")]
    return paths


def _remove_pods(node: Node) -> list[str]:
    if not node.registry.alive("containerd"):
        return []
    netns = _netns_paths(node)
    node.crictl("stopp", *node.crictl("pods", "-q").stdout.split())
    node.crictl("rmp", "--force", "--all")
    return netns


def _stop(node: Node, name: str) -> None:
    if daemons.stop(name, node.registry):
        say(f"  ■ {name} stopped")


def _host_before(node: Node) -> dict[str, object]:
    try:
        loaded: dict[str, object] = json.loads(node.host_state().read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def down(purge: bool = False) -> int:
    node = Node.default()
    layout = node.layout
    before = _host_before(node)
    problems: list[str] = []

    say("[k8s] stopping the host forwarders, the kubelet, and removing every pod")
    for name in expose.running(node):
        _stop(node, name)
    _stop(node, "kubelet")
    netns = _remove_pods(node) if layout.containerd_socket.exists() else []
    _stop(node, "containerd")
    shims = daemons.processes_mentioning(str(layout.containerd_socket))
    if shims:
        left = daemons.kill_pids(shims)
        say(f"  ■ {len(shims) - len(left)} container shims stopped")
        problems += [f"shim pid {pid} would not exit" for pid in left]
    say("[k8s] stopping kube-proxy and the control plane")
    for name in ("kube-proxy", *reversed(CONTROL_PLANE)):
        _stop(node, name)

    say("[k8s] undoing the host changes")
    problems += host.remove_netns(netns)
    problems += host.unmount_under([layout.root])
    host.remove_bridge()
    raw_tables = before.get("nft_tables", [])
    tables_before = {(t[0], t[1]) for t in raw_tables} if isinstance(raw_tables, list) else set()
    problems += netfilter.remove_all(tables_before)
    for tree in host.kubepods_cgroups():
        problems += host.remove_cgroup_tree(tree)
    host.remove_service_route()
    host.remove_node_address()
    host.remove_container_log_links(layout.pod_logs, not before.get("container_log_dir", True))
    known = before.get("bridges", [])
    known_bridges = [str(b) for b in known] if isinstance(known, list) else []
    restored = sysctl.restore(
        sysctl.Record(layout.run / "sysctl-record.json"),
        lambda: host.new_bridges_in_use(known_bridges),
    )
    for change in restored.put_back:
        say(f"  ↺ {change.key} = {change.before}")
    for change, reason in restored.left:
        say(f"  ! {change.key} left at its current value: {reason}")
    for warning in restored.warnings:
        say(f"  ! {warning}")
    host.remove_cni_cache()
    for key, directory in (
        ("run_containerd", host.CONTAINERD_RUN_DIR),
        ("cni_cache", host.CNI_CACHE_DIR),
    ):
        if not before.get(key, True) and not host.remove_empty_tree(directory):
            problems.append(f"{directory} (created by the node) is not empty")

    for path in layout.removable() + ([layout.containerd_root] if purge else []):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    problems += leftovers(node)
    if problems:
        say("[k8s] down, but some things were left:\n  " + "\n  ".join(problems))
        return 1
    say("[k8s] down: nothing of the node is left" + ("" if purge else " (image store kept)"))
    return 0


def leftovers(node: Node) -> list[str]:
    """Every kind of trace the node can leave; empty when it is all gone."""
    layout = node.layout
    found = [f"forwarder {n} still running" for n in expose.running(node) if node.registry.alive(n)]
    found += [
        f"daemon {n} still running"
        for n in ("kubelet", "containerd", "kube-proxy", *CONTROL_PLANE)
        if node.registry.alive(n)
    ]
    found += [f"mount {m.point}" for m in host.mounts() if host.under(m.point, [layout.root])]
    found += [
        f"process {pid} uses the node's socket"
        for pid in daemons.processes_mentioning(str(layout.containerd_socket))
    ]
    found += [str(p) for p in (host.CNI_CACHE_DIR / "results").glob("order-fleet-k8s-*")]
    if host.link_exists(L.BRIDGE):
        found.append(f"bridge {L.BRIDGE}")
    if host.has_node_address():
        found.append(f"address {host.NODE_ADDRESS} on lo")
    if host.has_service_route():
        found.append("route to the Service range")
    found += [f"cgroup {p}" for p in host.kubepods_cgroups()]
    found += netfilter.leftovers()
    return found
