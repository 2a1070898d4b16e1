"""What each process of the fleet is: its command line, ports, health check and stage.

Everything is derived from `fleet.topology`; this module only turns it into commands.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fleet import topology as t
from fleet.identity import api_auth_env
from fleet.paths import REPO_ROOT, components_dir, data_dir, resource_dirs
from fleet.provision.dapr import DaprBinaries
from fleet.runner import health, postgres_setup
from fleet.runner.kafka_setup import prepare_kafka
from fleet.secrets import (
    API_ISSUER_KEY,
    app_api_token_key,
    dapr_api_token_key,
    ensure_secrets,
    postgres_password,
)

Kind = Literal["infra", "app", "sidecar", "runner"]


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    kind: Kind
    stage: int
    argv: tuple[str, ...]
    ports: tuple[int, ...]
    health: health.HealthCheck
    urls: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT
    prepare: Callable[[], None] | None = None
    # Generous: a busy or slow machine starts a JVM or a sidecar slowly, and a start that
    # gives up too early stops the whole fleet. A process that dies is reported at once.
    start_timeout_s: float = 300.0
    # Environment that exists only once earlier stages ran (e.g. Sentry's trust anchors).
    late_env: Callable[[], dict[str, str]] | None = None
    # The fleet's own well-known ports, kept out of ephemeral assignment while it is
    # installed (fleet.runner.reserved_ports); ports drawn for one run are not.
    fixed_ports: bool = False


@dataclass(frozen=True)
class Artifacts:
    dapr: DaprBinaries
    kafka_libs: Path
    zipkin_jar: Path


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    return str(Path(java_home) / "bin" / "java") if java_home else "java"


def kafka(artifacts: Artifacts) -> ProcessSpec:
    kafka_data = data_dir() / "kafka"
    return ProcessSpec(
        fixed_ports=True,
        name="kafka",
        kind="infra",
        stage=0,
        argv=(
            _java(),
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info",
            "-cp",
            f"{artifacts.kafka_libs}/*",
            "kafka.Kafka",
            str(kafka_data / "server.properties"),
        ),
        ports=(t.KAFKA_PORT, t.KAFKA_CONTROLLER_PORT),
        health=health.all_of(health.tcp(t.KAFKA_PORT), health.kafka_broker(kafka_data)),
        urls=(f"kafka://{t.KAFKA_BOOTSTRAP}",),
        prepare=lambda: prepare_kafka(artifacts.kafka_libs, kafka_data),
    )


def zipkin(artifacts: Artifacts) -> ProcessSpec:
    return ProcessSpec(
        fixed_ports=True,
        name="zipkin",
        kind="infra",
        stage=0,
        argv=(_java(), "-Xms128m", "-Xmx768m", "-jar", str(artifacts.zipkin_jar)),
        ports=(t.ZIPKIN_PORT,),
        health=health.http_status(f"{t.ZIPKIN_URL}/health", 200),
        urls=(t.ZIPKIN_URL,),
        # In-memory traces, oldest evicted first: an order is ~135 spans, so this keeps the
        # last ~1,500 orders' traces within the heap (a million spans ran it out of memory).
        env={"STORAGE_TYPE": "mem", "QUERY_PORT": str(t.ZIPKIN_PORT), "MEM_MAX_SPANS": "200000"},
    )


def sentry_home() -> Path:
    return data_dir() / "sentry"


def trust_anchors_file() -> Path:
    """The root certificate Sentry generates on its first start and keeps after that."""
    return sentry_home() / "credentials" / "ca.crt"


_SENTRY_CONFIG = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: "24h"
    allowedClockSkew: "15m"
"""


def _prepare_sentry() -> None:
    credentials = sentry_home() / "credentials"
    credentials.mkdir(parents=True, exist_ok=True)
    credentials.chmod(0o700)
    (sentry_home() / "config.yaml").write_text(_SENTRY_CONFIG)


def sentry(artifacts: Artifacts) -> ProcessSpec:
    return ProcessSpec(
        fixed_ports=True,
        name="sentry",
        kind="infra",
        stage=0,
        argv=(
            str(artifacts.dapr.sentry),
            f"--config={sentry_home() / 'config.yaml'}",
            f"--issuer-credentials={sentry_home() / 'credentials'}",
            f"--trust-domain={t.CONTROL_PLANE_TRUST_DOMAIN}",
            f"--port={t.SENTRY_PORT}",
            f"--listen-address={t.LOOPBACK}",
            f"--healthz-port={t.SENTRY_HEALTHZ_PORT}",
            f"--healthz-listen-address={t.LOOPBACK}",
            f"--metrics-port={t.SENTRY_METRICS_PORT}",
            f"--metrics-listen-address={t.LOOPBACK}",
        ),
        ports=(t.SENTRY_PORT, t.SENTRY_HEALTHZ_PORT, t.SENTRY_METRICS_PORT),
        health=health.http_status(f"http://{t.LOOPBACK}:{t.SENTRY_HEALTHZ_PORT}/healthz", 200),
        urls=(f"grpc://{t.LOOPBACK}:{t.SENTRY_PORT}",),
        prepare=_prepare_sentry,
    )


def _control_plane_tls() -> tuple[str, ...]:
    """Placement and scheduler take their certificates from Sentry, like every sidecar."""
    return (
        "--tls-enabled=true",
        f"--trust-anchors-file={trust_anchors_file()}",
        f"--sentry-address={t.LOOPBACK}:{t.SENTRY_PORT}",
        f"--trust-domain={t.CONTROL_PLANE_TRUST_DOMAIN}",
    )


def placement(artifacts: Artifacts) -> ProcessSpec:
    return ProcessSpec(
        fixed_ports=True,
        name="placement",
        kind="infra",
        stage=1,
        argv=(
            str(artifacts.dapr.placement),
            "--id=plac-0",
            f"--port={t.PLACEMENT_PORT}",
            f"--listen-address={t.LOOPBACK}",
            f"--initial-cluster=plac-0={t.LOOPBACK}:{t.PLACEMENT_RAFT_PORT}",
            f"--healthz-port={t.PLACEMENT_HEALTHZ_PORT}",
            f"--healthz-listen-address={t.LOOPBACK}",
            f"--metrics-port={t.PLACEMENT_METRICS_PORT}",
            f"--metrics-listen-address={t.LOOPBACK}",
            *_control_plane_tls(),
        ),
        ports=(
            t.PLACEMENT_PORT,
            t.PLACEMENT_RAFT_PORT,
            t.PLACEMENT_HEALTHZ_PORT,
            t.PLACEMENT_METRICS_PORT,
        ),
        health=health.http_status(f"http://{t.LOOPBACK}:{t.PLACEMENT_HEALTHZ_PORT}/healthz", 200),
        urls=(f"grpc://{t.LOOPBACK}:{t.PLACEMENT_PORT}",),
    )


SCHEDULER_ID = "dapr-scheduler-server-0"


def _prepare_scheduler_data(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)  # embedded etcd refuses a data dir others can read


def scheduler(artifacts: Artifacts) -> ProcessSpec:
    etcd_data = data_dir() / "scheduler"
    return ProcessSpec(
        fixed_ports=True,
        name="scheduler",
        kind="infra",
        stage=1,
        argv=(
            str(artifacts.dapr.scheduler),
            # With TLS, etcd's peer certificate names the member: the id must be this one.
            f"--id={SCHEDULER_ID}",
            f"--port={t.SCHEDULER_PORT}",
            f"--listen-address={t.LOOPBACK}",
            f"--healthz-port={t.SCHEDULER_HEALTHZ_PORT}",
            f"--healthz-listen-address={t.LOOPBACK}",
            f"--metrics-port={t.SCHEDULER_METRICS_PORT}",
            f"--metrics-listen-address={t.LOOPBACK}",
            f"--etcd-data-dir={etcd_data}",
            f"--etcd-client-port={t.SCHEDULER_ETCD_CLIENT_PORT}",
            f"--etcd-initial-cluster={SCHEDULER_ID}=https://{t.LOOPBACK}:{t.SCHEDULER_ETCD_PEER_PORT}",
            f"--etcd-compaction-retention={t.SCHEDULER_ETCD_REVISIONS_KEPT}",
            f"--identity-directory-write={data_dir() / 'scheduler-identity'}",
            *_control_plane_tls(),
        ),
        ports=(
            t.SCHEDULER_PORT,
            t.SCHEDULER_HEALTHZ_PORT,
            t.SCHEDULER_METRICS_PORT,
            t.SCHEDULER_ETCD_CLIENT_PORT,
            t.SCHEDULER_ETCD_PEER_PORT,
        ),
        health=health.http_status(f"http://{t.LOOPBACK}:{t.SCHEDULER_HEALTHZ_PORT}/healthz", 200),
        urls=(f"grpc://{t.LOOPBACK}:{t.SCHEDULER_PORT}",),
        env={"NAMESPACE": "default"},
        prepare=lambda: _prepare_scheduler_data(etcd_data),
    )


def postgres() -> ProcessSpec:
    """The scaled profile's one database (Debian's server, runner/postgres_setup.py)."""
    password = postgres_password()
    return ProcessSpec(
        fixed_ports=True,
        name="postgres",
        kind="infra",
        stage=0,
        argv=(
            *postgres_setup.as_server_account(),
            str(postgres_setup.server_binary()),
            "-D",
            str(postgres_setup.data_path()),
            "-k",
            str(postgres_setup.socket_dir()),
        ),
        ports=(t.POSTGRES_PORT,),
        health=lambda: postgres_setup.answers(password),
        urls=(f"postgresql://{t.LOOPBACK}:{t.POSTGRES_PORT}/{t.POSTGRES_DB}",),
        cwd=Path("/"),
        prepare=lambda: postgres_setup.prepare_postgres(password),
    )


def app_env(app: t.AppSpec, profile: t.Profile = t.SINGLE) -> dict[str, str]:
    """What an app process needs to find its sidecar (read by the Dapr SDK and our settings)."""
    tokens = ensure_secrets()
    env = {
        # The SDK sends this to its sidecar; the app requires APP_API_TOKEN from the sidecar.
        "DAPR_API_TOKEN": tokens[dapr_api_token_key(app.app_id)],
        "APP_API_TOKEN": tokens[app_api_token_key(app.app_id)],
        "APP_ID": app.app_id,
        "APP_PORT": str(app.app_port),
        "DAPR_HTTP_PORT": str(app.dapr_http_port),
        "DAPR_GRPC_PORT": str(app.dapr_grpc_port),
        "DAPR_RUNTIME_HOST": t.LOOPBACK,
        "PYTHONUNBUFFERED": "1",
        # gRPC invocation reuses the client's one channel; the SDK's HTTP default opens
        # an aiohttp session per call and cannot run inside an event loop.
        "DAPR_API_METHOD_INVOCATION_PROTOCOL": "grpc",
        # The apps' own spans (activities, service work) go where the sidecars' spans go.
        "ZIPKIN_ENDPOINT": f"{t.ZIPKIN_URL}/api/v2/spans",
    }
    if app.app_id == t.ORCHESTRATOR.app_id:
        env.update(api_auth_env(tokens[API_ISSUER_KEY]))
        if profile.store == "postgres":
            # One projection shared by every replica (orchestrator/readmodel_db.py).
            env["READ_MODEL_URL"] = postgres_setup.url(postgres_password())
        else:
            env["READ_MODEL_PATH"] = str(data_dir() / "readmodel" / "orders.db")
        if app.replica:
            env["API_PORT"] = str(app.api_port)
    return env


def app_process(app: t.AppSpec, profile: t.Profile = t.SINGLE) -> ProcessSpec:
    if app.api_port:
        ready = health.http_status(f"http://{t.LOOPBACK}:{app.api_port}/healthz", 200)
        urls: tuple[str, ...] = (f"http://{t.LOOPBACK}:{app.api_port}",)
    else:
        ready = health.tcp(app.app_port)
        urls = (f"{app.app_protocol}://{t.LOOPBACK}:{app.app_port}",)
    return ProcessSpec(
        fixed_ports=True,
        name=app.name,
        kind="app",
        stage=2,
        argv=(sys.executable, "-m", app.module),
        ports=app.app_ports,
        health=ready,
        urls=urls,
        env=app_env(app, profile),
    )


def _prepare_state_dir() -> None:
    (data_dir() / "state").mkdir(parents=True, exist_ok=True)


def sidecar_flags(app: t.AppSpec, profile: t.Profile = t.SINGLE) -> dict[str, str]:
    return {
        "--app-id": app.app_id,
        "--app-port": str(app.app_port),
        "--app-protocol": app.app_protocol,
        "--app-channel-address": t.LOOPBACK,
        "--dapr-http-port": str(app.dapr_http_port),
        "--dapr-grpc-port": str(app.dapr_grpc_port),
        "--dapr-internal-grpc-port": str(app.dapr_internal_grpc_port),
        "--dapr-internal-grpc-listen-address": t.LOOPBACK,
        "--dapr-listen-addresses": t.LOOPBACK,
        "--metrics-port": str(app.dapr_metrics_port),
        "--metrics-listen-address": t.LOOPBACK,
        "--placement-host-address": f"{t.LOOPBACK}:{t.PLACEMENT_PORT}",
        "--scheduler-host-address": f"{t.LOOPBACK}:{t.SCHEDULER_PORT}",
        # The shared resources, then the profile's state stores (a list flag: a,b).
        "--resources-path": ",".join(str(d) for d in resource_dirs(profile.store)),
        "--config": str(components_dir() / "config.yaml"),
        "--log-level": "info",
        # mTLS between sidecars, certificates from Sentry: the identity access control reads.
        "--enable-mtls": "true",
        "--sentry-address": f"{t.LOOPBACK}:{t.SENTRY_PORT}",
        "--control-plane-trust-domain": t.CONTROL_PLANE_TRUST_DOMAIN,
        # Intake must receive (and dead-letter) oversized messages, not fail on them.
        "--max-body-size": "16Mi",
    }


def sidecar_env(app: t.AppSpec, profile: t.Profile = t.SINGLE) -> dict[str, str]:
    tokens = ensure_secrets()
    stores = (
        {"STATESTORE_CONNECTION_STRING": postgres_setup.connection_string(postgres_password())}
        if profile.store == "postgres"
        else {}
    )
    return {
        **stores,
        "DAPR_HOST_IP": t.LOOPBACK,
        "NAMESPACE": "default",
        # Every client of this sidecar must present this token ...
        "DAPR_API_TOKEN": tokens[dapr_api_token_key(app.app_id)],
        # ... and the sidecar presents this one to its app.
        "APP_API_TOKEN": tokens[app_api_token_key(app.app_id)],
    }


def sidecar(app: t.AppSpec, artifacts: Artifacts, profile: t.Profile = t.SINGLE) -> ProcessSpec:
    return ProcessSpec(
        fixed_ports=True,
        name=app.sidecar_name,
        kind="sidecar",
        stage=2,
        argv=(
            str(artifacts.dapr.daprd),
            # `--flag=value` throughout: a bool flag would not take a separate value.
            *(f"{flag}={value}" for flag, value in sidecar_flags(app, profile).items()),
        ),
        ports=app.sidecar_ports,
        health=health.http_status(f"http://{t.LOOPBACK}:{app.dapr_http_port}/v1.0/healthz", 204),
        urls=(f"http://{t.LOOPBACK}:{app.dapr_http_port}",),
        # daprd resolves the components' relative sqlite paths against its working directory.
        cwd=data_dir(),
        env=sidecar_env(app, profile),
        late_env=lambda: {"DAPR_TRUST_ANCHORS": trust_anchors_file().read_text()},
        prepare=_prepare_state_dir,
    )


def keeper() -> ProcessSpec:
    """Started last and stopped first: it restarts what exits on its own (runner/keeper.py)."""
    from fleet.runner.keeper import NAME, is_beating

    return ProcessSpec(
        fixed_ports=True,
        name=NAME,
        kind="runner",
        stage=3,
        argv=(sys.executable, "-m", "fleet.runner.keeper"),
        ports=(),
        health=is_beating,
        start_timeout_s=30.0,
    )


def fleet_specs(artifacts: Artifacts, profile: t.Profile = t.SINGLE) -> list[ProcessSpec]:
    specs = [kafka(artifacts), zipkin(artifacts)]
    if profile.store == "postgres":
        specs.append(postgres())
    specs += [sentry(artifacts), placement(artifacts), scheduler(artifacts)]
    for app in t.replicas(profile):
        specs += [app_process(app, profile), sidecar(app, artifacts, profile)]
    return [*specs, keeper()]
