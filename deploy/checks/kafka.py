"""The containerised brokers run with the local fleet's settings (fleet/runner/kafka_setup.py),
and every one of their listeners takes SASL: no anonymous access, the controller's included."""

import re
from pathlib import Path

from fleet.kafka_auth import SASL_MECHANISM
from fleet.runner.kafka_setup import server_properties

# Addresses, listeners and paths differ by design between a process and a container; the
# per-listener SASL settings are named after the listeners and carry admin's password.
_PLACE_SPECIFIC = {
    "listeners",
    "advertised.listeners",
    "controller.quorum.voters",
    "listener.security.protocol.map",
    "log.dirs",
    "inter.broker.listener.name",
}
_PLACE_SPECIFIC_PREFIX = "listener.name."


def local_settings() -> dict[str, str]:
    text = server_properties(Path("/unused"), "unused")
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {
        key: value
        for key, value in pairs
        if key not in _PLACE_SPECIFIC and not key.startswith(_PLACE_SPECIFIC_PREFIX)
    }


def env_name(key: str) -> str:
    """The apache/kafka image's variable for a broker setting."""
    return "KAFKA_" + key.upper().replace("-", "___").replace(".", "_")


def compare_kafka_env(env: dict[str, object]) -> list[str]:
    values = {k: str(v) for k, v in env.items()}
    problems = [
        f"{env_name(key)}={values.get(env_name(key))!r}, the local broker has {key}={value}"
        for key, value in local_settings().items()
        if values.get(env_name(key)) != value
    ]
    return problems + listener_security_problems(values)


_JAAS_PASSWORD = re.compile(r'password="([^"]*)"')


def listener_security_problems(env: dict[str, str]) -> list[str]:
    """Every listener is SASL_PLAINTEXT with its mechanisms set (SCRAM for clients, PLAIN
    with admin alone for the controller), and no JAAS password is written out."""
    protocols = dict(
        entry.split(":", 1)
        for entry in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",")
        if ":" in entry
    )
    controllers = set(env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "").split(","))
    problems = []
    for name, protocol in sorted(protocols.items()):
        if protocol != "SASL_PLAINTEXT":
            problems.append(f"listener {name} is {protocol}: every listener must take SASL")
            continue
        wanted = "PLAIN" if name in controllers else SASL_MECHANISM
        mechanisms_key = env_name(f"listener.name.{name.lower()}.sasl.enabled.mechanisms")
        if env.get(mechanisms_key) != wanted:
            problems.append(f"{mechanisms_key} must be {wanted}")
        jaas_key = env_name(f"listener.name.{name.lower()}.{wanted.lower()}.sasl.jaas.config")
        jaas = env.get(jaas_key, "")
        if not jaas:
            problems.append(f"{jaas_key} is missing")
        if name in controllers and re.findall(r"\buser_(\w+)=", jaas) != ["admin"]:
            problems.append(f"{jaas_key}: the controller listener must know admin alone")
        for password in _JAAS_PASSWORD.findall(jaas):
            if not password.startswith(("${", "$(")):
                problems.append(f"{jaas_key} writes a password out; reference a secret")
    return problems
