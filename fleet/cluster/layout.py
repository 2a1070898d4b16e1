"""Where the node keeps its files, which addresses and ports it uses: the one place.

The node's files live in the checkout's `.fleet/k8s/` (like the local fleet's data), so
two clones never share a node's state. Only one node can run per machine: the
addresses, the bridge and the ports below are machine-wide.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from fleet.paths import home_dir

NODE_NAME = "order-fleet-node"
CLUSTER_DOMAIN = "cluster.local"

# The node's own address, on the loopback device: reachable from the host and from pods
# (through their bridge gateway), and from nowhere else. 10.231-233/16: away from the
# usual ones (Docker's 172.17/16, kind's 10.244/16 and 10.96/12) and from the private
# Docker engine of this project's image builds (10.213/16); `up` refuses to start if
# any of them meets an address or route already on the host (host.network_conflicts).
NODE_IP = "10.231.0.1"
CLUSTER_CIDR = "10.232.0.0/16"
POD_SUBNET = "10.232.0.0/24"
POD_GATEWAY = "10.232.0.1"
SERVICE_CIDR = "10.233.0.0/16"
KUBERNETES_SERVICE_IP = "10.233.0.1"
DNS_SERVICE_IP = "10.233.0.10"
NODE_NETWORKS = (f"{NODE_IP}/32", CLUSTER_CIDR, SERVICE_CIDR)
BRIDGE = "fleetk8s0"
CNI_NETWORK = "order-fleet-k8s"

# Ports: none of them in the local fleet's ranges (fleet/topology.py), so the node and
# `make run` can share the machine.
ETCD_CLIENT_PORT = 12379
ETCD_PEER_PORT = 12380
APISERVER_PORT = 6443
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_METRICS_PORT = 10249
KUBE_PROXY_HEALTHZ_PORT = 10256
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259


@dataclass(frozen=True)
class HostPorts:
    """Where the host reaches the fleet in the node: the local fleet's ports by default.

    Overridable (FLEET_K8S_API_PORT, _KAFKA_PORT, _ZIPKIN_PORT) so a node can run next
    to a local fleet that already holds 8000/9092/9411."""

    api: int = 8000
    kafka: int = 9092
    zipkin: int = 9411

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "HostPorts":
        source = os.environ if env is None else env
        defaults = cls()

        def port(key: str, default: int) -> int:
            raw = source.get(f"FLEET_K8S_{key}_PORT")
            if raw is None or raw == "":
                return default
            value = int(raw)
            if not 0 < value < 65536:
                raise ValueError(f"FLEET_K8S_{key}_PORT={raw} is not a TCP port")
            return value

        return cls(
            api=port("API", defaults.api),
            kafka=port("KAFKA", defaults.kafka),
            zipkin=port("ZIPKIN", defaults.zipkin),
        )


@dataclass(frozen=True)
class Layout:
    """The node's folders and files under one root."""

    root: Path

    @classmethod
    def default(cls) -> "Layout":
        return cls(home_dir() / "k8s")

    # Everything below is removed by `k8s-down` except the image store.
    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd-state"

    @property
    def runc_root(self) -> Path:
        return self.containerd_state / "runc"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def cni_conf_dir(self) -> Path:
        return self.etc / "cni"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.root / "cni-ipam"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    # Kept across `k8s-down` (unless purged): imported images need no second import.
    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    def kubeconfig(self, user: str) -> Path:
        return self.etc / f"{user}.kubeconfig"

    def log(self, daemon: str) -> Path:
        return self.logs / f"{daemon}.log"

    def removable(self) -> list[Path]:
        """What `k8s-down` deletes; the image store stays unless purged."""
        return [
            self.pki,
            self.etc,
            self.etcd_data,
            self.kubelet_root,
            self.pod_logs,
            self.containerd_state,
            self.run,
            self.cni_ipam_dir,
            self.volumes,
            self.admin_kubeconfig,
        ]
