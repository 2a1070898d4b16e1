"""Readiness probes: each returns True only when the process really serves."""

from collections.abc import Callable

import httpx

from fleet.runner.ports import is_listening
from fleet.topology import KAFKA_BOOTSTRAP

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


def kafka_broker() -> HealthCheck:
    """The broker answers a metadata request (its port alone opens before it is ready)."""

    def check() -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=2000, client_id="fleet-health"
            )
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.list_topics()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    return check


def all_of(*checks: HealthCheck) -> HealthCheck:
    return lambda: all(check() for check in checks)
