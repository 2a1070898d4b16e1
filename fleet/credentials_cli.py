"""`fleet credentials`: the API tokens and Kafka principals a user pastes into curl, kcat
or kafka-python, for the local fleet or another deployment target."""

import argparse
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from contracts.roles import Role
from fleet import console, kafka_auth, topology
from fleet.identity import DEV_SUBJECTS, mint

TARGETS = ("local", "compose", "k8s")
WHAT_EACH_MAY = {
    "producer": "may write order-requests",
    "approver": "may write order-approvals",
    "reader": "may read order-events, notifications and the dead-letter topics",
}


def add_command(commands: Any) -> None:
    command = commands.add_parser(
        "credentials", help="API tokens per role and Kafka principals, to paste into clients"
    )
    command.add_argument("--target", choices=TARGETS, default="local")
    command.add_argument("--json", action="store_true", help="machine-readable, one object")


def _secrets_of(target: str) -> tuple[str, Callable[[str], str]]:
    """The target's token signing key, and how to find its Kafka principals' passwords."""
    if target == "compose":
        from fleet.containers.compose_secrets import ISSUER_KEY, ensure_compose_secrets

        stored = ensure_compose_secrets()
        return stored[ISSUER_KEY], lambda name: stored[f"KAFKA_{name.upper()}_PASSWORD"]
    if target == "k8s":
        from fleet.cluster.fleet_deploy import issuer_signing_key, kafka_password
        from fleet.cluster.node import Node

        node = Node.default()
        return issuer_signing_key(node), partial(kafka_password, node)
    from fleet.api_tokens import local_signing_key
    from fleet.secrets import kafka_password as local_password

    return local_signing_key(), local_password


def credentials(target: str = "local") -> dict[str, Any]:
    key, password_of = _secrets_of(target)
    return {
        "api": {role.value: mint(key, role) for role in Role},
        "kafka": kafka_auth.credentials(password_of),
    }


def _kcat(kafka: dict[str, Any], principal: str) -> str:
    user = kafka["principals"][principal]
    return (
        f"kcat -b {kafka['bootstrap']} -X security.protocol={kafka['security_protocol']} "
        f"-X sasl.mechanisms={kafka['sasl_mechanism']} "
        f"-X sasl.username={user['username']} -X sasl.password={user['password']}"
    )


def cmd_credentials(args: argparse.Namespace) -> int:
    found = credentials(args.target)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    api, kafka = found["api"], found["kafka"]
    console.say(f"API {topology.API_URL}: send `Authorization: Bearer <token>` (valid 12 h)")
    for role in Role:
        print(f"  {role.value:<9} as {DEV_SUBJECTS[role]:<13} {api[role.value]}")
    console.say(
        f"Kafka {kafka['bootstrap']}: {kafka['security_protocol']}, {kafka['sasl_mechanism']}"
    )
    for name, what in WHAT_EACH_MAY.items():
        user = kafka["principals"][name]
        print(f"  {name:<9} {user['username']} / {user['password']}  ({what})")
    console.say("For example")
    print(f"  {_kcat(kafka, 'reader')} -C -t order-events")
    print(f"  {_kcat(kafka, 'producer')} -P -t order-requests")
    return 0
