"""The cluster objects every node gets once it is Ready: CoreDNS and local storage.

CoreDNS runs as a pod behind the `kube-dns` Service at the address the kubelet hands
every pod (clusterDNS). It knows the cluster's names only: no `forward`, so nothing is
resolved off the machine. It listens on 1053 (the Service maps 53 to it), so it needs
no capability at all and runs as the image's unprivileged user.

Storage: a default StorageClass with no provisioner and static `local` PersistentVolumes
on folders of the node. Unlike hostPath, local volumes honour fsGroup (Kafka runs as
1000, PostgreSQL as 999, Dapr as 65532, and each must own its volume).
"""

from pathlib import Path
from typing import Any

import yaml

from fleet.cluster import layout as L

Manifest = dict[str, Any]

COREDNS_PORT = 1053
COREDNS_HEALTH_PORT = 8080
COREDNS_READY_PORT = 8181
STORAGE_CLASS = "local"
VOLUME_COUNT = 8
VOLUME_CAPACITY = "20Gi"

COREFILE = f"""\
.:{COREDNS_PORT} {{
    errors
    health :{COREDNS_HEALTH_PORT}
    ready :{COREDNS_READY_PORT}
    kubernetes {L.CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }}
    cache 30
    loadbalance
}}
"""

_DNS_LABELS = {"k8s-app": "kube-dns"}


def coredns(image: str) -> list[Manifest]:
    meta = {"namespace": "kube-system", "labels": dict(_DNS_LABELS)}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", **meta}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:coredns"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:coredns",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", **meta},
            "data": {"Corefile": COREFILE},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", **meta},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": dict(_DNS_LABELS)},
                "template": {
                    "metadata": {"labels": dict(_DNS_LABELS)},
                    "spec": _coredns_pod(image),
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", **meta},
            "spec": {
                "selector": dict(_DNS_LABELS),
                "clusterIP": L.DNS_SERVICE_IP,
                "ports": [
                    {"name": "dns", "port": 53, "targetPort": COREDNS_PORT, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "targetPort": COREDNS_PORT, "protocol": "TCP"},
                ],
            },
        },
    ]


def _coredns_pod(image: str) -> Manifest:
    return {
        "serviceAccountName": "coredns",
        "priorityClassName": "system-cluster-critical",
        # CoreDNS itself resolves nothing through cluster DNS.
        "dnsPolicy": "Default",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "coredns",
                "image": image,
                "imagePullPolicy": "Never",
                "args": ["-conf", "/etc/coredns/Corefile"],
                "ports": [
                    {"name": "dns", "containerPort": COREDNS_PORT, "protocol": "UDP"},
                    {"name": "dns-tcp", "containerPort": COREDNS_PORT, "protocol": "TCP"},
                ],
                "readinessProbe": {
                    "httpGet": {"path": "/ready", "port": COREDNS_READY_PORT},
                    "periodSeconds": 2,
                },
                "livenessProbe": {
                    "httpGet": {"path": "/health", "port": COREDNS_HEALTH_PORT},
                    "initialDelaySeconds": 10,
                    "periodSeconds": 10,
                },
                "resources": {
                    "requests": {"cpu": "50m", "memory": "32Mi"},
                    "limits": {"memory": "128Mi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
    }


def storage(volumes_dir: Path, count: int = VOLUME_COUNT) -> list[Manifest]:
    manifests: list[Manifest] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubernetes.io/no-provisioner",
            # Bind when the pod is scheduled, as local volumes must.
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Retain",
        }
    ]
    for index in range(count):
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"local-pv-{index}"},
                "spec": {
                    "capacity": {"storage": VOLUME_CAPACITY},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": STORAGE_CLASS,
                    "local": {"path": str(volumes_dir / f"pv-{index}")},
                    "nodeAffinity": {
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "kubernetes.io/hostname",
                                            "operator": "In",
                                            "values": [L.NODE_NAME],
                                        }
                                    ]
                                }
                            ]
                        }
                    },
                },
            }
        )
    return manifests


def volume_dirs(volumes_dir: Path, count: int = VOLUME_COUNT) -> list[Path]:
    return [volumes_dir / f"pv-{index}" for index in range(count)]


def dump(manifests: list[Manifest]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False)
