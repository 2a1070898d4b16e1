"""The fleet on the node: `kubectl apply -k` of deploy/k8s through a local overlay.

The overlay changes what this machine needs and nothing about the apps:
- image names: the official ones deploy/k8s names → the images built here;
- Kafka's host listener: a second listener (HOST, :29092) advertised as 127.0.0.1:<the
  host port>, so a client on the host (through fleet/cluster/forward.py) is sent back to
  an address it can reach. The in-cluster listener (kafka:9092) is untouched. This is
  the same listener docker-compose.yml has; it belongs in deploy/k8s itself (then
  `kubectl port-forward svc/kafka 9092:29092` works on any cluster), and is here only
  until it is there.
Storage needs nothing: the claims take the default StorageClass (fleet/cluster/addons.py).

The Secrets deploy/k8s expects (README, Deploying) are created once with random values,
as a user would, and kept while the namespace lives.
"""

import os
import secrets
import time
from pathlib import Path
from typing import Any

import yaml

from fleet import topology
from fleet.cluster import layout as L
from fleet.cluster.node import Node
from fleet.identity import api_auth_env, new_signing_key
from fleet.paths import REPO_ROOT
from fleet.secrets import KAFKA_PRINCIPALS

NAMESPACE = "order-fleet"
DEPLOY_K8S = REPO_ROOT / "deploy" / "k8s"
KAFKA_HOST_LISTENER_PORT = 29092
# Official image → the image built here (fleet/containers/catalog.py, `official`).
LOCAL_IMAGES = {
    "order-fleet": "order-fleet:local",
    "apache/kafka:4.1.1": "orderfleet.local/kafka:4.1.1",
    "postgres:17.6": "orderfleet.local/postgres:15",
    "openzipkin/zipkin:3.6.1": "orderfleet.local/zipkin:3.6.1",
}


def _image_entry(official: str, local: str) -> dict[str, str]:
    name = official.rsplit(":", 1)[0] if ":" in official.split("/")[-1] else official
    new_name, _, new_tag = local.rpartition(":")
    return {"name": name, "newName": new_name, "newTag": new_tag}


HOST_JAAS = "KAFKA_LISTENER_NAME_HOST_SCRAM___SHA___512_SASL_JAAS_CONFIG"
HOST_JAAS_VALUE = (
    "org.apache.kafka.common.security.scram.ScramLoginModule required"
    ' username="admin" password="$(SCRAM_ADMIN_PASSWORD)";'
)


def kafka_patches(host_port: int) -> list[dict[str, Any]]:
    listener = KAFKA_HOST_LISTENER_PORT
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "kafka"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "kafka",
                            "env": [
                                {
                                    "name": "KAFKA_LISTENERS",
                                    "value": f"INTERNAL://:9092,HOST://:{listener},"
                                    "CONTROLLER://:9093",
                                },
                                {
                                    "name": "KAFKA_ADVERTISED_LISTENERS",
                                    "value": f"INTERNAL://kafka:9092,HOST://127.0.0.1:{host_port}",
                                },
                                {
                                    "name": "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                                    "value": "INTERNAL:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT,"
                                    "CONTROLLER:SASL_PLAINTEXT",
                                },
                                # The host's listener takes SCRAM as the in-cluster one does.
                                {
                                    "name": "KAFKA_LISTENER_NAME_HOST_SASL_ENABLED_MECHANISMS",
                                    "value": "SCRAM-SHA-512",
                                },
                                {"name": HOST_JAAS, "value": HOST_JAAS_VALUE},
                            ],
                            "ports": [
                                {"name": "host", "containerPort": listener, "protocol": "TCP"}
                            ],
                        }
                    ]
                }
            }
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kafka"},
        "spec": {"ports": [{"name": "host", "port": listener, "targetPort": "host"}]},
    }
    return [{"patch": yaml.safe_dump(p, sort_keys=False)} for p in (statefulset, service)]


def overlay(base: str, images: dict[str, str], kafka_host_port: int) -> dict[str, Any]:
    """`base`: deploy/k8s relative to the overlay (kustomize refuses absolute roots)."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [base],
        "images": [_image_entry(o, local) for o, local in images.items()],
        "patches": kafka_patches(kafka_host_port),
    }


def write_overlay(node: Node, ports: L.HostPorts, images: dict[str, str] = LOCAL_IMAGES) -> Path:
    directory = node.layout.run / "overlays" / "order-fleet"
    directory.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(DEPLOY_K8S, directory)
    (directory / "kustomization.yaml").write_text(
        yaml.safe_dump(overlay(base, images, ports.kafka), sort_keys=False)
    )
    return directory


ISSUER_SIGNING_KEY_SECRET = "api-issuer-signing-key"


def secret_manifests(
    password: str,
    tokens: dict[str, tuple[str, str]],
    issuer_key: str,
    kafka_passwords: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The Secrets of README's Deploying section: statestore-postgres, one Secret per
    token (<app>-api-token, <app>-app-token, key `token`), as the injector reads them, the
    development issuer (its public keys for the API in api-issuer; its private key, for
    minting tokens with `fleet credentials --target k8s`, in a Secret no pod mounts), and
    one per Kafka principal (kafka-<principal>, key `password`)."""
    connection = (
        f"host=postgres port=5432 user=orderfleet password={password} dbname=orderfleet "
        "sslmode=disable connect_timeout=10"
    )

    def secret(name: str, data: dict[str, str]) -> dict[str, Any]:
        meta = {"name": name, "namespace": NAMESPACE}
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": data}

    manifests = [
        secret("statestore-postgres", {"password": password, "connectionString": connection})
    ]
    for app, (token, app_token) in tokens.items():
        manifests.append(secret(f"{app}-api-token", {"token": token}))
        manifests.append(secret(f"{app}-app-token", {"token": app_token}))
    public = api_auth_env(issuer_key)
    manifests.append(
        secret("api-issuer", {"jwks": public["API_AUTH_JWKS"], "issuer": public["API_AUTH_ISSUER"]})
    )
    manifests.append(secret(ISSUER_SIGNING_KEY_SECRET, {"pem": issuer_key}))
    for principal, kafka_password in (kafka_passwords or {}).items():
        manifests.append(secret(kafka_secret_name(principal), {"password": kafka_password}))
    return manifests


def issuer_signing_key(node: Node) -> str:
    """The cluster's development issuer key, for minting the API's tokens."""
    import base64

    found = node.kubectl_json("get", "secret", "-n", NAMESPACE, ISSUER_SIGNING_KEY_SECRET)
    return base64.b64decode(found["data"]["pem"]).decode()


def kafka_secret_name(principal: str) -> str:
    return f"kafka-{principal}"


def kafka_password(node: Node, principal: str) -> str:
    """A Kafka principal's password, from its Secret (what a user of the cluster reads)."""
    import base64

    found = node.kubectl_json("get", "secret", "-n", NAMESPACE, kafka_secret_name(principal))
    return base64.b64decode(found["data"]["password"]).decode()


def ensure_secrets(node: Node) -> None:
    """Creates each Secret that does not exist yet; an existing one keeps its value (the
    database was initialised with the password it holds, the pods read the tokens)."""
    node.kubectl("create", "namespace", NAMESPACE, check=False)
    tokens = {a.app_id: (secrets.token_hex(32), secrets.token_hex(32)) for a in topology.APPS}
    kafka = {principal: secrets.token_hex(24) for principal in KAFKA_PRINCIPALS}
    for manifest in secret_manifests(secrets.token_hex(24), tokens, new_signing_key(), kafka):
        name = manifest["metadata"]["name"]
        if node.kubectl("get", "secret", "-n", NAMESPACE, name, check=False).returncode != 0:
            node.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))


def _workloads_ready(node: Node) -> list[str]:
    """Deployments and StatefulSets of the fleet not yet fully ready."""
    waiting = []
    for kind in ("deployments", "statefulsets"):
        for item in node.kubectl_json("get", kind, "-n", NAMESPACE)["items"]:
            wanted = item["spec"].get("replicas", 1)
            ready = item.get("status", {}).get("readyReplicas", 0)
            if ready < wanted:
                waiting.append(f"{kind[:-1]}/{item['metadata']['name']} {ready}/{wanted}")
    return waiting


def deploy(node: Node, ports: L.HostPorts, timeout_s: float = 600.0) -> float:
    began = time.monotonic()
    ensure_secrets(node)
    directory = write_overlay(node, ports)
    node.kubectl("apply", "--server-side", "-k", str(directory), timeout=300)
    while waiting := _workloads_ready(node):
        if time.monotonic() - began > timeout_s:
            raise RuntimeError(
                f"the fleet is not ready after {timeout_s:.0f}s: {', '.join(waiting)}"
            )
        time.sleep(2.0)
    return time.monotonic() - began
