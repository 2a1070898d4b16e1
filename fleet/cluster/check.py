"""`python -m fleet.cluster check`: proves what the fleet relies on, from inside pods.

- the node is Ready;
- a pod resolves a Service name through CoreDNS;
- a pod reaches a ClusterIP Service (by name and by address) through kube-proxy;
- the API server calls a webhook Service: the Dapr sidecar injector adds daprd to a pod
  (when the Dapr control plane is installed), and every dapr-system pod is Ready.

Every check pod runs locked down like the fleet's own: non-root, read-only root, no
capabilities, RuntimeDefault seccomp.
"""

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from fleet import console
from fleet.cluster import images, storage
from fleet.cluster import layout as L
from fleet.cluster.node import Node
from fleet.cluster.up import node_ready

NAMESPACE = "node-check"
TIMEOUT_S = 120.0

# (busybox 1.35's static wget crashes on -T: the timeout applet bounds it instead.)
LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def _pod(name: str, script: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels or {}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            # busybox as pid 1 ignores SIGTERM: do not wait 30 s for it on cleanup.
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "main",
                    "image": images.BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "args": ["sh", "-c", script],
                    "securityContext": LOCKED_DOWN,
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def _echo_service() -> list[dict[str, Any]]:
    server = _pod(
        "echo",
        "mkdir -p /tmp/www && echo node-check-ok > /tmp/www/index.html && "
        "exec busybox httpd -f -p 8080 -h /tmp/www",
        labels={"app": "echo"},
    )
    server["spec"]["restartPolicy"] = "Always"
    server["spec"]["containers"][0]["readinessProbe"] = {
        "tcpSocket": {"port": 8080},
        "periodSeconds": 1,
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "echo", "namespace": NAMESPACE},
        "spec": {"selector": {"app": "echo"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return [server, service]


def _wait(what: str, condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


def _phase(node: Node, pod: str) -> str:
    result = node.kubectl("get", "pod", "-n", NAMESPACE, pod, "-o", "json", check=False)
    return (
        str(json.loads(result.stdout)["status"].get("phase", "")) if result.returncode == 0 else ""
    )


def _run_pod(node: Node, name: str, script: str) -> tuple[bool, str]:
    node.kubectl("apply", "-f", "-", input=json.dumps(_pod(name, script)))
    _wait(f"pod {name} to finish", lambda: _phase(node, name) in ("Succeeded", "Failed"))
    logs = node.kubectl("logs", "-n", NAMESPACE, name, check=False).stdout.strip()
    return _phase(node, name) == "Succeeded", logs


def _ready(node: Node, namespace: str, selector: str | None = None) -> tuple[int, int]:
    args = ["get", "pods", "-n", namespace] + (["-l", selector] if selector else [])
    pods = node.kubectl_json(*args)["items"]
    ready = [
        p
        for p in pods
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p["status"].get("conditions", [])
        )
    ]
    return len(ready), len(pods)


def _volume_check(node: Node) -> tuple[bool, str]:
    """A non-root pod owns its claim's volume through fsGroup (hostPath would not)."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": NAMESPACE},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    pod = _pod("volume", "echo written > /data/probe && ls -ln /data/probe")
    pod["spec"]["securityContext"].update({"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000})
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": "/data"})
    pod["spec"]["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": "data"}})
    node.kubectl("apply", "-f", "-", input=json.dumps(claim))
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    _wait("pod volume to finish", lambda: _phase(node, "volume") in ("Succeeded", "Failed"))
    out = node.kubectl("logs", "-n", NAMESPACE, "volume", check=False).stdout.strip()
    return _phase(node, "volume") == "Succeeded" and " 1000 " in out, out


def _dapr_injection(node: Node) -> tuple[bool | None, str]:
    if (
        node.kubectl(
            "get", "deployment", "-n", "dapr-system", "dapr-sidecar-injector", check=False
        ).returncode
        != 0
    ):
        return None, "no Dapr control plane installed (deploy/dapr-system)"
    name = f"inject-{secrets.token_hex(3)}"
    pod = _pod(name, "sleep 3600")
    pod["metadata"]["annotations"] = {"dapr.io/enabled": "true", "dapr.io/app-id": name}
    # A dry run is enough: the API server calls the webhook for it and returns the result.
    result = node.kubectl(
        "create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(pod), check=False
    )
    if result.returncode != 0:
        return False, result.stderr.strip()
    containers = [c["name"] for c in json.loads(result.stdout)["spec"]["containers"]]
    return "daprd" in containers, f"containers after the webhook: {containers}"


def check() -> int:
    node = Node.default()
    results: list[tuple[str, bool | None, str]] = []
    results.append(("node Ready", node_ready(node), L.NODE_NAME))
    # A namespace left by an earlier check may still be terminating.
    _wait(
        f"namespace {NAMESPACE} of an earlier check to go",
        lambda: node.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0,
    )
    node.kubectl("create", "namespace", NAMESPACE)
    try:
        node.kubectl(
            "apply", "-f", "-", input="\n---\n".join(json.dumps(m) for m in _echo_service())
        )
        _wait("the echo pod to be Ready", lambda: _ready(node, NAMESPACE, "app=echo") == (1, 1))
        cluster_ip = node.kubectl_json("get", "service", "-n", NAMESPACE, "echo")["spec"][
            "clusterIP"
        ]
        ok, out = _run_pod(
            node, "dns", f"nslookup echo.{NAMESPACE}.svc.{L.CLUSTER_DOMAIN} {L.DNS_SERVICE_IP}"
        )
        results.append(
            (
                "a pod resolves a Service name (CoreDNS)",
                ok and cluster_ip in out,
                out.replace("\n", " ")[-160:],
            )
        )
        ok, out = _run_pod(node, "by-name", "timeout 10 wget -q -O - http://echo/")
        results.append(("a pod reaches a Service by name", ok and out == "node-check-ok", out))
        ok, out = _run_pod(node, "by-ip", f"timeout 10 wget -q -O - http://{cluster_ip}/")
        results.append(
            ("a pod reaches a ClusterIP", ok and out == "node-check-ok", f"{cluster_ip}: {out}")
        )
        ok, out = _volume_check(node)
        results.append(("a non-root pod writes to a local volume (fsGroup)", ok, out))
        injected, detail = _dapr_injection(node)
        results.append(("the API server calls a webhook Service (Dapr injector)", injected, detail))
        if injected is not None:
            ready, total = _ready(node, "dapr-system")
            results.append(
                (
                    "the Dapr control plane is Ready",
                    total > 0 and ready == total,
                    f"{ready}/{total} pods",
                )
            )
    finally:
        node.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
    _wait(
        f"namespace {NAMESPACE} to go",
        lambda: node.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0,
    )
    storage.recycle(node)  # the check's volume, for the next user
    rows = [
        [name, {True: "ok", False: "FAILED", None: "skipped"}[ok], detail]
        for name, ok, detail in results
    ]
    print(console.table(["CHECK", "RESULT", "DETAIL"], rows))
    return 0 if all(ok is not False for _, ok, _ in results) else 1
