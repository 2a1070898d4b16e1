"""Writes the single-node KRaft broker's configuration and formats its storage once.

Security: clients authenticate with SASL/SCRAM-SHA-512 on the one client listener and the
StandardAuthorizer enforces `fleet.kafka_acls` (nothing is allowed that no rule allows).
The CONTROLLER listener takes SASL/PLAIN (KRaft controllers cannot check SCRAM: the
credentials live in the metadata they serve) with one static user, the super user
`admin`, so it is no way around the ACLs: a client without admin's password cannot even
connect there. Fresh storage is formatted with every principal's SCRAM credential. A
storage formatted before SCRAM has no users in its metadata, so nobody could log in, and
a controller does not take SCRAM changes from clients: `migrate_to_scram` starts the
broker once, privately, with admin also allowed in by SASL/PLAIN, sets every principal's
SCRAM credential, and stops it; then the real broker starts, SCRAM only. The runner's
health check reconciles users and ACLs on every start (fleet/runner/health.py).
"""

import base64
import subprocess
import time
import uuid
from pathlib import Path

from fleet import topology as t
from fleet.kafka_acls import SUPER_USER, super_users
from fleet.kafka_auth import SASL_MECHANISM
from fleet.provision.errors import ProvisionError
from fleet.secrets import KAFKA_PRINCIPALS, kafka_password

# A 5 MB message must reach the broker so that intake can dead-letter it with a reason
# instead of the producer failing silently; 8 MiB leaves headroom for the envelope.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


CLIENT_LISTENER = "SASL_PLAINTEXT"
# In the data folder once the SCRAM credentials are in the metadata (formatted with them,
# or given them by `migrate_to_scram`): a storage without it was formatted before SCRAM.
SCRAM_READY = "scram-ready"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"


def _jaas(module: str, username: str, password: str, **users: str) -> str:
    extra = "".join(f' user_{name}="{secret}"' for name, secret in users.items())
    return f'{module} required username="{username}" password="{password}"{extra};'


def security_settings(
    client_listener: str, controller_listener: str, admin_password: str
) -> dict[str, str]:
    """SASL and authorizer settings shared by every deployment's broker (the names are
    the listeners', as in `listener.name.<name>.*`)."""
    client, controller = client_listener.lower(), controller_listener.lower()
    mechanism = SASL_MECHANISM.lower()
    return {
        "sasl.enabled.mechanisms": SASL_MECHANISM,
        f"listener.name.{client}.sasl.enabled.mechanisms": SASL_MECHANISM,
        f"listener.name.{client}.{mechanism}.sasl.jaas.config": _jaas(
            SCRAM_LOGIN, SUPER_USER, admin_password
        ),
        "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
        "sasl.mechanism.controller.protocol": "PLAIN",
        f"listener.name.{controller}.sasl.enabled.mechanisms": "PLAIN",
        f"listener.name.{controller}.plain.sasl.jaas.config": _jaas(
            PLAIN_LOGIN, SUPER_USER, admin_password, **{SUPER_USER: admin_password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": super_users(),
        "allow.everyone.if.no.acl.found": "false",
    }


def server_properties(log_dir: Path, admin_password: str) -> str:
    return _render(_settings(log_dir, admin_password))


def _render(settings: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _settings(log_dir: Path, admin_password: str) -> dict[str, str]:
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{t.LOOPBACK}:{t.KAFKA_CONTROLLER_PORT}",
        "listeners": (
            f"{CLIENT_LISTENER}://{t.LOOPBACK}:{t.KAFKA_PORT},CONTROLLER://{t.LOOPBACK}:"
            f"{t.KAFKA_CONTROLLER_PORT}"
        ),
        "advertised.listeners": f"{CLIENT_LISTENER}://{t.LOOPBACK}:{t.KAFKA_PORT}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": CLIENT_LISTENER,
        "listener.security.protocol.map": (
            f"{CLIENT_LISTENER}:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
        ),
        **security_settings(CLIENT_LISTENER, "CONTROLLER", admin_password),
        "log.dirs": str(log_dir),
        "num.partitions": "4",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "message.max.bytes": str(MAX_MESSAGE_BYTES),
        "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
        "log.retention.hours": "168",
    }


def scram_arguments() -> list[str]:
    """StorageTool's --add-scram arguments: every principal's credential, at format time."""
    arguments = []
    for name in KAFKA_PRINCIPALS:
        arguments += [
            "--add-scram",
            f"{SASL_MECHANISM}=[name={name},password={kafka_password(name)}]",
        ]
    return arguments


def _write_private(path: Path, text: str) -> None:
    """The file holds admin's password: readable by the owner only."""
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    temporary.touch(mode=0o600)
    temporary.write_text(text)
    temporary.replace(path)


def prepare_kafka(libs: Path, data: Path) -> None:
    log_dir = data / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    properties = data / "server.properties"
    _write_private(properties, server_properties(log_dir, kafka_password(SUPER_USER)))
    if (log_dir / "meta.properties").exists():
        if not (data / SCRAM_READY).exists():
            migrate_to_scram(libs, data)
        return
    cluster_id_file = data / "cluster-id"
    if not cluster_id_file.exists():
        cluster_id_file.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()[:22])
    result = subprocess.run(
        [
            "java",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id_file.read_text().strip(),
            "-c",
            str(properties),
            "--ignore-formatted",
            *scram_arguments(),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ProvisionError(f"formatting Kafka storage in {log_dir} failed:\n{result.stderr}")
    (data / SCRAM_READY).touch()


def migrate_to_scram(libs: Path, data: Path, timeout_s: float = 180.0) -> None:
    """Gives a storage formatted before SCRAM every principal's SCRAM credential: the
    broker runs once with admin also allowed in by SASL/PLAIN (static, admin only) on the
    client listener, the credentials are set as admin, and the broker stops again."""
    from kafka import KafkaAdminClient
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion
    from kafka.errors import KafkaError

    password = kafka_password(SUPER_USER)
    settings = _settings(data / "log", password)
    client = CLIENT_LISTENER.lower()
    settings[f"listener.name.{client}.sasl.enabled.mechanisms"] = f"{SASL_MECHANISM},PLAIN"
    settings[f"listener.name.{client}.plain.sasl.jaas.config"] = _jaas(
        PLAIN_LOGIN, SUPER_USER, password, **{SUPER_USER: password}
    )
    properties = data / "migrate-to-scram.properties"
    _write_private(properties, _render(settings))
    log = data / "migrate-to-scram.log"
    with log.open("a") as output:
        broker = subprocess.Popen(
            ["java", "-Xmx512m", "-cp", f"{libs}/*", "kafka.Kafka", str(properties)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        upserts = [
            UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, kafka_password(name))
            for name in KAFKA_PRINCIPALS
        ]
        while True:
            if broker.poll() is not None:
                raise ProvisionError(f"Kafka exited while migrating to SCRAM: see {log}")
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=t.KAFKA_BOOTSTRAP,
                    security_protocol="SASL_PLAINTEXT",
                    sasl_mechanism="PLAIN",
                    sasl_plain_username=SUPER_USER,
                    sasl_plain_password=password,
                    bootstrap_timeout_ms=3000,
                    request_timeout_ms=5000,
                    client_id="fleet-migrate-to-scram",
                )
                try:
                    failed = {
                        u: e for u, e in admin.alter_user_scram_credentials(upserts).items() if e
                    }
                finally:
                    admin.close()
                if failed:
                    raise ProvisionError(f"setting SCRAM credentials failed: {failed}")
                break
            except (KafkaError, OSError):
                if time.monotonic() > deadline:
                    raise ProvisionError(
                        f"Kafka did not take SCRAM credentials: see {log}"
                    ) from None
                time.sleep(1)
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        properties.unlink(missing_ok=True)
    (data / SCRAM_READY).touch()
