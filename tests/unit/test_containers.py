"""The container tooling's pure parts: content keys, image mapping, argument building,
start-up verdicts. No engine and no process is started here."""

import json
import socket
from pathlib import Path

import pytest
import yaml

from fleet.containers import catalog, compose, engine, exclusion, mapping, packages, rootfs, watch
from fleet.containers.catalog import ImageSpec
from fleet.containers.hashing import Memo, inputs_hash, tree_files
from fleet.containers.inputs import dockerfile_copy_sources, image_keys
from fleet.paths import REPO_ROOT


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_key_depends_on_content_and_names_not_on_mtimes(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "one")
    before = inputs_hash({"a.txt": a})
    a.touch()
    assert inputs_hash({"a.txt": a}) == before
    assert inputs_hash({"b.txt": a}) != before
    a.write_text("two")
    assert inputs_hash({"a.txt": a}) != before


def test_a_key_changes_with_values_and_parents(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", "x")
    base = inputs_hash({"a": a}, {"version": "1"}, ["parent-1"])
    assert inputs_hash({"a": a}, {"version": "2"}, ["parent-1"]) != base
    assert inputs_hash({"a": a}, {"version": "1"}, ["parent-2"]) != base


def test_the_memo_is_reused_only_while_size_and_mtime_hold(tmp_path: Path) -> None:
    memo_file = tmp_path / "memo.json"
    big = _write(tmp_path / "big.bin", "first")
    memo = Memo(memo_file)
    first = memo.digest(big)
    memo.save()
    again = Memo(memo_file)
    assert again.digest(big) == first
    big.write_text("second, longer")
    assert again.digest(big) != first


def test_bytecode_and_caches_are_not_inputs(tmp_path: Path) -> None:
    _write(tmp_path / "pkg" / "mod.py", "x = 1\n")
    _write(tmp_path / "pkg" / "__pycache__" / "mod.cpython-311.pyc", "junk")
    _write(tmp_path / "pkg" / "stale.pyc", "junk")
    assert [p.name for p in tree_files(tmp_path)] == ["mod.py"]


def test_copy_sources_are_read_from_the_dockerfile_but_not_stage_copies() -> None:
    text = (
        "FROM x AS build\n"
        "COPY pyproject.toml requirements.lock ./\n"
        "RUN a \\\n  && b\n"
        "# COPY commented out\n"
        "COPY --chown=1:1 contracts contracts\n"
        "FROM x\n"
        "COPY --from=build /opt/venv /opt/venv\n"
    )
    assert dockerfile_copy_sources(text) == ["pyproject.toml", "requirements.lock", "contracts"]


def test_the_fleet_image_key_covers_what_its_dockerfile_copies() -> None:
    sources = dockerfile_copy_sources((REPO_ROOT / "Dockerfile").read_text())
    assert {"pyproject.toml", "requirements.lock", "orchestrator", "services"} <= set(sources)
    ignore = (REPO_ROOT / ".dockerignore").read_text().split()
    # The context the engine receives is what the key covers: an allow-list of the sources.
    assert "*" in ignore
    for source in sources:
        assert f"!{source}" in ignore, f"{source} is copied but excluded from the context"


def _spec(tmp_path: Path, name: str, parents: dict[str, str] | None = None) -> ImageSpec:
    context = tmp_path / name
    _write(context / "Dockerfile", "FROM scratch\nCOPY file /file\n")
    _write(context / "file", name)
    return ImageSpec(name, "1", context_root=context, parents=parents or {})


def test_a_changed_parent_rebuilds_its_children_and_nothing_else(tmp_path: Path) -> None:
    specs = [
        _spec(tmp_path, "base"),
        _spec(tmp_path, "child", {"BASE": "base"}),
        _spec(tmp_path, "other"),
    ]
    before = image_keys(specs)
    (tmp_path / "base" / "file").write_text("changed")
    after = image_keys(specs)
    assert after["base"] != before["base"]
    assert after["child"] != before["child"]
    assert after["other"] == before["other"]


def test_every_image_comes_after_the_images_it_is_built_from() -> None:
    seen: set[str] = set()
    for spec in catalog.images():
        assert set(spec.parents.values()) <= seen, spec.name
        seen.add(spec.name)


def test_every_image_is_tagged_with_the_version_it_carries() -> None:
    by_name = catalog.by_name()
    assert by_name["kafka"].tag == "orderfleet.local/kafka:4.1.1"
    assert by_name["daprd"].tag == "orderfleet.local/daprd:1.18.2"
    assert by_name["postgres"].tag == "orderfleet.local/postgres:15"
    assert catalog.FLEET_TAG in by_name["order-fleet"].tags


def _compose_services() -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = yaml.safe_load(
        (REPO_ROOT / "docker-compose.yml").read_text()
    )["services"]
    return loaded


def test_every_image_of_the_committed_compose_file_is_built_here() -> None:
    document = mapping.override(_compose_services(), catalog.images())
    replaced = document["services"]
    assert replaced["kafka"] == {"image": "orderfleet.local/kafka:4.1.1"}
    assert replaced["orchestrator-dapr"] == {"image": "orderfleet.local/daprd:1.18.2"}
    assert replaced["postgres"] == {"image": "orderfleet.local/postgres:15"}
    # The fleet's own image keeps its name: make images tags it so.
    assert "orchestrator" not in replaced


def test_an_image_built_nowhere_is_named_with_its_service() -> None:
    services = {"web": {"image": "nginx:1.27"}, "kafka": {"image": "apache/kafka:4.1.1"}}
    with pytest.raises(mapping.UnmappedImages, match=r"web \(nginx:1.27\)"):
        mapping.override(services, catalog.images())


def test_the_override_holds_only_image_lines(tmp_path: Path) -> None:
    out = mapping.write_override(REPO_ROOT / "docker-compose.yml", catalog.images(), tmp_path / "o")
    loaded = yaml.safe_load(out.read_text())
    assert {key for service in loaded["services"].values() for key in service} == {"image"}


def test_host_ports_default_to_the_local_fleets_and_can_be_chosen() -> None:
    assert compose.host_ports({}) == compose.HostPorts(8000, 9092, 9411)
    chosen = compose.host_ports(
        {"FLEET_API_PORT": "18000", "FLEET_KAFKA_PORT": "19092", "FLEET_ZIPKIN_PORT": "19411"}
    )
    assert chosen.env()["FLEET_KAFKA_PORT"] == "19092"
    with pytest.raises(compose.ComposeError, match="not a TCP port"):
        compose.host_ports({"FLEET_API_PORT": "http"})
    with pytest.raises(compose.ComposeError, match="must differ"):
        compose.host_ports({"FLEET_API_PORT": "9092"})


def test_compose_runs_the_committed_file_plus_the_mapping_only(tmp_path: Path) -> None:
    argv = compose.compose_argv(tmp_path / "override.yml", "up", "--detach")
    files = [a.split("=", 1)[1] for a in argv if a.startswith("--file=")]
    assert files == [str(REPO_ROOT / "docker-compose.yml"), str(tmp_path / "override.yml")]
    assert argv[-2:] == ["up", "--detach"]


def test_the_compose_file_follows_the_chosen_kafka_port_in_its_advertised_listener() -> None:
    kafka = _compose_services()["kafka"]
    assert "127.0.0.1:${FLEET_KAFKA_PORT:-9092}:29092" in kafka["ports"]  # type: ignore[operator]
    advertised = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]  # type: ignore[index]
    assert "HOST://127.0.0.1:${FLEET_KAFKA_PORT:-9092}" in advertised


def test_our_engine_shares_nothing_with_a_system_daemon(tmp_path: Path) -> None:
    where = engine.layout(tmp_path / "engine")
    argv = " ".join(engine.dockerd_argv(where))
    assert "/var/run/docker.sock" not in argv and "docker0" not in argv
    assert f"--data-root={tmp_path / 'engine'}" in argv
    assert "--iptables=false" in argv and "--ip-forward=false" in argv
    assert f"--containerd={where.containerd_socket}" in argv
    assert len(where.bridge) <= 15  # a Linux interface name
    config = engine.containerd_config(where)
    assert "/run/containerd/containerd.sock" not in config and "cri" in config


def test_two_caches_get_two_engines(tmp_path: Path) -> None:
    first, second = engine.layout(tmp_path / "a"), engine.layout(tmp_path / "b")
    assert first.run != second.run and first.bridge != second.bridge
    # Unix socket paths are limited to 108 bytes; containerd nests its own under these.
    assert len(str(first.containerd_socket)) < 50


def test_only_images_that_download_at_build_time_trust_the_hosts_extra_cas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cas = tmp_path / "cas"
    _write(cas / "proxy.crt", "-----BEGIN CERTIFICATE-----")
    monkeypatch.setattr(rootfs, "HOST_EXTRA_CAS", cas)
    python = rootfs.mmdebstrap_argv(catalog.PYTHON_ROOTFS, tmp_path / "o.tar", tmp_path / "p")
    jre = rootfs.mmdebstrap_argv(catalog.JRE_ROOTFS, tmp_path / "o.tar", tmp_path / "p")
    assert any(str(cas / "proxy.crt") in arg for arg in python)
    assert not any("proxy.crt" in arg for arg in jre)
    assert any(a.startswith("--include=openjdk-17-jre-headless") for a in jre)
    first = rootfs.rootfs_key(catalog.PYTHON_ROOTFS)
    _write(cas / "another.crt", "-----BEGIN CERTIFICATE-----")
    assert rootfs.rootfs_key(catalog.PYTHON_ROOTFS) != first


def _state(
    service: str,
    status: str = "running",
    health: str | None = None,
    exit_code: int = 0,
    restarts: int = 0,
    started_at: float = 100.0,
) -> watch.ContainerState:
    name = f"order-fleet-{service}-1"
    return watch.ContainerState(name, service, status, health, exit_code, restarts, started_at)


def test_start_up_is_done_when_every_service_is_healthy_or_finished() -> None:
    services = {"kafka", "placement", "scheduler-data"}
    states = [
        _state("kafka", health="healthy"),
        _state("placement"),
        _state("scheduler-data", "exited", exit_code=0),
    ]
    assert watch.judge(states, services, {"scheduler-data"}).ready


def test_start_up_waits_for_health_checks_still_starting() -> None:
    verdict = watch.judge([_state("kafka", health="starting")], {"kafka", "zipkin"}, set())
    assert not verdict.ready and not verdict.dead
    assert verdict.waiting == ["kafka", "zipkin"]


def test_a_container_that_died_or_restarted_fails_the_start_up() -> None:
    states = [
        _state("orchestrator", "exited", exit_code=1),
        _state("payment", restarts=1),
        _state("zipkin", health="unhealthy"),
        _state("scheduler-data", "exited", exit_code=2),
    ]
    services = {"orchestrator", "payment", "zipkin", "scheduler-data"}
    verdict = watch.judge(states, services, {"scheduler-data"})
    assert [c.service for c in verdict.dead] == ["orchestrator", "payment", "zipkin",
                                                 "scheduler-data"]  # fmt: skip
    assert not verdict.ready


def test_containers_of_an_earlier_run_are_waited_for_not_judged() -> None:
    stopped_before = _state("kafka", "exited", health="unhealthy", exit_code=137, started_at=5.0)
    verdict = watch.judge([stopped_before], {"kafka"}, set(), since=50.0)
    assert not verdict.dead and verdict.waiting == ["kafka"]


def test_running_again_judges_containers_already_up_by_their_health_only() -> None:
    restarted_last_week = _state("kafka", health="healthy", restarts=3, started_at=5.0)
    assert watch.judge([restarted_last_week], {"kafka"}, set(), since=50.0).ready
    turned_unhealthy = _state("kafka", health="unhealthy", started_at=5.0)
    assert watch.judge([turned_unhealthy], {"kafka"}, set(), since=50.0).dead


def test_docker_timestamps_are_read_to_the_nanosecond() -> None:
    assert watch._epoch("0001-01-01T00:00:00Z") == 0.0
    assert watch._epoch("2026-12-02T01:38:16.220291577Z") == pytest.approx(1796175496.2203)


def test_one_shot_services_are_those_others_wait_on_to_finish() -> None:
    assert watch.one_shot_services(_compose_services()) == {"scheduler-data", "kafka-setup"}


def test_the_compose_state_survives_a_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_HOME", str(tmp_path))
    assert exclusion.load_compose_state() is None
    assert exclusion.refusal_for_local_fleet() is None
    recorded = exclusion.ComposeState(tmp_path / "docker.sock", True, {"api": 18000})
    exclusion.save_compose_state(recorded)
    assert exclusion.load_compose_state() == recorded
    # An engine that does not answer runs no compose fleet: the local fleet may start.
    assert exclusion.refusal_for_local_fleet() is None
    exclusion.forget_compose_state()
    assert not exclusion.compose_state_file().exists()
    assert json.dumps(recorded.ports)


def test_only_mounts_of_our_engine_are_unmounted_deepest_first(tmp_path: Path) -> None:
    where = engine.layout(tmp_path / "engine")
    mountinfo = "\n".join(
        [
            f"47 27 0:4 net:[1] {where.run}/exec/netns/default rw - nsfs nsfs rw",
            f"48 27 0:5 / {where.data_root}/overlay2/abc/merged rw - overlay overlay rw",
            f"49 48 0:6 / {where.data_root}/overlay2/abc/merged/proc rw - proc proc rw",
            "50 27 0:7 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/x rw - x x rw",
            f"51 27 0:8 / {where.run}-other/netns rw - nsfs nsfs rw",
        ]
    )
    points = engine.mounts_under(mountinfo, [where.run, where.data_root])
    assert points == [
        f"{where.data_root}/overlay2/abc/merged/proc",
        f"{where.data_root}/overlay2/abc/merged",
        f"{where.run}/exec/netns/default",
    ]


def test_an_engine_that_cannot_start_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "missing_binaries", lambda: ["dockerd", "runc"])
    problems = " ".join(engine.preflight())
    assert "not installed: dockerd, runc" in problems
    assert "make provision" in problems


def test_a_rootfs_of_another_key_is_pruned_but_not_another_rootfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    key, old = "a" * 64, "b" * 64
    spec = rootfs.RootfsSpec("postgres", "essential", ("postgresql-15",))
    for home in (rootfs.rootfs_home(spec, key), rootfs.rootfs_home(spec, old)):
        home.mkdir(parents=True)
    other = tmp_path / "rootfs" / f"postgres-base-{'c' * 16}"
    other.mkdir()
    assert rootfs.prune_other_keys(spec, key) == [rootfs.rootfs_home(spec, old)]
    assert rootfs.rootfs_home(spec, key).exists() and other.exists()


def test_ports_the_project_publishes_already_are_taken_over_others_are_refused() -> None:
    # The project may have been started from another checkout of this machine: its
    # containers hold the ports through docker-proxy, and compose-up takes them over.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        chosen = compose.HostPorts(api=port, kafka=port, zipkin=port)
        compose._check_ports_free(chosen, ours={port})
        with pytest.raises(compose.ComposeError, match=f"{port} \\(api\\) is held by pid"):
            compose._check_ports_free(chosen, ours=set())
