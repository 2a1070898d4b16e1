"""Kafka client credentials: the one place that says how a direct client authenticates.

The broker takes SASL/SCRAM-SHA-512 over plaintext (loopback, or the cluster's network)
and its StandardAuthorizer enforces the ACLs of `fleet.kafka_acls`. Each role is a
principal (fleet.secrets.KAFKA_PRINCIPALS) whose password lives in the secret store:
`producer` writes orders, `approver` writes decisions, `reader` reads events,
notifications and dead letters, `fleet` is the sidecars', `admin` the broker's own.
"""

from collections.abc import Callable
from typing import Any, Final

from fleet.secrets import kafka_password
from fleet.topology import KAFKA_BOOTSTRAP

# kafka-python's spellings (kcat/librdkafka take the same strings).
SECURITY_PROTOCOL: Final = "SASL_PLAINTEXT"
SASL_MECHANISM: Final = "SCRAM-SHA-512"
# The principals a user is handed (`fleet credentials`); admin and fleet stay the fleet's.
USER_PRINCIPALS: Final = ("producer", "approver", "reader")


def options(bootstrap: str, username: str, password: str) -> dict[str, Any]:
    """kafka-python keyword arguments for one principal at `bootstrap`."""
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": SECURITY_PROTOCOL,
        "sasl_mechanism": SASL_MECHANISM,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def client_options(principal: str) -> dict[str, Any]:
    """kafka-python keyword arguments for `principal` on the local fleet's broker."""
    return options(KAFKA_BOOTSTRAP, principal, kafka_password(principal))


def credentials(password_of: Callable[[str], str] = kafka_password) -> dict[str, Any]:
    """What a user needs to talk to the broker (`fleet credentials`' "kafka" part): the
    local fleet's, or another deployment's given how to find its principals' passwords."""
    return {
        "bootstrap": KAFKA_BOOTSTRAP,
        "security_protocol": SECURITY_PROTOCOL,
        "sasl_mechanism": SASL_MECHANISM,
        "principals": {
            name: {"username": name, "password": password_of(name)} for name in USER_PRINCIPALS
        },
    }
