"""Readiness probes: each returns True only when the process really serves."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx

from fleet.runner.ports import is_listening

HealthCheck = Callable[[], bool]


def http_status(url: str, *expected: int) -> HealthCheck:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code in expected
        except httpx.HTTPError:
            return False

    return check


def tcp(port: int) -> HealthCheck:
    return lambda: is_listening(port)


def _acl_digest() -> str:
    from fleet.kafka_acls import rules
    from fleet.secrets import KAFKA_PRINCIPALS, kafka_password

    table = [rule.render() for rule in rules()]
    table += [f"{name}:{kafka_password(name)}" for name in KAFKA_PRINCIPALS]
    return hashlib.sha256("\n".join(table).encode()).hexdigest()


def kafka_broker(data: Path) -> HealthCheck:
    """The broker answers its super user (SASL/SCRAM; its port alone opens before it is
    ready), and holds the fleet's SCRAM users and ACLs: reconciled once for each broker
    process and each version of the table (a marker in its data folder remembers which),
    before anything that needs them starts."""
    marker = data / "acls-reconciled.json"

    def check() -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        from fleet.kafka_acls import reconcile
        from fleet.kafka_auth import client_options
        from fleet.runner import state
        from fleet.secrets import KAFKA_PRINCIPALS, kafka_password

        try:
            admin = KafkaAdminClient(
                **client_options("admin"),
                request_timeout_ms=2000,
                bootstrap_timeout_ms=3000,  # a refused login is retried until this, silently
                client_id="fleet-health",
            )
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.list_topics()
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()
        wanted = {"pid": state.alive_pid("kafka"), "digest": _acl_digest()}
        try:
            done = json.loads(marker.read_text()) == wanted
        except (OSError, ValueError):
            done = False
        if not done:
            passwords = {name: kafka_password(name) for name in KAFKA_PRINCIPALS}
            try:
                reconcile(client_options("admin"), passwords)
            except (KafkaError, OSError):
                return False
            marker.write_text(json.dumps(wanted))
        return True

    return check


def all_of(*checks: HealthCheck) -> HealthCheck:
    return lambda: all(check() for check in checks)
