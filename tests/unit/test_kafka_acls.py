"""The Kafka ACL table and the broker's security settings (fleet/kafka_acls.py,
fleet/runner/kafka_setup.py), as rendered: what each principal may do, nothing more."""

from pathlib import Path

from contracts.topics import NOTIFICATIONS, ORDER_APPROVALS, ORDER_EVENTS, ORDER_REQUESTS
from fleet import kafka_auth, topology
from fleet.kafka_acls import DEAD_LETTER_TOPICS, PRODUCT_TOPICS, READER_GROUP_PREFIX, Rule, rules
from fleet.runner.kafka_setup import scram_arguments, server_properties
from fleet.secrets import KAFKA_PRINCIPALS


def _of(principal: str) -> set[tuple[str, str, str, str]]:
    return {
        (r.resource, r.name, r.operation, r.pattern) for r in rules() if r.principal == principal
    }


def _writes(principal: str) -> set[str]:
    return {name for kind, name, op, _ in _of(principal) if kind == "topic" and op == "write"}


def _reads(principal: str) -> set[str]:
    return {name for kind, name, op, _ in _of(principal) if kind == "topic" and op == "read"}


def test_producer_may_write_order_requests_only() -> None:
    assert _writes("producer") == {ORDER_REQUESTS}
    assert _reads("producer") == set()
    assert not {kind for kind, *_ in _of("producer")} - {"topic"}


def test_approver_may_write_order_approvals_only() -> None:
    assert _writes("approver") == {ORDER_APPROVALS}
    assert _reads("approver") == set()


def test_reader_reads_events_notifications_and_dead_letters_and_writes_nothing() -> None:
    assert _writes("reader") == set()
    assert _reads("reader") == {ORDER_EVENTS, NOTIFICATIONS, *DEAD_LETTER_TOPICS}
    groups = {(name, pattern) for kind, name, _, pattern in _of("reader") if kind == "group"}
    assert groups == {(READER_GROUP_PREFIX, "prefixed")}
    apps = {app.app_id for app in topology.APPS}
    assert not any(app.startswith(READER_GROUP_PREFIX) for app in apps), (
        "a fleet group it could join"
    )


def test_the_sidecars_read_and_write_every_product_and_dead_letter_topic_in_their_groups() -> None:
    everything = set(PRODUCT_TOPICS) | set(DEAD_LETTER_TOPICS)
    assert _writes("fleet") == everything
    assert _reads("fleet") == everything
    groups = {name for kind, name, op, _ in _of("fleet") if kind == "group" and op == "read"}
    assert groups == {app.app_id for app in topology.APPS}


def test_admin_has_no_rules_it_is_the_super_user_and_every_rule_names_a_known_principal() -> None:
    assert _of("admin") == set()
    assert {r.principal for r in rules()} <= set(KAFKA_PRINCIPALS)
    assert rules() == sorted(set(rules())), "sorted, no duplicates"


def test_a_rule_renders_readably() -> None:
    rule = Rule("reader", "group", READER_GROUP_PREFIX, "read", "prefixed")
    assert rule.render() == "User:reader READ group:reader- (prefixed)"


def _properties() -> dict[str, str]:
    text = server_properties(Path("/data/log"), "s3cret")
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_every_listener_takes_sasl_and_the_authorizer_denies_by_default() -> None:
    props = _properties()
    protocols = dict(e.split(":") for e in props["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}
    listeners = {entry.split("://")[0] for entry in props["listeners"].split(",")}
    assert listeners == set(protocols)
    assert props["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.sasl_plaintext.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"


def test_the_controller_listener_lets_in_admin_alone() -> None:
    props = _properties()
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    jaas = props["listener.name.controller.plain.sasl.jaas.config"]
    assert jaas.count("user_") == 1 and 'user_admin="s3cret"' in jaas
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"


def test_fresh_storage_is_formatted_with_every_principals_scram_credential() -> None:
    arguments = scram_arguments()
    assert arguments[::2] == ["--add-scram"] * len(KAFKA_PRINCIPALS)
    names = [a.split("name=")[1].split(",")[0] for a in arguments[1::2]]
    assert names == list(KAFKA_PRINCIPALS)
    assert all(a.startswith("SCRAM-SHA-512=[") for a in arguments[1::2])


def test_client_options_and_credentials_have_the_documented_shape() -> None:
    options = kafka_auth.client_options("producer")
    assert options["bootstrap_servers"] == "127.0.0.1:9092"
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "producer"
    shown = kafka_auth.credentials()
    assert set(shown) == {"bootstrap", "security_protocol", "sasl_mechanism", "principals"}
    assert set(shown["principals"]) == {"producer", "approver", "reader"}
    assert shown["principals"]["reader"]["username"] == "reader"
