from pathlib import Path

import yaml

from fleet import topology
from fleet.paths import components_dir
from fleet.provision.dapr import DaprBinaries
from fleet.runner.specs import Artifacts, ProcessSpec, fleet_specs


def _specs() -> list[ProcessSpec]:
    fake = Path("/nonexistent")
    return fleet_specs(Artifacts(DaprBinaries(fake, fake, fake, fake), fake, fake))


def _components() -> dict[str, dict]:  # type: ignore[type-arg]
    docs = {}
    for path in components_dir().glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        docs[doc["metadata"]["name"]] = doc
    return docs


def test_no_two_processes_share_a_port() -> None:
    ports = [port for spec in _specs() for port in spec.ports]
    assert len(ports) == len(set(ports))


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


def test_each_app_has_its_own_state_store_scoped_to_it_alone() -> None:
    components = _components()
    for app in topology.APPS:
        store = components[app.state_store]
        assert store["spec"]["type"] == "state.sqlite"
        assert store["scopes"] == [app.app_id]


def test_only_the_orchestrator_store_holds_actor_state() -> None:
    actor_stores = [
        name
        for name, doc in _components().items()
        if any(m["name"] == "actorStateStore" for m in doc["spec"].get("metadata", []))
    ]
    assert actor_stores == [topology.ORCHESTRATOR.state_store]


def test_pubsub_component_is_kafka_on_the_fixed_broker() -> None:
    pubsub = _components()[topology.PUBSUB_NAME]
    metadata = {m["name"]: m["value"] for m in pubsub["spec"]["metadata"]}
    assert pubsub["spec"]["type"] == "pubsub.kafka"
    assert metadata["brokers"] == topology.KAFKA_BOOTSTRAP
    assert set(pubsub["scopes"]) == {app.app_id for app in topology.APPS}


def test_configuration_traces_everything_to_zipkin_without_multicast() -> None:
    config = yaml.safe_load((components_dir() / "config.yaml").read_text())
    assert config["metadata"]["name"] == topology.CONFIG_NAME
    assert config["spec"]["tracing"]["samplingRate"] == "1"
    assert config["spec"]["tracing"]["zipkin"]["endpointAddress"].startswith(topology.ZIPKIN_URL)
    assert config["spec"]["nameResolution"]["component"] == "sqlite"
