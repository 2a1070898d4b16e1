"""The one definition of the fleet: its infrastructure, its apps, their ports and resources.

The runner, the test fixtures, `fleet status` and the deploy checks all read this module;
nothing else hard-codes a port or an app id.
"""

from dataclasses import dataclass, replace
from typing import Final, Literal

LOOPBACK: Final = "127.0.0.1"

KAFKA_PORT: Final = 9092
KAFKA_CONTROLLER_PORT: Final = 19093
ZIPKIN_PORT: Final = 9411
API_PORT: Final = 8000

SENTRY_PORT: Final = 50003
SENTRY_HEALTHZ_PORT: Final = 58082
SENTRY_METRICS_PORT: Final = 59092
# Sentry's certificates name the control plane in this trust domain, the apps in "public".
CONTROL_PLANE_TRUST_DOMAIN: Final = "localhost"

PLACEMENT_PORT: Final = 50005
PLACEMENT_RAFT_PORT: Final = 58201
PLACEMENT_HEALTHZ_PORT: Final = 58080
PLACEMENT_METRICS_PORT: Final = 59090

SCHEDULER_PORT: Final = 50006
SCHEDULER_HEALTHZ_PORT: Final = 58081
SCHEDULER_METRICS_PORT: Final = 59091
SCHEDULER_ETCD_CLIENT_PORT: Final = 52379
SCHEDULER_ETCD_PEER_PORT: Final = 52380
# The scheduler's etcd keeps this many revisions of history before compacting. Its default,
# a million, is ~24k workflows' worth and ~1.2 GB resident once reached; the scheduler's
# watches only need the last moments (one that falls further behind rebuilds its queue).
SCHEDULER_ETCD_REVISIONS_KEPT: Final = 100_000

PUBSUB_NAME: Final = "orderpubsub"
CONFIG_NAME: Final = "fleet-config"

AppProtocol = Literal["grpc", "http"]


Store = Literal["sqlite", "postgres"]
MAX_REPLICAS: Final = 4
# The scaled profile's shared PostgreSQL (Debian's server, started by the runner).
POSTGRES_PORT: Final = 55432
POSTGRES_DB: Final = "orderfleet"
POSTGRES_USER: Final = "orderfleet"


@dataclass(frozen=True)
class Profile:
    """How many replicas of each app run, and where they keep state.

    One replica keeps each app's state in an embedded sqlite file; more replicas share one
    PostgreSQL (a sqlite file belongs to one process), for the Dapr stores and the
    orchestrator's read model alike."""

    replicas: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"replicas must be 1 to {MAX_REPLICAS}, got {self.replicas}")

    @property
    def store(self) -> Store:
        return "sqlite" if self.replicas == 1 else "postgres"


SINGLE: Final = Profile()
REPLICA_PORT_STEP: Final = 10  # replica r of an app uses its ports + 10 r


@dataclass(frozen=True)
class AppSpec:
    """One Dapr app (replica 0 unless `replica` says otherwise): a Python process and its
    daprd sidecar. Every replica has the same Dapr app id."""

    app_id: str
    module: str
    index: int
    app_protocol: AppProtocol
    state_store: str
    public_port: int | None = None
    replica: int = 0

    def instance(self, replica: int) -> "AppSpec":
        return replace(self, replica=replica)

    @property
    def _offset(self) -> int:
        return REPLICA_PORT_STEP * self.replica

    # Ports follow one scheme so that a glance at `fleet status` explains them.
    @property
    def app_port(self) -> int:
        return 6000 + self.index + self._offset

    @property
    def dapr_http_port(self) -> int:
        return 3500 + self.index + self._offset

    @property
    def dapr_grpc_port(self) -> int:
        return 50100 + self.index + self._offset

    @property
    def dapr_internal_grpc_port(self) -> int:
        return 50200 + self.index + self._offset

    @property
    def dapr_metrics_port(self) -> int:
        return 9190 + self.index + self._offset

    @property
    def api_port(self) -> int | None:
        """The public API of this replica: 8000 for replica 0, 8010, 8020, ..."""
        return self.public_port + self._offset if self.public_port else None

    @property
    def name(self) -> str:
        return self.app_id if self.replica == 0 else f"{self.app_id}-{self.replica}"

    @property
    def sidecar_name(self) -> str:
        return f"{self.name}-dapr"

    @property
    def app_ports(self) -> tuple[int, ...]:
        ports = (self.app_port,)
        return (*ports, self.api_port) if self.api_port else ports

    @property
    def sidecar_ports(self) -> tuple[int, ...]:
        return (
            self.dapr_http_port,
            self.dapr_grpc_port,
            self.dapr_internal_grpc_port,
            self.dapr_metrics_port,
        )


ORCHESTRATOR: Final = AppSpec(
    app_id="orchestrator",
    module="orchestrator",
    index=1,
    app_protocol="http",
    state_store="orchestrator-store",
    public_port=API_PORT,
)
INVENTORY: Final = AppSpec("inventory", "services.inventory", 2, "grpc", "inventory-store")
PAYMENT: Final = AppSpec("payment", "services.payment", 3, "grpc", "payment-store")
SHIPPING: Final = AppSpec("shipping", "services.shipping", 4, "grpc", "shipping-store")
NOTIFICATIONS: Final = AppSpec(
    "notifications", "services.notifications", 5, "grpc", "notifications-store"
)

APPS: Final = (ORCHESTRATOR, INVENTORY, PAYMENT, SHIPPING, NOTIFICATIONS)
SERVICE_APPS: Final = (INVENTORY, PAYMENT, SHIPPING)


def app(app_id: str) -> AppSpec:
    for spec in APPS:
        if spec.app_id == app_id:
            return spec
    raise KeyError(f"unknown app {app_id!r}; the fleet's apps are {[a.app_id for a in APPS]}")


KAFKA_BOOTSTRAP: Final = f"{LOOPBACK}:{KAFKA_PORT}"
ZIPKIN_URL: Final = f"http://{LOOPBACK}:{ZIPKIN_PORT}"
API_URL: Final = f"http://{LOOPBACK}:{API_PORT}"


def replicas(profile: Profile) -> list[AppSpec]:
    """Every replica of every app, replica 0 of each first."""
    return [app.instance(r) for r in range(profile.replicas) for app in APPS]
