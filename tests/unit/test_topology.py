from pathlib import Path

import pytest
import yaml

from fleet import topology
from fleet.paths import components_dir
from fleet.provision.dapr import DaprBinaries
from fleet.runner.specs import Artifacts, ProcessSpec, fleet_specs


def _specs() -> list[ProcessSpec]:
    fake = Path("/nonexistent")
    return fleet_specs(Artifacts(DaprBinaries(fake, fake, fake, fake), fake, fake))


def _components(store: str = "sqlite") -> dict[str, dict]:  # type: ignore[type-arg]
    docs = {}
    for path in [*components_dir().glob("*.yaml"), *(components_dir() / store).glob("*.yaml")]:
        doc = yaml.safe_load(path.read_text())
        docs[doc["metadata"]["name"]] = doc
    return docs


def test_no_two_processes_share_a_port() -> None:
    ports = [port for spec in _specs() for port in spec.ports]
    assert len(ports) == len(set(ports))


def test_every_process_of_the_fleet_has_its_ports_reserved_against_ephemeral_use() -> None:
    assert [spec.name for spec in _specs() if not spec.fixed_ports] == []


def test_the_fixed_public_ports_are_the_documented_ones() -> None:
    by_name = {spec.name: spec for spec in _specs()}
    assert topology.KAFKA_PORT in by_name["kafka"].ports
    assert by_name["zipkin"].ports == (9411,)
    assert 8000 in by_name["orchestrator"].ports


def test_every_app_has_a_sidecar_started_in_the_same_stage() -> None:
    by_name = {spec.name: spec for spec in _specs()}
    for app in topology.APPS:
        assert by_name[app.app_id].stage == by_name[app.sidecar_name].stage
        flags = dict(arg.split("=", 1) for arg in by_name[app.sidecar_name].argv[1:])
        assert flags["--app-id"] == app.app_id
        assert flags["--app-port"] == str(app.app_port)
        assert flags["--enable-mtls"] == "true"


@pytest.mark.parametrize(
    ("store", "kind"), [("sqlite", "state.sqlite"), ("postgres", "state.postgresql")]
)
def test_each_app_has_its_own_state_store_scoped_to_it_alone(store: str, kind: str) -> None:
    components = _components(store)
    for app in topology.APPS:
        component = components[app.state_store]
        assert component["spec"]["type"] == kind
        assert component["scopes"] == [app.app_id]


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_only_the_orchestrator_store_holds_actor_state(store: str) -> None:
    actor_stores = [
        name
        for name, doc in _components(store).items()
        if any(m["name"] == "actorStateStore" for m in doc["spec"].get("metadata", []))
    ]
    assert actor_stores == [topology.ORCHESTRATOR.state_store]


def test_pubsub_component_is_kafka_on_the_fixed_broker() -> None:
    pubsub = _components()[topology.PUBSUB_NAME]
    metadata = {m["name"]: m.get("value") for m in pubsub["spec"]["metadata"]}
    assert pubsub["spec"]["type"] == "pubsub.kafka"
    assert metadata["brokers"] == topology.KAFKA_BOOTSTRAP


def test_pubsub_logs_in_as_fleet_with_scram_and_its_password_from_the_secret_store() -> None:
    pubsub = _components()[topology.PUBSUB_NAME]
    metadata = {m["name"]: m for m in pubsub["spec"]["metadata"]}
    assert metadata["authType"]["value"] == "password"
    assert metadata["saslUsername"]["value"] == "fleet"
    assert metadata["saslMechanism"]["value"] == "SHA-512"
    assert metadata["disableTls"]["value"] == "true"  # SASL_PLAINTEXT: no TLS on loopback
    assert "value" not in metadata["saslPassword"]
    assert metadata["saslPassword"]["secretKeyRef"]["name"] == "kafka-fleet-password"
    assert pubsub["auth"]["secretStore"] == "fleet-secrets"
    assert set(pubsub["scopes"]) == {app.app_id for app in topology.APPS}


def test_configuration_traces_everything_to_zipkin_without_multicast() -> None:
    config = yaml.safe_load((components_dir() / "config.yaml").read_text())
    assert config["metadata"]["name"] == topology.CONFIG_NAME
    assert config["spec"]["tracing"]["samplingRate"] == "1"
    assert config["spec"]["tracing"]["zipkin"]["endpointAddress"].startswith(topology.ZIPKIN_URL)
    assert config["spec"]["nameResolution"]["component"] == "sqlite"


def test_every_replica_has_its_own_ports_and_names_and_the_same_app_id() -> None:
    scaled = fleet_specs(
        Artifacts(DaprBinaries(*(Path("/x"),) * 4), Path("/x"), Path("/x")),
        topology.Profile(replicas=3),
    )
    ports = [port for spec in scaled for port in spec.ports]
    assert len(ports) == len(set(ports)), "no two replicas share a port"
    names = {spec.name for spec in scaled}
    assert {
        "orchestrator",
        "orchestrator-1",
        "orchestrator-2",
        "payment-2-dapr",
        "postgres",
    } <= names
    second = topology.ORCHESTRATOR.instance(1)
    assert (second.api_port, second.dapr_http_port, second.app_id) == (8010, 3511, "orchestrator")


def test_one_replica_runs_on_sqlite_and_more_share_postgres() -> None:
    assert topology.Profile().store == "sqlite"
    assert topology.Profile(replicas=2).store == "postgres"
    names = {spec.name for spec in _specs()}
    assert "postgres" not in names and "orchestrator-1" not in names
    with pytest.raises(ValueError):
        topology.Profile(replicas=topology.MAX_REPLICAS + 1)
