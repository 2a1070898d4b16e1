"""The composition root of the tooling: where the runtime pieces are, and the fleet's processes.

Describing the fleet never builds anything: `fleet status`, `fleet down` and the test
fixtures work from the pieces' paths. `up` and `run` provision first (`provision_for_run`);
test fixtures call `require_provisioned`, which fails at once with the command to run.
"""

from fleet import profile as saved_profile
from fleet import topology
from fleet.provision import dapr, maven
from fleet.provision.pieces import for_purpose, provision, require_pieces
from fleet.runner.specs import Artifacts, ProcessSpec, fleet_specs

RUNTIME_PIECES = ("kafka", "zipkin", "dapr", "postgresql")


def artifacts() -> Artifacts:
    return Artifacts(
        dapr=dapr.binaries(), kafka_libs=maven.kafka_libs(), zipkin_jar=maven.zipkin_jar()
    )


def specs(profile: topology.Profile | None = None) -> list[ProcessSpec]:
    """The fleet's processes in `profile`, by default the one `fleet up` last recorded."""
    return fleet_specs(artifacts(), profile or saved_profile.saved())


def provision_for_run() -> None:
    provision(for_purpose("run"))


def require_provisioned() -> None:
    require_pieces(RUNTIME_PIECES)
