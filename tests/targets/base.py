"""What the deployment tests ask of a deployment target."""

from abc import ABC, abstractmethod
from typing import Any

from fleet import kafka_auth, topology
from fleet.api_tokens import local_signing_key


class Target(ABC):
    name: str
    # What `fleet credentials --target` calls this deployment.
    credentials_target: str = "local"
    replicas: int = 1

    @property
    def api_urls(self) -> list[str]:
        """Each orchestrator replica's API, as the test host reaches it (replica 0 first)."""
        return [topology.API_URL]

    def issuer_key(self) -> str:
        """The signing key of the deployment's development token issuer."""
        return local_signing_key()

    def kafka_options(self, principal: str) -> dict[str, Any]:
        """kafka-python options that log in as `principal` on this target's broker, as the
        test host reaches it (127.0.0.1:9092 everywhere); each target has its own secrets."""
        return kafka_auth.client_options(principal)

    @abstractmethod
    def up(self) -> None:
        """Brings the deployment up (if it is not), returns once everything is healthy."""

    @abstractmethod
    def down(self) -> None:
        """Takes down what `up` started (nothing, if it found the deployment running)."""

    @abstractmethod
    def crash(self, app_id: str, *, sidecar: bool = False, replica: int = 0) -> None:
        """Kills an app's process (or its sidecar) the way a crash would, and returns once
        the platform has brought it back by itself (nobody else restarts it)."""

    @abstractmethod
    def sidecar_status(self, app_id: str, *, with_token: bool) -> int:
        """The HTTP status a client beside the app gets from its sidecar's API
        (GET /v1.0/metadata), with or without the sidecar's API token."""
