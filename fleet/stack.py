"""The composition root of the tooling: provision the runtime, then describe the fleet."""

from fleet.provision.dapr import ensure_dapr
from fleet.provision.maven import ensure_kafka, ensure_zipkin
from fleet.runner.specs import Artifacts, ProcessSpec, fleet_specs


def provision() -> Artifacts:
    """Builds or downloads whatever is missing from the cache (a no-op when warm)."""
    kafka_libs = ensure_kafka()
    zipkin_jar = ensure_zipkin()
    dapr = ensure_dapr()
    return Artifacts(dapr=dapr, kafka_libs=kafka_libs, zipkin_jar=zipkin_jar)


def specs() -> list[ProcessSpec]:
    return fleet_specs(provision())
