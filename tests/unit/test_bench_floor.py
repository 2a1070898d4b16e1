"""The floor: as many activities as the saga, on a sidecar copied from the orchestrator's."""

from pathlib import Path

import yaml

from bench import floor
from fleet.paths import components_dir
from fleet.runner import health
from fleet.runner.specs import ProcessSpec


def test_the_saga_counts_eleven_activities_with_two_monitor_looks() -> None:
    # quote, reserve, publish (accepted, reserved), charge, ship, publish (charged,
    # shipment_created, order_confirmed), commit = 7; 2 looks; publish (shipped) = 1;
    # publish (delivered, completed) = 1.
    assert floor.saga_activity_count(2) == 11
    assert floor.saga_activity_count(3) == 12
    assert floor.SYNC_MARK == 6


def test_flags_split_in_every_form_and_join_back() -> None:
    argv = ("--app-id=orchestrator", "--log-level", "info", "--enable-mtls", "--x=a=b")
    flags = floor.split_flags(argv)
    assert flags == {
        "--app-id": "orchestrator",
        "--log-level": "info",
        "--enable-mtls": None,
        "--x": "a=b",
    }
    assert floor.join_flags(flags) == [
        "--app-id=orchestrator",
        "--log-level=info",
        "--enable-mtls",
        "--x=a=b",
    ]


def test_the_floor_sidecar_is_the_orchestrators_re_aimed(tmp_path: Path) -> None:
    template = ProcessSpec(
        name="orchestrator-dapr",
        kind="sidecar",
        stage=2,
        argv=(
            "/cache/daprd",
            "--app-id=orchestrator",
            "--app-port=6001",
            "--app-protocol=http",
            "--app-channel-address=127.0.0.1",
            "--dapr-http-port=3501",
            "--dapr-grpc-port=50101",
            "--dapr-internal-grpc-port=50201",
            "--metrics-port=9191",
            "--resources-path=/repo/components",
            "--config=/repo/components/config.yaml",
            "--enable-mtls=true",
        ),
        ports=(),
        health=health.tcp(1),
    )
    ports = floor.FloorPorts(http=41001, grpc=41002, internal_grpc=41003, metrics=41004)
    argv = floor.sidecar_argv(template, ports, tmp_path)
    assert argv[0] == "/cache/daprd"
    flags = floor.split_flags(tuple(argv[1:]))
    assert flags["--app-id"] == floor.APP_ID
    assert not {"--app-port", "--app-protocol", "--app-channel-address"} & flags.keys()
    assert flags["--dapr-grpc-port"] == "41002" and flags["--metrics-port"] == "41004"
    assert flags["--resources-path"] == str(tmp_path)
    assert flags["--config"] == str(tmp_path / "config.yaml")
    assert flags["--enable-mtls"] == "true"  # whatever else the fleet's sidecars run with


def test_the_floor_store_is_an_actor_store_scoped_to_the_floor_alone() -> None:
    component = yaml.safe_load(floor.store_component("state/floor.db"))
    assert component["spec"]["type"] == "state.sqlite"
    metadata = {m["name"]: m["value"] for m in component["spec"]["metadata"]}
    assert metadata["actorStateStore"] == "true"
    fleet = yaml.safe_load(
        (components_dir() / "sqlite" / "statestore-orchestrator.yaml").read_text()
    )
    fleet_metadata = {m["name"]: m["value"] for m in fleet["spec"]["metadata"]}
    assert metadata["connectionString"].split("?")[0] == "state/floor.db"
    # The same store settings as the fleet's actor store, whatever they are.
    assert {k: v for k, v in metadata.items() if k != "connectionString"} == {
        k: v for k, v in fleet_metadata.items() if k != "connectionString"
    }
    assert (
        metadata["connectionString"].partition("?")[2]
        == (fleet_metadata["connectionString"].partition("?")[2])
    )
    assert component["scopes"] == [floor.APP_ID]


def test_free_ports_are_distinct() -> None:
    ports = floor.free_ports(4)
    assert len(set(ports)) == 4
