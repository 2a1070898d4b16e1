"""The local Kubernetes node's pure parts: configs, command lines, sysctl and rule undo."""

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from fleet.cluster import addons, commands, configs, dns, host, kubeconfig, netfilter, pki, sysctl
from fleet.cluster import layout as L

LAYOUT = L.Layout(Path("/x/.fleet/k8s"))
BIN = commands.Binaries(
    etcd=Path("/b/etcd"),
    kube_apiserver=Path("/b/kube-apiserver"),
    kube_controller_manager=Path("/b/kube-controller-manager"),
    kube_scheduler=Path("/b/kube-scheduler"),
    kubelet=Path("/b/kubelet"),
    kube_proxy=Path("/b/kube-proxy"),
    kubectl=Path("/b/kubectl"),
    crictl=Path("/b/crictl"),
)


def test_containerd_runs_pods_on_this_machine() -> None:
    config = tomllib.loads(configs.containerd_toml(LAYOUT, "localhost/p:1", "/usr/lib/cni"))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True  # no CAP_SYS_RESOURCE here
    assert cri["sandbox_image"] == "localhost/p:1"
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert cri["cni"] == {
        "bin_dir": "/usr/lib/cni",
        "conf_dir": "/x/.fleet/k8s/etc/cni",
        "max_conf_num": 1,
    }
    assert config["grpc"]["address"] == "/x/.fleet/k8s/run/containerd.sock"
    # Nothing of containerd's outside the node's folder that can be moved in.
    assert config["root"].startswith("/x/.fleet/k8s/")
    assert config["state"].startswith("/x/.fleet/k8s/")
    assert config["plugins"]["io.containerd.internal.v1.opt"]["path"].startswith("/x/.fleet/k8s/")


def test_kubelet_config_fits_cgroup_v1_and_imported_images() -> None:
    config = yaml.safe_load(configs.kubelet_config(LAYOUT))
    assert config["failCgroupV1"] is False
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["clusterDNS"] == [L.DNS_SERVICE_IP]
    assert config["imageGCHighThresholdPercent"] == 100
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["readOnlyPort"] == 0
    assert config["address"] == L.NODE_IP and config["healthzBindAddress"] == "127.0.0.1"


def test_kube_proxy_keeps_its_hands_off_conntrack_and_eth0() -> None:
    config = yaml.safe_load(configs.kube_proxy_config(LAYOUT))
    assert config["mode"] == "nftables"
    assert config["nodePortAddresses"] == [f"{L.NODE_IP}/32"]
    assert config["conntrack"]["maxPerCore"] == 0


def test_pods_get_one_bridge_and_no_masquerade() -> None:
    conflist = json.loads(configs.cni_conflist(LAYOUT))
    [bridge] = conflist["plugins"]
    assert bridge["bridge"] == L.BRIDGE and bridge["ipMasq"] is False
    assert bridge["ipam"]["dataDir"] == "/x/.fleet/k8s/cni-ipam"


def test_no_daemon_listens_beyond_the_node_address_or_loopback() -> None:
    argv = [
        *commands.etcd(BIN, LAYOUT),
        *commands.kube_apiserver(BIN, LAYOUT),
        *commands.kube_controller_manager(BIN, LAYOUT),
        *commands.kube_scheduler(BIN, LAYOUT),
    ]
    binds = [a for a in argv if a.startswith(("--bind-address", "--listen-"))]
    assert binds and all(("127.0.0.1" in a) or (L.NODE_IP in a) for a in binds)
    assert f"--etcd-servers=https://127.0.0.1:{L.ETCD_CLIENT_PORT}" in argv
    assert "--authorization-mode=Node,RBAC" in argv


def test_node_ports_avoid_the_local_fleets_ranges() -> None:
    fleet_ranges = [(3500, 3599), (6000, 6099), (9190, 9240), (50000, 50300), (52379, 52380),
                    (58080, 58300), (59090, 59100)]  # fmt: skip
    fleet_ports = {8000, 9092, 9411, 19093, 55432}
    node_ports = [v for k, v in vars(L).items() if k.endswith("_PORT") and isinstance(v, int)]
    for port in node_ports:
        assert port not in fleet_ports
        assert not any(low <= port <= high for low, high in fleet_ranges), port


def test_host_ports_default_to_the_local_fleets_and_can_move() -> None:
    assert L.HostPorts.from_env({}) == L.HostPorts(8000, 9092, 9411)
    moved = L.HostPorts.from_env({"FLEET_K8S_API_PORT": "18000", "FLEET_K8S_KAFKA_PORT": "19092"})
    assert moved == L.HostPorts(18000, 19092, 9411)
    with pytest.raises(ValueError):
        L.HostPorts.from_env({"FLEET_K8S_ZIPKIN_PORT": "70000"})


def test_certificates_name_who_they_are() -> None:
    by_name = {c.name: c for c in pki.CERTS}
    assert pki.subject("system:node:n", ["system:nodes"]) == "/O=system:nodes/CN=system:node:n"
    apiserver = pki.extensions(by_name["apiserver"])
    assert f"IP:{L.KUBERNETES_SERVICE_IP}" in apiserver and "serverAuth" in apiserver
    assert "DNS:kubernetes.default.svc.cluster.local" in apiserver
    assert "extendedKeyUsage=clientAuth\n" in pki.extensions(by_name["kube-proxy"])
    assert by_name["apiserver-etcd-client"].ca == "etcd-ca"
    assert by_name["kubelet-client"].organizations == ("system:nodes",)


def test_kubeconfigs_point_at_files_of_the_pki() -> None:
    config = yaml.safe_load(kubeconfig.render(LAYOUT.pki, "kubelet", "kubelet-client"))
    assert config["clusters"][0]["cluster"]["server"] == f"https://{L.NODE_IP}:{L.APISERVER_PORT}"
    assert config["users"][0]["user"]["client-key"] == "/x/.fleet/k8s/pki/kubelet-client.key"


def test_sysctls_are_changed_only_where_they_differ_and_recorded_first() -> None:
    wanted = {"a": "1", "b": "1"}
    changes = sysctl.plan(wanted, {"a": "0", "b": "1"})
    assert changes == [sysctl.Change("a", "0", "1")]
    # A second `up` keeps the original value, not the one the first `up` wrote.
    again = sysctl.merge_record(changes, [sysctl.Change("a", "1", "1")])
    assert again == changes


def test_a_sysctl_goes_back_only_if_it_still_holds_the_nodes_value() -> None:
    recorded = [
        sysctl.Change("vm.overcommit_memory", "0", "1"),
        sysctl.Change("kernel.panic", "1", "10"),
        sysctl.Change("net.ipv4.ip_forward", "0", "1"),
    ]
    current = {"vm.overcommit_memory": "1", "kernel.panic": "5", "net.ipv4.ip_forward": "1"}
    outcome = sysctl.plan_restore(recorded, current, new_bridges=[])
    assert [c.key for c in outcome.put_back] == ["vm.overcommit_memory", "net.ipv4.ip_forward"]
    assert [(c.key, "changed" in why) for c, why in outcome.left] == [("kernel.panic", True)]


def test_forwarding_goes_back_with_a_warning_naming_bridges_that_appeared() -> None:
    recorded = [sysctl.Change("net.ipv4.ip_forward", "0", "1")]
    outcome = sysctl.plan_restore(recorded, {"net.ipv4.ip_forward": "1"}, new_bridges=["br-x"])
    assert outcome.put_back == recorded
    assert "br-x appeared" in outcome.warnings[0]
    quiet = sysctl.plan_restore(recorded, {"net.ipv4.ip_forward": "1"}, new_bridges=[])
    assert quiet.warnings == []


def test_the_nodes_networks_must_not_meet_the_hosts() -> None:
    ours = ["10.231.0.1/32", "10.232.0.0/16", "10.233.0.0/16"]
    addresses = [
        ("eth0", "192.0.2.2/24"),
        ("lo", "10.231.0.1/32"),  # the node's own
        ("docker0", "10.231.0.1/24"),  # someone else took the node's address
        (L.BRIDGE, "10.232.0.1/24"),  # the node's own bridge
    ]
    routes = [("default", "eth0"), ("10.233.5.0/24", "br-x"), ("10.233.0.0/16", "lo")]
    assert host.overlaps(ours, addresses, routes) == [
        "address 10.231.0.1/24 on docker0",
        "route 10.233.5.0/24 via br-x",
    ]


def test_sysctl_record_survives_between_processes(tmp_path: Path) -> None:
    record = sysctl.Record(tmp_path / "r.json")
    record.save([sysctl.Change("a", "0", "1")])
    assert sysctl.Record(tmp_path / "r.json").load() == [sysctl.Change("a", "0", "1")]
    record.clear()
    assert record.load() == []


_SAVED = """\
# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:FLEET-K8S-FWD - [0:0]
:KUBE-KUBELET-CANARY - [0:0]
-A FORWARD -m comment --comment "order-fleet-k8s" -j FLEET-K8S-FWD
-A FORWARD -j DOCKER-USER
-A FLEET-K8S-FWD -i fleetk8s0 -o fleetk8s0 -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:KUBE-IPTABLES-HINT - [0:0]
COMMIT
"""


def test_cleanup_removes_our_chains_and_jumps_and_leaves_dockers() -> None:
    commands_ = netfilter.cleanup_commands(_SAVED)
    assert commands_ == [
        ["-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "order-fleet-k8s",
         "-j", "FLEET-K8S-FWD"],
        ["-t", "filter", "-F", "FLEET-K8S-FWD"],
        ["-t", "filter", "-F", "KUBE-KUBELET-CANARY"],
        ["-t", "filter", "-X", "FLEET-K8S-FWD"],
        ["-t", "filter", "-X", "KUBE-KUBELET-CANARY"],
        ["-t", "mangle", "-F", "KUBE-IPTABLES-HINT"],
        ["-t", "mangle", "-X", "KUBE-IPTABLES-HINT"],
    ]  # fmt: skip
    assert not any("DOCKER" in " ".join(c) for c in commands_)


def test_a_table_is_empty_only_without_rules_chains_or_drop_policies() -> None:
    filter_, mangle = netfilter.parse_save(_SAVED)
    assert not netfilter.is_empty(filter_)
    assert not netfilter.is_empty(mangle)  # still holds the kubelet's hint chain
    assert netfilter.is_empty(netfilter.Table("nat", {"OUTPUT": "ACCEPT"}, []))


def test_mounts_under_the_node_go_children_first() -> None:
    info = "\n".join(
        [
            "27 1 254:0 / / rw - ext4 /dev/vda rw",
            "40 27 254:0 /k /n/kubelet rw shared:5 - ext4 /dev/vda rw",
            "41 40 0:50 / /n/kubelet/pods/a/volumes/x rw - tmpfs tmpfs rw",
            "42 27 0:51 / /n/containerd-state/t/rootfs rw - overlay overlay rw",
            "43 27 0:52 / /n2/other rw - tmpfs tmpfs rw",
            r"44 27 0:53 / /n/with\040space rw - tmpfs tmpfs rw",
        ]
    )
    order = host.unmount_order(host.parse_mountinfo(info), [Path("/n")])
    assert order.index("/n/kubelet/pods/a/volumes/x") < order.index("/n/kubelet")
    assert "/n2/other" not in order and "/" not in order
    assert "/n/with space" in order


def test_dns_query_and_answer_round_trip() -> None:
    message = bytearray(dns.query("kubernetes.default.svc.cluster.local", 7))
    message[2:4] = b"\x81\x80"  # a response, no error
    message[6:8] = b"\x00\x01"  # one answer
    message += (
        b"\xc0\x0c"
        + b"\x00\x01\x00\x01"
        + b"\x00\x00\x00\x1e"
        + b"\x00\x04"
        + bytes([10, 215, 0, 1])
    )
    assert dns.answers(bytes(message), 7) == (0, ["10.215.0.1"])
    with pytest.raises(ValueError):
        dns.answers(bytes(message), 8)


def test_addons_coredns_answers_on_the_kubelets_dns_address_unprivileged() -> None:
    manifests = addons.coredns("localhost/order-fleet/coredns:1.14.6")
    service = next(m for m in manifests if m["kind"] == "Service")
    assert service["spec"]["clusterIP"] == L.DNS_SERVICE_IP
    assert {p["targetPort"] for p in service["spec"]["ports"]} == {addons.COREDNS_PORT}
    pod = next(m for m in manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "forward" not in addons.COREFILE  # nothing resolves off the machine


def test_storage_is_a_default_class_of_local_volumes_pinned_to_the_node() -> None:
    manifests = addons.storage(Path("/v"), count=2)
    storage_class, *volumes = manifests
    assert storage_class["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    assert [v["spec"]["local"]["path"] for v in volumes] == ["/v/pv-0", "/v/pv-1"]
    term = volumes[0]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"][0]["values"] == [L.NODE_NAME]


def test_forwarders_target_the_fleets_services_on_the_chosen_host_ports() -> None:
    from fleet.cluster import expose, forward

    wanted = expose.targets(L.HostPorts(18000, 19092, 19411))
    assert wanted["forward-api"] == (18000, "orchestrator.order-fleet:8000")
    assert wanted["forward-kafka"] == (19092, "kafka.order-fleet:29092")
    target = forward.Target.parse("zipkin.order-fleet:9411")
    assert target.fqdn == "zipkin.order-fleet.svc.cluster.local" and target.port == 9411
    with pytest.raises(ValueError):
        forward.Target.parse("zipkin:9411")  # the namespace is required


def test_the_dapr_overlay_renames_images_and_the_sidecar_only() -> None:
    from fleet.cluster import dapr

    kustomization = dapr.overlay("../../deploy/dapr-system", "orderfleet.local", "1.18.2")
    assert kustomization["resources"] == ["../../deploy/dapr-system"]
    assert {"name": "ghcr.io/dapr/injector", "newName": "orderfleet.local/injector",
            "newTag": "1.18.2"} in kustomization["images"]  # fmt: skip
    [patch] = kustomization["patches"]
    env = yaml.safe_load(patch["patch"])["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "SIDECAR_IMAGE", "value": "orderfleet.local/daprd:1.18.2"}]


def test_the_fleet_overlay_maps_images_and_adds_kafkas_host_listener() -> None:
    from fleet.cluster import fleet_deploy

    kustomization = fleet_deploy.overlay("../k8s", fleet_deploy.LOCAL_IMAGES, kafka_host_port=19092)
    images = {i["name"]: f"{i['newName']}:{i['newTag']}" for i in kustomization["images"]}
    assert images["apache/kafka"] == "orderfleet.local/kafka:4.1.1"
    assert images["order-fleet"] == "order-fleet:local"
    statefulset = yaml.safe_load(kustomization["patches"][0]["patch"])
    env = {
        e["name"]: e["value"]
        for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    # The in-cluster listener is untouched; the host's advertises the host port.
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "INTERNAL://kafka:9092,HOST://127.0.0.1:19092"
    # ... and takes SASL/SCRAM like every listener (no anonymous way in from the host).
    assert set(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(",", ":").split(":")[1::2]) == {
        "SASL_PLAINTEXT"
    }
    assert env["KAFKA_LISTENER_NAME_HOST_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert "$(SCRAM_ADMIN_PASSWORD)" in env[fleet_deploy.HOST_JAAS]


def test_the_fleets_secrets_are_the_ones_the_readme_creates() -> None:
    from fleet.cluster import fleet_deploy
    from fleet.identity import new_signing_key

    key = new_signing_key()
    manifests = fleet_deploy.secret_manifests("pw", {"payment": ("t", "a")}, key)
    by_name = {m["metadata"]["name"]: m["stringData"] for m in manifests}
    # The API gets the issuer's public keys; the private key is a Secret of its own.
    assert "PRIVATE" not in by_name["api-issuer"]["jwks"]
    assert by_name["api-issuer-signing-key"] == {"pem": key}
    assert "password=pw" in by_name["statestore-postgres"]["connectionString"]
    assert by_name["payment-api-token"] == {"token": "t"}
    assert by_name["payment-app-token"] == {"token": "a"}
    with_kafka = fleet_deploy.secret_manifests("pw", {}, key, {"fleet": "f", "reader": "r"})
    kafka = {
        m["metadata"]["name"]: m["stringData"]
        for m in with_kafka
        if m["metadata"]["name"].startswith("kafka-")
    }
    assert kafka == {"kafka-fleet": {"password": "f"}, "kafka-reader": {"password": "r"}}
