"""`make k8s-up`: prepares the host, starts the daemons in order, applies the add-ons and
returns once the node is Ready and the cluster's DNS answers."""

import json
import os
import time
from collections.abc import Callable

from fleet.cluster import (
    addons,
    configs,
    daemons,
    dns,
    host,
    images,
    kubeconfig,
    netfilter,
    pki,
    sysctl,
)
from fleet.cluster import layout as L
from fleet.cluster.daemons import NodeError
from fleet.cluster.node import CONTROL_PLANE, DAEMONS, Node
from fleet.console import say
from fleet.provision import debian, pause
from fleet.provision.progress import format_elapsed
from fleet.runner import ports

READY_TIMEOUT_S = 180.0


def _ports(node: Node) -> list[int]:
    return [
        L.ETCD_CLIENT_PORT,
        L.ETCD_PEER_PORT,
        L.APISERVER_PORT,
        L.KUBELET_PORT,
        L.KUBELET_HEALTHZ_PORT,
        L.KUBE_PROXY_HEALTHZ_PORT,
        L.KUBE_PROXY_METRICS_PORT,
        L.CONTROLLER_MANAGER_PORT,
        L.SCHEDULER_PORT,
    ]


def _conflicts(node: Node) -> list[str]:
    if any(node.registry.alive(name) for name in DAEMONS):
        return []  # a node of ours is (partly) up: `up` completes it
    found = [
        f"port {port} is in use by {ports.holder(port) or 'a connection'}"
        for port in _ports(node)
        if not ports.is_bindable(port)
    ]
    found += [
        f"{conflict} meets the node's networks {', '.join(L.NODE_NETWORKS)}"
        for conflict in host.network_conflicts()
    ]
    return found


def _record_host(node: Node) -> None:
    path = node.host_state()
    if path.exists():
        return  # the first `up` saw the host as it was; keep that
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "nft_tables": sorted(netfilter.nft_tables()),
                "container_log_dir": host.CONTAINER_LOG_LINKS.exists(),
                "run_containerd": host.CONTAINERD_RUN_DIR.exists(),
                "cni_cache": host.CNI_CACHE_DIR.exists(),
                "bridges": host.bridges(),
            }
        )
    )


def _write_configs(node: Node) -> None:
    layout = node.layout
    for directory in (layout.etc, layout.cni_conf_dir, layout.run, layout.logs, layout.pod_logs):
        directory.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.chmod(0o700)  # etcd refuses a data dir others can read
    pki.ensure(layout.pki)
    kubeconfig.write_all(layout)
    (layout.etc / "containerd.toml").write_text(
        configs.containerd_toml(layout, pause.image_reference(), str(debian.CNI_BIN_DIR))
    )
    (layout.cni_conf_dir / "10-order-fleet.conflist").write_text(configs.cni_conflist(layout))
    (layout.etc / "kubelet.yaml").write_text(configs.kubelet_config(layout))
    (layout.etc / "kube-proxy.yaml").write_text(configs.kube_proxy_config(layout))
    for volume in addons.volume_dirs(layout.volumes):
        volume.mkdir(parents=True, exist_ok=True)


def _prepare_host(node: Node) -> None:
    _record_host(node)
    changed = sysctl.apply(sysctl.Record(node.layout.run / "sysctl-record.json"))
    if changed:
        say("  … kernel settings: " + ", ".join(f"{c.key}={c.set_to}" for c in changed))
    host.add_node_address()
    host.add_service_route()
    netfilter.install()
    host.make_rshared(node.layout.kubelet_root)


def _start(node: Node, names: tuple[str, ...]) -> None:
    """One after the other: each needs the one before it serving (the controller-manager
    exits if the API server does not answer it yet)."""
    registry, table = node.registry, node.daemons()
    for name in names:
        daemons.start(table[name], registry, node.layout.log(name))
        seconds = daemons.wait_ready(table[name], registry, node.layout.log(name))
        say(f"  ✓ {name} ready ({seconds:.1f}s)")


def _poll(what: str, check: Callable[[], bool], timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise NodeError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.5)


def node_ready(node: Node) -> bool:
    result = node.kubectl("get", "node", L.NODE_NAME, "-o", "json", check=False)
    if result.returncode != 0:
        return False
    conditions = json.loads(result.stdout)["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def dns_answers() -> bool:
    name = f"kubernetes.default.svc.{L.CLUSTER_DOMAIN}"
    return dns.resolve(L.DNS_SERVICE_IP, name) == [L.KUBERNETES_SERVICE_IP]


def _addons(node: Node) -> None:
    image = images.coredns_reference(node.coredns_piece)
    manifests = addons.coredns(image) + addons.storage(node.layout.volumes)
    node.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", "-", input=addons.dump(manifests)
    )


def up() -> int:
    if os.geteuid() != 0:
        raise NodeError("the node needs root (network, mounts, cgroups): run it as root")
    node = Node.default()
    node.require_provisioned()
    began = time.monotonic()
    conflicts = _conflicts(node)
    if conflicts:
        raise NodeError("cannot start the node:\n  " + "\n  ".join(conflicts))
    say("[k8s] preparing the host and the node's files")
    _write_configs(node)
    _prepare_host(node)
    say("[k8s] control plane")
    _start(node, CONTROL_PLANE)
    say("[k8s] container runtime and images")
    _start(node, ("containerd",))
    pause_archive = images.Archive(pause.archive(), pause.image_reference())
    archives = images.default_archives(node.coredns_piece, pause_archive, node.layout.run)
    imported = images.import_all(node.layout.containerd_socket, archives, node.image_ledger)
    say(
        f"  ✓ images: {len(archives)} present"
        + (f" ({len(imported)} imported)" if imported else "")
    )
    say("[k8s] kubelet and kube-proxy")
    _start(node, ("kubelet", "kube-proxy"))
    _poll("the node to be Ready", lambda: node_ready(node))
    say(f"  ✓ node {L.NODE_NAME} Ready")
    say("[k8s] add-ons: CoreDNS, local storage")
    _addons(node)
    _poll("CoreDNS to answer for kubernetes.default", dns_answers)
    say(f"  ✓ CoreDNS answers at {L.DNS_SERVICE_IP}")
    say(
        f"[k8s] up in {format_elapsed(time.monotonic() - began)}. "
        f"export KUBECONFIG={node.layout.admin_kubeconfig}"
    )
    return 0
