"""The node's configuration files, rendered from the layout: pure functions, no I/O.

Each setting that differs from a component's default says why; most of them follow from
this machine (containers.md): cgroup v1 with cgroupfs, no CAP_SYS_RESOURCE, no registry.
"""

import json

import yaml

from fleet.cluster import layout as L
from fleet.cluster import pki

RUNC = "/usr/sbin/runc"


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def containerd_toml(layout: L.Layout, sandbox_image: str, cni_bin_dir: str) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
# Rendered by fleet/cluster/configs.py; `make k8s-up` rewrites it.
version = 2
root = {_toml_str(str(layout.containerd_root))}
state = {_toml_str(str(layout.containerd_state))}
# Plugins that would probe or create host state the node does not use.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = {_toml_str(str(layout.containerd_socket))}

[ttrpc]
  address = {_toml_str(str(layout.containerd_socket) + ".ttrpc")}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  # Default /opt/containerd: keep even that inside the node's folder.
  path = {_toml_str(str(layout.containerd_state / "opt"))}

[{cri}]
  # Nothing can be pulled here: the sandbox image is our own pause, imported at start.
  sandbox_image = {_toml_str(sandbox_image)}
  # No CAP_SYS_RESOURCE in this VM: without this, every pod sandbox fails with
  # "can't get final child's PID from pipe: EOF" (runc cannot lower oom_score_adj).
  restrict_oom_score_adj = true
  disable_tcp_service = true
  # exec/attach/port-forward streams: the kubelet proxies them, so loopback suffices.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = false

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = {_toml_str(RUNC)}
  # runc's state under the node's folder, not /run/containerd/runc.
  Root = {_toml_str(str(layout.runc_root))}
  # cgroup v1 here, and the kubelet uses cgroupfs: the two must agree.
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = {_toml_str(cni_bin_dir)}
  conf_dir = {_toml_str(str(layout.cni_conf_dir))}
  max_conf_num = 1
"""


def cni_conflist(layout: L.Layout) -> str:
    """One bridge for every pod; no masquerading, so pods have no way off the machine."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": L.CNI_NETWORK,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": L.BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    # A pod reaching itself through its own Service comes back on the same
                    # port of the bridge.
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": L.POD_SUBNET, "gateway": L.POD_GATEWAY}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(layout.cni_ipam_dir),
                    },
                }
            ],
        },
        indent=2,
    )


def kubelet_config(layout: L.Layout) -> str:
    p = layout.pki
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # Kubernetes 1.35+ refuses cgroup v1 unless told; 1.37 still runs on it.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "address": L.NODE_IP,
        "port": L.KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": L.KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(pki.crt(p, "kubelet-serving")),
        "tlsPrivateKeyFile": str(pki.key(p, "kubelet-serving")),
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki.crt(p, "ca"))},
        },
        "authorization": {"mode": "Webhook"},
        "clusterDomain": L.CLUSTER_DOMAIN,
        "clusterDNS": [L.DNS_SERVICE_IP],
        # No host resolv.conf for pods: cluster names only, nothing resolves off-machine.
        "resolvConf": "",
        "podLogsDir": str(layout.pod_logs),
        "staticPodPath": "",
        # Images are imported, never pulled: garbage-collecting one would lose it for good.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        # The disk is shared with builds; evict only when it is really short.
        "evictionHard": {
            "memory.available": "200Mi",
            "nodefs.available": "2%",
            "nodefs.inodesFree": "2%",
            "imagefs.available": "2%",
        },
        # The kernel tunables the kubelet wants are set (and later restored) by
        # fleet/cluster/sysctl.py before it starts, so it finds them right.
        "protectKernelDefaults": True,
        "failSwapOn": False,
        "maxPods": 110,
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 3,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(layout: L.Layout) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        # nftables: all of kube-proxy's rules in its own tables, which `k8s-down` drops
        # whole, instead of chains spread over iptables' shared tables.
        "mode": "nftables",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "hostnameOverride": L.NODE_NAME,
        "clusterCIDR": L.CLUSTER_CIDR,
        "detectLocalMode": "ClusterCIDR",
        "healthzBindAddress": f"127.0.0.1:{L.KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{L.KUBE_PROXY_METRICS_PORT}",
        # NodePorts only on the node's own (loopback) address, never on eth0.
        "nodePortAddresses": [f"{L.NODE_IP}/32"],
        # Zero: leave the conntrack table size and timeouts as the machine has them.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
            "udpTimeout": "0s",
            "udpStreamTimeout": "0s",
        },
    }
    return yaml.safe_dump(config, sort_keys=False)
