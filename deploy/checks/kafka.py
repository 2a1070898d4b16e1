"""The containerised brokers run with the local fleet's settings (fleet/runner/kafka_setup.py)."""

from pathlib import Path

from fleet.runner.kafka_setup import server_properties

# Addresses, listeners and paths differ by design between a process and a container.
_PLACE_SPECIFIC = {
    "listeners",
    "advertised.listeners",
    "controller.quorum.voters",
    "listener.security.protocol.map",
    "log.dirs",
}


def local_settings() -> dict[str, str]:
    text = server_properties(Path("/unused"))
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs if key not in _PLACE_SPECIFIC}


def env_name(key: str) -> str:
    """The apache/kafka image's variable for a broker setting."""
    return "KAFKA_" + key.upper().replace(".", "_")


def compare_kafka_env(env: dict[str, object]) -> list[str]:
    values = {k: str(v) for k, v in env.items()}
    return [
        f"{env_name(key)}={values.get(env_name(key))!r}, the local broker has {key}={value}"
        for key, value in local_settings().items()
        if values.get(env_name(key)) != value
    ]
