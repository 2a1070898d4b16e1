"""The command line of every node daemon: pure functions of the layout and binaries."""

from dataclasses import dataclass
from pathlib import Path

from fleet.cluster import layout as L
from fleet.cluster import pki


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubelet: Path
    kube_proxy: Path
    kubectl: Path
    crictl: Path
    containerd: str = "containerd"


def etcd(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    p = layout.pki
    client = f"https://127.0.0.1:{L.ETCD_CLIENT_PORT}"
    peer = f"http://127.0.0.1:{L.ETCD_PEER_PORT}"
    return (
        str(b.etcd),
        f"--name={L.NODE_NAME}",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        # One member: the peer URL is never dialled, but etcd insists on one.
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster={L.NODE_NAME}={peer}",
        "--initial-cluster-state=new",
        f"--cert-file={pki.crt(p, 'etcd-server')}",
        f"--key-file={pki.key(p, 'etcd-server')}",
        f"--trusted-ca-file={pki.crt(p, 'etcd-ca')}",
        "--client-cert-auth=true",
        "--log-level=warn",
    )


def kube_apiserver(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    p = layout.pki
    return (
        str(b.kube_apiserver),
        f"--advertise-address={L.NODE_IP}",
        f"--bind-address={L.NODE_IP}",
        f"--secure-port={L.APISERVER_PORT}",
        f"--etcd-servers=https://127.0.0.1:{L.ETCD_CLIENT_PORT}",
        f"--etcd-cafile={pki.crt(p, 'etcd-ca')}",
        f"--etcd-certfile={pki.crt(p, 'apiserver-etcd-client')}",
        f"--etcd-keyfile={pki.key(p, 'apiserver-etcd-client')}",
        f"--client-ca-file={pki.crt(p, 'ca')}",
        f"--tls-cert-file={pki.crt(p, 'apiserver')}",
        f"--tls-private-key-file={pki.key(p, 'apiserver')}",
        f"--kubelet-client-certificate={pki.crt(p, 'apiserver-kubelet-client')}",
        f"--kubelet-client-key={pki.key(p, 'apiserver-kubelet-client')}",
        f"--kubelet-certificate-authority={pki.crt(p, 'ca')}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-cluster-ip-range={L.SERVICE_CIDR}",
        f"--service-account-issuer=https://kubernetes.default.svc.{L.CLUSTER_DOMAIN}",
        f"--service-account-key-file={p / 'service-account.pub'}",
        f"--service-account-signing-key-file={p / 'service-account.key'}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        # Its default is /var/run/kubernetes; every file the node writes stays in its folder.
        f"--cert-dir={layout.run / 'apiserver-certs'}",
        "--profiling=false",
        "--v=1",
    )


def kube_controller_manager(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    p = layout.pki
    kubeconfig = layout.kubeconfig("controller-manager")
    return (
        str(b.kube_controller_manager),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={L.CONTROLLER_MANAGER_PORT}",
        f"--tls-cert-file={pki.crt(p, 'controller-manager-serving')}",
        f"--tls-private-key-file={pki.key(p, 'controller-manager-serving')}",
        f"--cert-dir={layout.run / 'controller-manager-certs'}",
        f"--root-ca-file={pki.crt(p, 'ca')}",
        f"--service-account-private-key-file={p / 'service-account.key'}",
        f"--cluster-signing-cert-file={pki.crt(p, 'ca')}",
        f"--cluster-signing-key-file={pki.key(p, 'ca')}",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={L.SERVICE_CIDR}",
        # One node, one instance: no election to wait for on every start.
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
    )


def kube_scheduler(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    p = layout.pki
    kubeconfig = layout.kubeconfig("scheduler")
    return (
        str(b.kube_scheduler),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={L.SCHEDULER_PORT}",
        f"--tls-cert-file={pki.crt(p, 'scheduler-serving')}",
        f"--tls-private-key-file={pki.key(p, 'scheduler-serving')}",
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
    )


def containerd(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    return (b.containerd, "--config", str(layout.etc / "containerd.toml"))


def kubelet(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    return (
        str(b.kubelet),
        f"--config={layout.etc / 'kubelet.yaml'}",
        f"--kubeconfig={layout.kubeconfig('kubelet')}",
        f"--root-dir={layout.kubelet_root}",
        f"--node-ip={L.NODE_IP}",
        f"--hostname-override={L.NODE_NAME}",
        "--v=1",
    )


def kube_proxy(b: Binaries, layout: L.Layout) -> tuple[str, ...]:
    return (str(b.kube_proxy), f"--config={layout.etc / 'kube-proxy.yaml'}", "--v=1")


def kubectl(b: Binaries, layout: L.Layout, *args: str) -> tuple[str, ...]:
    return (str(b.kubectl), f"--kubeconfig={layout.admin_kubeconfig}", *args)


def crictl(b: Binaries, layout: L.Layout, *args: str) -> tuple[str, ...]:
    endpoint = f"unix://{layout.containerd_socket}"
    return (
        str(b.crictl),
        f"--runtime-endpoint={endpoint}",
        f"--image-endpoint={endpoint}",
        "--timeout=30s",
        *args,
    )
