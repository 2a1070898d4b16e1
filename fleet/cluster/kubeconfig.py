"""Kubeconfig files: one per client of the API server, each with its own certificate."""

from pathlib import Path

import yaml

from fleet.cluster import layout as L
from fleet.cluster import pki

CLUSTER = "order-fleet"


def render(pki_dir: Path, user: str, cert_name: str, server: str | None = None) -> str:
    """A kubeconfig naming files (not embedding them), so a fresh PKI needs no rewrite."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER,
                "cluster": {
                    "server": server or f"https://{L.NODE_IP}:{L.APISERVER_PORT}",
                    "certificate-authority": str(pki.crt(pki_dir, "ca")),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate": str(pki.crt(pki_dir, cert_name)),
                    "client-key": str(pki.key(pki_dir, cert_name)),
                },
            }
        ],
        "contexts": [{"name": user, "context": {"cluster": CLUSTER, "user": user}}],
        "current-context": user,
    }
    return yaml.safe_dump(config, sort_keys=False)


# user name → the certificate it presents
CLIENTS = {
    "controller-manager": "controller-manager",
    "scheduler": "scheduler",
    "kubelet": "kubelet-client",
    "kube-proxy": "kube-proxy",
}


def write_all(layout: L.Layout) -> None:
    layout.etc.mkdir(parents=True, exist_ok=True)
    for user, cert_name in CLIENTS.items():
        path = layout.kubeconfig(user)
        path.write_text(render(layout.pki, user, cert_name))
        path.chmod(0o600)
    layout.admin_kubeconfig.write_text(render(layout.pki, "admin", "admin"))
    layout.admin_kubeconfig.chmod(0o600)
