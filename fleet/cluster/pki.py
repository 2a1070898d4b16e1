"""The node's certificates: two small CAs and a certificate per component, with openssl.

kubeadm's split, minus what one node does not need: a cluster CA (API server, kubelet,
every client of the API), an etcd CA (only the API server may talk to etcd), and the
service-account signing key. ECDSA P-256 throughout: fast to generate, accepted by every
component. The front-proxy CA is left out: the fleet runs no aggregated API servers.
"""

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet.cluster import layout as L

DAYS = 365


@dataclass(frozen=True)
class Cert:
    name: str  # file stem: <name>.crt / <name>.key
    common_name: str
    ca: str  # file stem of the signing CA
    organizations: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    server: bool = False
    client: bool = False


def _service_names() -> tuple[str, ...]:
    return (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{L.CLUSTER_DOMAIN}",
        "localhost",
    )


CAS = ("ca", "etcd-ca")

CERTS: tuple[Cert, ...] = (
    Cert("etcd-server", "etcd", "etcd-ca", dns=("localhost",), ips=("127.0.0.1",), server=True),
    Cert("apiserver-etcd-client", "kube-apiserver-etcd-client", "etcd-ca", client=True),
    Cert(
        "apiserver",
        "kube-apiserver",
        "ca",
        dns=_service_names(),
        ips=(L.NODE_IP, L.KUBERNETES_SERVICE_IP, "127.0.0.1"),
        server=True,
    ),
    # The API server's client certificate towards kubelets (logs, exec, port-forward).
    Cert(
        "apiserver-kubelet-client",
        "kube-apiserver-kubelet-client",
        "ca",
        organizations=("system:masters",),
        client=True,
    ),
    Cert("admin", "order-fleet-admin", "ca", organizations=("system:masters",), client=True),
    Cert("controller-manager", "system:kube-controller-manager", "ca", client=True),
    Cert(
        "controller-manager-serving",
        "kube-controller-manager",
        "ca",
        dns=("localhost",),
        ips=("127.0.0.1",),
        server=True,
    ),
    Cert("scheduler", "system:kube-scheduler", "ca", client=True),
    Cert(
        "scheduler-serving",
        "kube-scheduler",
        "ca",
        dns=("localhost",),
        ips=("127.0.0.1",),
        server=True,
    ),
    # The Node authorizer knows a kubelet by this name and group.
    Cert(
        "kubelet-client",
        f"system:node:{L.NODE_NAME}",
        "ca",
        organizations=("system:nodes",),
        client=True,
    ),
    Cert(
        "kubelet-serving",
        L.NODE_NAME,
        "ca",
        dns=(L.NODE_NAME, "localhost"),
        ips=(L.NODE_IP, "127.0.0.1"),
        server=True,
    ),
    Cert("kube-proxy", "system:kube-proxy", "ca", client=True),
)


def subject(common_name: str, organizations: Sequence[str] = ()) -> str:
    return "".join(f"/O={o}" for o in organizations) + f"/CN={common_name}"


def extensions(cert: Cert) -> str:
    """The x509v3 extension section openssl signs into the certificate."""
    usages = (["serverAuth"] if cert.server else []) + (["clientAuth"] if cert.client else [])
    lines = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={','.join(usages)}",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
    ]
    names = [f"DNS:{d}" for d in cert.dns] + [f"IP:{ip}" for ip in cert.ips]
    if names:
        lines.append(f"subjectAltName={','.join(names)}")
    return "\n".join(lines) + "\n"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )
    path.chmod(0o600)


def _ca(directory: Path, name: str) -> None:
    key = directory / f"{name}.key"
    _key(key)
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-sha256", "-days", str(DAYS * 10),
        "-subj", subject(f"order-fleet-{name}"),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        "-out", str(directory / f"{name}.crt"),
    )  # fmt: skip


def _leaf(directory: Path, cert: Cert) -> None:
    key = directory / f"{cert.name}.key"
    csr = directory / f"{cert.name}.csr"
    ext = directory / f"{cert.name}.ext"
    _key(key)
    _openssl(
        "req", "-new", "-key", str(key), "-subj", subject(cert.common_name, cert.organizations),
        "-out", str(csr),
    )  # fmt: skip
    ext.write_text(extensions(cert))
    _openssl(
        "x509", "-req", "-in", str(csr), "-sha256", "-days", str(DAYS),
        "-CA", str(directory / f"{cert.ca}.crt"), "-CAkey", str(directory / f"{cert.ca}.key"),
        "-CAcreateserial", "-extfile", str(ext), "-out", str(directory / f"{cert.name}.crt"),
    )  # fmt: skip
    csr.unlink()
    ext.unlink()


def ensure(directory: Path) -> None:
    """Creates whatever certificate or key is missing (a fresh node gets a fresh PKI)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for name in CAS:
        if not (directory / f"{name}.crt").exists():
            _ca(directory, name)
    for cert in CERTS:
        if not (directory / f"{cert.name}.crt").exists():
            _leaf(directory, cert)
    signing_key = directory / "service-account.key"
    if not signing_key.exists():
        _key(signing_key)
        _openssl(
            "pkey", "-in", str(signing_key), "-pubout", "-out", str(signing_key.with_suffix(".pub"))
        )


def crt(directory: Path, name: str) -> Path:
    return directory / f"{name}.crt"


def key(directory: Path, name: str) -> Path:
    return directory / f"{name}.key"
