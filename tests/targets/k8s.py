"""The fleet on the local Kubernetes node (`make k8s-up`): deploy/k8s as users apply it.

A crash is a SIGKILL of the container's main process from the host, found through the
node's CRI (crictl inspect), as an out-of-memory kill would be; the kubelet restarts it.
Each orchestrator replica's API is asked at its pod's address, which the host reaches
on the node's bridge, so "every replica answers the same" asks every pod, not the
Service that spreads requests over them.
"""

import json
import os
import signal
import subprocess
import sys
from typing import Any

from fleet import kafka_auth, topology
from fleet.cluster.fleet_deploy import NAMESPACE, issuer_signing_key, kafka_password
from fleet.cluster.node import Node
from fleet.provision.pieces import for_purpose, require_pieces
from tests.e2e.fleet_client import wait_for
from tests.targets.base import Target

COME_BACK_S = 300.0
API_PORT = 8000  # the orchestrator container's (deploy/k8s/orchestrator.yaml)
SIDECAR = "daprd"  # the container the injector adds
STEPS = ("up", "dapr", "fleet")  # make k8s-up


class K8sTarget(Target):
    name = "k8s"
    credentials_target = "k8s"
    replicas = 2  # deploy/k8s runs every app at replicas: 2

    def __init__(self) -> None:
        self._node = Node.default()
        self._started = False
        self._kafka_passwords: dict[str, str] = {}

    # ---- lifecycle

    def up(self) -> None:
        require_pieces(p.name for p in for_purpose("k8s"))  # tests never build them
        for step in STEPS:
            if subprocess.run([sys.executable, "-m", "fleet.cluster", step]).returncode != 0:
                raise RuntimeError(f"`python -m fleet.cluster {step}` failed (output above)")
        self._started = True

    def down(self) -> None:
        if self._started:
            subprocess.run([sys.executable, "-m", "fleet.cluster", "down"], check=False)

    def issuer_key(self) -> str:
        return issuer_signing_key(self._node)

    def kafka_options(self, principal: str) -> dict[str, Any]:
        # Through the host listener the node forwards to 127.0.0.1:9092 (fleet/cluster/forward.py).
        if principal not in self._kafka_passwords:
            self._kafka_passwords[principal] = kafka_password(self._node, principal)
        password = self._kafka_passwords[principal]
        return kafka_auth.options(topology.KAFKA_BOOTSTRAP, principal, password)

    # ---- pods

    def pods(self, app_id: str) -> list[dict[str, Any]]:
        """The app's running pods, oldest first (replica 0 is the first)."""
        listed = self._node.kubectl_json(
            "get", "pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/name={app_id}"
        )
        alive = [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]
        return sorted(
            alive, key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"])
        )

    @property
    def api_urls(self) -> list[str]:
        return [f"http://{p['status']['podIP']}:{API_PORT}" for p in self.pods("orchestrator")]

    def ready(self, pod: dict[str, Any]) -> bool:
        conditions = pod.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def all_ready(self, app_id: str) -> bool:
        pods = self.pods(app_id)
        return len(pods) == self.replicas and all(self.ready(p) for p in pods)

    def _container(self, pod: dict[str, Any], name: str) -> dict[str, Any]:
        [status] = [c for c in pod["status"]["containerStatuses"] if c["name"] == name]
        return dict(status)

    def crash(self, app_id: str, *, sidecar: bool = False, replica: int = 0) -> None:
        pod = self.pods(app_id)[replica]
        name = SIDECAR if sidecar else app_id
        before = self._container(pod, name)
        container_id = before["containerID"].split("://", 1)[1]
        inspected = json.loads(self._node.crictl("inspect", container_id, check=True).stdout)
        os.kill(int(inspected["info"]["pid"]), signal.SIGKILL)
        pod_name = pod["metadata"]["name"]

        def back() -> bool:  # the kubelet restarts it; this only watches
            current = self._node.kubectl_json("get", "pod", "-n", NAMESPACE, pod_name)
            status = self._container(current, name)
            return bool(status["restartCount"] > before["restartCount"] and self.ready(current))

        wait_for(back, timeout=COME_BACK_S, what=f"{pod_name}/{name} to come back by itself")

    def delete_pod(self, app_id: str, replica: int = 0) -> None:
        """Deletes a pod (its Deployment makes a new one); returns once all are ready."""
        pod_name = self.pods(app_id)[replica]["metadata"]["name"]
        self._node.kubectl("delete", "pod", "-n", NAMESPACE, pod_name, "--wait=false")
        wait_for(
            lambda: (
                pod_name not in {p["metadata"]["name"] for p in self.pods(app_id)}
                and self.all_ready(app_id)
            ),
            timeout=COME_BACK_S,
            what=f"{app_id} to have {self.replicas} ready pods again",
        )

    def rollout_restart(self, app_id: str) -> None:
        """`kubectl rollout restart`, and its rollout to the end (surge, PDB and all)."""
        self._node.kubectl("rollout", "restart", "-n", NAMESPACE, f"deployment/{app_id}")
        self._node.kubectl(
            "rollout", "status", "-n", NAMESPACE, f"deployment/{app_id}", "--timeout=600s",
            timeout=620,
        )  # fmt: skip

    def sidecar_status(self, app_id: str, *, with_token: bool) -> int:
        # From inside the app's container: the injector gives it the sidecar's port and
        # token (DAPR_HTTP_PORT, DAPR_API_TOKEN) as environment.
        probe = (
            "import os, urllib.request as u, urllib.error as e\n"
            "r = u.Request(f\"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}"
            '/v1.0/metadata")\n'
            f"r.add_header('dapr-api-token', os.environ['DAPR_API_TOKEN']) if {with_token!r} "
            "else None\n"
            "try:\n    print(u.urlopen(r, timeout=10).status)\n"
            "except e.HTTPError as x:\n    print(x.code)\n"
        )
        pod_name = self.pods(app_id)[0]["metadata"]["name"]
        result = self._node.kubectl(
            "exec", "-n", NAMESPACE, pod_name, "-c", app_id, "--", "python", "-c", probe
        )
        return int(result.stdout.strip())
