"""Who may do what on Kafka: the ACL table, and its idempotent reconciliation on a broker.

The broker (StandardAuthorizer, `allow.everyone.if.no.acl.found=false`) denies whatever no
rule allows; `admin` is its super user. `reconcile` runs on every start of every
deployment (the local runner's health check, compose's and Kubernetes' kafka-setup): it
upserts each principal's SCRAM-SHA-512 credential, creates the rules that are missing and
deletes rules of our principals that the table no longer has, so a principal or rule added
later appears on an existing broker, and one removed disappears.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from contracts.topics import (
    DIAGNOSTICS,
    NOTIFICATIONS,
    ORDER_APPROVALS,
    ORDER_EVENTS,
    ORDER_REQUESTS,
    dead_letter,
)
from fleet import topology
from fleet.secrets import KAFKA_PRINCIPALS

SUPER_USER: Final = "admin"
PRODUCT_TOPICS: Final = (ORDER_REQUESTS, ORDER_EVENTS, ORDER_APPROVALS, NOTIFICATIONS, DIAGNOSTICS)
DEAD_LETTER_TOPICS: Final = tuple(dead_letter(topic) for topic in PRODUCT_TOPICS)
# `reader` may use consumer groups whose name starts with this, and no other: it cannot
# join (and so disturb) a sidecar's group, which is named after its app id.
READER_GROUP_PREFIX: Final = "reader-"

Resource = Literal["topic", "group", "cluster"]
Pattern = Literal["literal", "prefixed"]
Operation = Literal["read", "write", "create", "describe", "describe_configs"]


@dataclass(frozen=True, order=True)
class Rule:
    """ALLOW `operation` on a resource to `User:principal`, from any host."""

    principal: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Pattern = "literal"

    def render(self) -> str:
        pattern = "" if self.pattern == "literal" else f" ({self.pattern})"
        return (
            f"User:{self.principal} {self.operation.upper()} {self.resource}:{self.name}{pattern}"
        )


def _on(
    principal: str, resource: Resource, names: tuple[str, ...], *ops: Operation, **kw: Any
) -> list[Rule]:
    return [Rule(principal, resource, name, op, **kw) for name in names for op in ops]


def rules() -> list[Rule]:
    """Every ALLOW rule the brokers must hold, sorted."""
    apps = tuple(sorted({app.app_id for app in topology.APPS}))
    all_topics = PRODUCT_TOPICS + DEAD_LETTER_TOPICS
    table = [
        # The sidecars publish and subscribe on every product and dead-letter topic (topics
        # are auto-created on first use), each app in the consumer group of its app id.
        *_on(
            "fleet", "topic", all_topics, "read", "write", "create", "describe", "describe_configs"
        ),
        *_on("fleet", "group", apps, "read", "describe"),
        *_on("producer", "topic", (ORDER_REQUESTS,), "write", "describe"),
        *_on("approver", "topic", (ORDER_APPROVALS,), "write", "describe"),
        *_on(
            "reader",
            "topic",
            (ORDER_EVENTS, NOTIFICATIONS, *DEAD_LETTER_TOPICS),
            "read",
            "describe",
        ),
        *_on("reader", "group", (READER_GROUP_PREFIX,), "read", "describe", pattern="prefixed"),
    ]
    unknown = {rule.principal for rule in table} - set(KAFKA_PRINCIPALS)
    assert not unknown, f"rules for principals without a password: {unknown}"
    return sorted(set(table))


def super_users() -> str:
    """The broker's `super.users` setting."""
    return f"User:{SUPER_USER}"


# ---- applying the table (kafka-python's admin API, as the super user)


def _acl(rule: Rule) -> Any:
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    resource_name = "kafka-cluster" if rule.resource == "cluster" else rule.name
    return ACL(
        principal=f"User:{rule.principal}",
        host="*",
        operation=ACLOperation[rule.operation.upper()],
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(
            ResourceType[rule.resource.upper()],
            resource_name,
            ACLResourcePatternType[rule.pattern.upper()],
        ),
    )


def _key(acl: Any) -> tuple[Any, ...]:
    pattern = acl.resource_pattern
    return (
        acl.principal,
        acl.host,
        int(acl.operation),
        int(acl.permission_type),
        int(pattern.resource_type),
        pattern.resource_name,
        int(pattern.pattern_type),
    )


@dataclass(frozen=True)
class Reconciled:
    users: tuple[str, ...]
    created: int
    deleted: int


def reconcile(admin_options: Mapping[str, Any], passwords: Mapping[str, str]) -> Reconciled:
    """Brings a broker's SCRAM users and ACLs to the table, idempotently.

    `admin_options`: kafka-python options of the super user; `passwords`: every
    principal's password (KAFKA_PRINCIPALS)."""
    from kafka import KafkaAdminClient
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePatternFilter,
        ResourceType,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = KafkaAdminClient(
        **admin_options, client_id="fleet-kafka-setup", request_timeout_ms=10000
    )
    try:
        upserts = [
            UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, passwords[name])
            for name in KAFKA_PRINCIPALS
        ]
        failed = {u: e for u, e in admin.alter_user_scram_credentials(upserts).items() if e}
        if failed:
            raise RuntimeError(f"setting SCRAM credentials failed: {failed}")
        everything = ACLFilter(
            principal=None,
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.ANY, None, ACLResourcePatternType.ANY
            ),
        )
        existing, _ = admin.describe_acls(everything)
        wanted = {_key(acl): acl for acl in map(_acl, rules())}
        have = {_key(acl): acl for acl in existing}
        ours = {f"User:{name}" for name in KAFKA_PRINCIPALS}
        missing = [acl for key, acl in wanted.items() if key not in have]
        extra = [acl for key, acl in have.items() if key not in wanted and acl.principal in ours]
        if missing:
            result = admin.create_acls(missing)
            if result["failed"]:
                raise RuntimeError(f"creating ACLs failed: {result['failed']}")
        if extra:
            admin.delete_acls(extra)
        return Reconciled(tuple(KAFKA_PRINCIPALS), len(missing), len(extra))
    finally:
        admin.close()


def main() -> int:
    """`python -m fleet.kafka_acls`: reconciles the broker of the environment (compose's
    and Kubernetes' kafka-setup): KAFKA_BOOTSTRAP, and KAFKA_<PRINCIPAL>_PASSWORD each."""
    import contextlib
    import os
    import sys
    import time
    from pathlib import Path

    from fleet.kafka_auth import options

    bootstrap = os.environ["KAFKA_BOOTSTRAP"]
    passwords = {name: os.environ[f"KAFKA_{name.upper()}_PASSWORD"] for name in KAFKA_PRINCIPALS}
    admin = options(bootstrap, SUPER_USER, passwords[SUPER_USER])
    every = float(os.environ.get("KAFKA_SETUP_EVERY_S", "0"))  # 0: once, then exit
    deadline = time.monotonic() + float(os.environ.get("KAFKA_SETUP_TIMEOUT_S", "300"))
    while True:
        try:
            done = reconcile(admin, passwords)
        except Exception as error:  # the broker may still be starting
            if time.monotonic() > deadline:
                sys.stderr.write(f"kafka-setup: giving up: {error!r}\n")
                return 1
            sys.stderr.write(f"kafka-setup: not yet ({error!r}); retrying\n")
            time.sleep(2)
            continue
        sys.stderr.write(
            f"kafka-setup: {len(done.users)} SCRAM users, {done.created} ACLs created, "
            f"{done.deleted} removed\n"
        )
        ok = os.environ.get("KAFKA_SETUP_OK_FILE", "/tmp/kafka-setup.ok")
        with contextlib.suppress(OSError):
            Path(ok).touch()
        if not every:
            return 0
        time.sleep(every)
        deadline = time.monotonic() + float(os.environ.get("KAFKA_SETUP_TIMEOUT_S", "300"))


if __name__ == "__main__":
    raise SystemExit(main())
