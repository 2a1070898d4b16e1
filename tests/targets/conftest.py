"""The deployment target of this session: FLEET_TARGET (local by default)."""

import os
from collections.abc import Iterator

import pytest

from fleet.provision.pieces import MissingPiece
from tests.e2e import fleet_client
from tests.e2e.fleet_client import use_kafka_options
from tests.targets.base import Target
from tests.targets.compose import ComposeTarget
from tests.targets.k8s import K8sTarget
from tests.targets.local import LocalTarget


def _target(name: str) -> Target:
    if name == "local":
        return LocalTarget()
    if name == "scaled":
        return LocalTarget(replicas=2)
    if name == "compose":
        return ComposeTarget()
    if name == "k8s":
        return K8sTarget()
    raise pytest.UsageError(f"FLEET_TARGET={name!r}: the targets are local, scaled, compose, k8s")


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    chosen = _target(os.environ.get("FLEET_TARGET", "local"))
    use_kafka_options(chosen.kafka_options)  # every Kafka client of the suite logs in there
    try:
        chosen.up()
    except MissingPiece as missing:
        pytest.fail(str(missing), pytrace=False)
    fleet_client.use_issuer(chosen.issuer_key)
    yield chosen
    chosen.down()
