"""Writes the single-node KRaft broker's configuration and formats its storage once."""

import base64
import subprocess
import uuid
from pathlib import Path

from fleet import topology as t
from fleet.provision.errors import ProvisionError

# A 5 MB message must reach the broker so that intake can dead-letter it with a reason
# instead of the producer failing silently; 8 MiB leaves headroom for the envelope.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def server_properties(log_dir: Path) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{t.LOOPBACK}:{t.KAFKA_CONTROLLER_PORT}",
        "listeners": (
            f"PLAINTEXT://{t.LOOPBACK}:{t.KAFKA_PORT},CONTROLLER://{t.LOOPBACK}:"
            f"{t.KAFKA_CONTROLLER_PORT}"
        ),
        "advertised.listeners": f"PLAINTEXT://{t.LOOPBACK}:{t.KAFKA_PORT}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def prepare_kafka(libs: Path, data: Path) -> None:
    log_dir = data / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    properties = data / "server.properties"
    properties.write_text(server_properties(log_dir))
    if (log_dir / "meta.properties").exists():
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
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ProvisionError(f"formatting Kafka storage in {log_dir} failed:\n{result.stderr}")
