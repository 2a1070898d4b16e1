"""The node as one value: its layout, binaries, daemons (in start order) and kubectl."""

import json
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from fleet.cluster import commands, pki, probes
from fleet.cluster import layout as L
from fleet.cluster.daemons import Daemon, Registry
from fleet.provision import coredns, crictl, etcd, kubernetes
from fleet.provision.gopiece import GoPiece
from fleet.provision.pieces import require_pieces

PIECES = ("debian-node-packages", "kubernetes", "etcd", "coredns", "crictl", "pause")

# Start order; `down` stops them in reverse (the kubelet first, see down.py).
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
WORKER = ("containerd", "kubelet", "kube-proxy")
DAEMONS = CONTROL_PLANE + WORKER


def binaries() -> commands.Binaries:
    k8s = kubernetes.piece()
    return commands.Binaries(
        etcd=etcd.piece().binary("etcd"),
        kube_apiserver=k8s.binary("kube-apiserver"),
        kube_controller_manager=k8s.binary("kube-controller-manager"),
        kube_scheduler=k8s.binary("kube-scheduler"),
        kubelet=k8s.binary("kubelet"),
        kube_proxy=k8s.binary("kube-proxy"),
        kubectl=k8s.binary("kubectl"),
        crictl=crictl.piece().binary("crictl"),
    )


@dataclass(frozen=True)
class Node:
    layout: L.Layout

    @classmethod
    def default(cls) -> "Node":
        return cls(L.Layout.default())

    @staticmethod
    def require_provisioned() -> None:
        require_pieces(PIECES)

    @cached_property
    def bin(self) -> commands.Binaries:
        return binaries()

    @property
    def registry(self) -> Registry:
        return Registry(self.layout.run / "daemons.json")

    @property
    def coredns_piece(self) -> GoPiece:
        return coredns.piece()

    def daemon(self, name: str) -> Daemon:
        return self.daemons()[name]

    def daemons(self) -> dict[str, Daemon]:
        layout, b, p = self.layout, self.bin, self.layout.pki
        cluster_ca = pki.crt(p, "ca")
        admin = probes.tls_context(cluster_ca, pki.crt(p, "admin"), pki.key(p, "admin"))
        etcd_client = probes.tls_context(
            pki.crt(p, "etcd-ca"),
            pki.crt(p, "apiserver-etcd-client"),
            pki.key(p, "apiserver-etcd-client"),
        )
        loopback_ca = probes.tls_context(cluster_ca)
        return {
            "etcd": Daemon(
                "etcd",
                commands.etcd(b, layout),
                probes.http_ok(
                    f"https://127.0.0.1:{L.ETCD_CLIENT_PORT}/health",
                    etcd_client,
                    body='"health":"true"',
                ),
            ),
            "kube-apiserver": Daemon(
                "kube-apiserver",
                commands.kube_apiserver(b, layout),
                probes.all_of(
                    probes.http_ok(f"https://{L.NODE_IP}:{L.APISERVER_PORT}/readyz", admin),
                    # /readyz can answer before its authorizer sees the bootstrap roles; the
                    # controller-manager exits if its first read is forbidden.
                    self._bootstrap_rbac_visible,
                ),
                timeout_s=180,
            ),
            "kube-controller-manager": Daemon(
                "kube-controller-manager",
                commands.kube_controller_manager(b, layout),
                probes.http_ok(
                    f"https://127.0.0.1:{L.CONTROLLER_MANAGER_PORT}/healthz", loopback_ca
                ),
            ),
            "kube-scheduler": Daemon(
                "kube-scheduler",
                commands.kube_scheduler(b, layout),
                probes.http_ok(f"https://127.0.0.1:{L.SCHEDULER_PORT}/healthz", loopback_ca),
            ),
            "containerd": Daemon(
                "containerd",
                commands.containerd(b, layout),
                probes.unix_socket(layout.containerd_socket),
            ),
            "kubelet": Daemon(
                "kubelet",
                commands.kubelet(b, layout),
                probes.http_ok(f"http://127.0.0.1:{L.KUBELET_HEALTHZ_PORT}/healthz"),
            ),
            "kube-proxy": Daemon(
                "kube-proxy",
                commands.kube_proxy(b, layout),
                probes.http_ok(f"http://127.0.0.1:{L.KUBE_PROXY_HEALTHZ_PORT}/healthz"),
            ),
        }

    def _bootstrap_rbac_visible(self) -> bool:
        result = self.kubectl(
            "auth", "can-i", "get", "configmaps", "-n", "kube-system",
            "--as", "system:kube-controller-manager", check=False, timeout=10,
        )  # fmt: skip
        return result.stdout.strip() == "yes"

    # ---- clients --------------------------------------------------------------------

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            commands.kubectl(self.bin, self.layout, *args),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def crictl(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            commands.crictl(self.bin, self.layout, *args),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    @property
    def image_ledger(self) -> Path:
        """Archives already imported; beside the image store, so a purge forgets them."""
        return self.layout.containerd_root / "imported-archives.json"

    def host_state(self) -> Path:
        """What the host looked like before the node first changed it (down.py reads it)."""
        return self.layout.run / "host-before.json"
