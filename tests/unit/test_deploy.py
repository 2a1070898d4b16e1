"""The deploy files are valid and agree with the topology; a broken copy is caught.

Offline: the schemas are vendored or ship in a pinned package, and kustomize comes from
the version-keyed cache (built from its Go module the first time, as `make validate-deploy`
does).
"""

import shutil
import textwrap
from pathlib import Path

import pytest

from deploy.checks.common import Finding
from deploy.checks.expected import grpc_subscriptions, subscriptions
from deploy.checks.kafka import env_name
from deploy.checks.schemas import _strict
from deploy.checks.secrets import scan_text, scan_yaml
from deploy.validate import Report, validate
from fleet import topology
from fleet.paths import REPO_ROOT

COPIED = ("deploy", "components", "docker-compose.yml", "dapr.yaml", "Dockerfile", ".dockerignore")


def copy_tree(dest: Path) -> Path:
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    shutil.copy2(REPO_ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {relative}"
    path.write_text(text.replace(old, new))


def shown(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings) or "(none)"


def test_the_deploy_files_are_valid_and_match_the_topology() -> None:
    report = validate(REPO_ROOT)
    assert report.ok, shown(report.findings)
    assert report.counts["dapr.yaml apps"] == len(topology.APPS)
    assert report.counts["k8s objects"] > 0


INVENTORY_SIDECAR = (
    '      - inventory\n      - --app-port\n      - "6002"\n      - --app-protocol\n      - '
)
# Each breakage: (file, text, replacement, check that must report it, words it must use).
BREAKAGES: dict[str, tuple[str, str, str, str, str]] = {
    "compose sidecar in its app's namespace": (
        "docker-compose.yml",
        "    network_mode: service:payment-pod\n    command:\n      - ./daprd",
        "    network_mode: service:payment\n    command:\n      - ./daprd",
        "compose",
        "network_mode is not service:payment-pod",
    ),
    "k8s app-port annotation": (
        "deploy/k8s/payment.yaml",
        'dapr.io/app-port: "6003"',
        'dapr.io/app-port: "6099"',
        "k8s",
        "dapr.io/app-port='6099'",
    ),
    "k8s unknown field": (
        "deploy/k8s/shipping.yaml",
        "readinessProbe:",
        "readinesProbe:",
        "k8s-schema",
        "readinesProbe",
    ),
    "k8s misspelt Dapr annotation": (
        "deploy/k8s/inventory.yaml",
        "dapr.io/log-level: info",
        "dapr.io/loglevel: info",
        "k8s",
        "dapr.io/loglevel is not an annotation",
    ),
    "Dapr CRD field": (
        "deploy/k8s/dapr-subscriptions.yaml",
        "deadLetterTopic: order-requests.dlq",
        "deadLetterTopik: order-requests.dlq",
        "dapr-schema",
        "deadLetterTopik",
    ),
    "subscription topic": (
        "deploy/k8s/dapr-subscriptions.yaml",
        "  topic: fleet-diagnostics\n",
        "  topic: fleet-diagnostic\n",
        "k8s",
        "fleet-diagnostic",
    ),
    "compose sidecar protocol": (
        "docker-compose.yml",
        INVENTORY_SIDECAR + "grpc",
        INVENTORY_SIDECAR + "http",
        "compose",
        "--app-protocol is 'http', not 'grpc'",
    ),
    "compose schema": (
        "docker-compose.yml",
        "      retries: 12\n      start_period: 60s",
        "      retries: 12\n      start_period: 60s\n      startperiod: 20s",
        "compose-schema",
        "startperiod",
    ),
    "compose store scope": (
        "deploy/compose/components/statestore-payment.yaml",
        "scopes:\n  - payment",
        "scopes:\n  - shipping",
        "components",
        "payment-store",
    ),
    "run file port": (
        "dapr.yaml",
        "daprGRPCPort: 50103",
        "daprGRPCPort: 50199",
        "run-file",
        "daprGRPCPort=50199",
    ),
    "literal secret": (
        "docker-compose.yml",
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (see README, Deploying)}",
        "POSTGRES_PASSWORD: hunter2hunter2",
        "secrets",
        "POSTGRES_PASSWORD has a literal value",
    ),
    "compose kafka host listener": (
        "docker-compose.yml",
        "HOST://127.0.0.1:${FLEET_KAFKA_PORT:-9092}\n",
        "HOST://127.0.0.1:9092\n",
        "compose",
        "published on host port ${FLEET_KAFKA_PORT:-9092} but advertises 9092",
    ),
    "kafka broker settings": (
        "deploy/k8s/kafka.yaml",
        '- name: KAFKA_MESSAGE_MAX_BYTES\n              value: "8388608"',
        '- name: KAFKA_MESSAGE_MAX_BYTES\n              value: "1048576"',
        "k8s",
        "KAFKA_MESSAGE_MAX_BYTES='1048576'",
    ),
    "k8s single replica": (
        "deploy/k8s/shipping.yaml",
        "  replicas: 2\n",
        "  replicas: 1\n",
        "k8s",
        "replicas below 2",
    ),
    "k8s no disruption budget": (
        "deploy/k8s/inventory.yaml",
        "kind: PodDisruptionBudget",
        "kind: PodDisruptionBudgetX",
        "k8s",
        "no PodDisruptionBudget",
    ),
    "k8s one Secret for both tokens": (
        "deploy/k8s/payment.yaml",
        "dapr.io/app-token-secret: payment-app-token",
        "dapr.io/app-token-secret: payment-api-token",
        "k8s",
        "must name two Secrets",
    ),
    "k8s read model in a pod": (
        "deploy/k8s/orchestrator.yaml",
        "            - name: READ_MODEL_URL\n",
        "            - name: READ_MODEL_PATH\n              value: /tmp/orders.db\n"
        "            - name: READ_MODEL_URLX\n",
        "k8s",
        "READ_MODEL_PATH: a file per pod",
    ),
    "missing app": (
        "deploy/k8s/kustomization.yaml",
        "  - notifications.yaml\n",
        "",
        "k8s",
        "notifications: no Deployment",
    ),
}


@pytest.fixture(scope="module")
def broken_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One copy of the deploy files with every breakage above, validated once."""
    root = copy_tree(tmp_path_factory.mktemp("broken"))
    for relative, old, new, _, _ in BREAKAGES.values():
        edit(root, relative, old, new)
    return validate(root)


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validation_fails_on_a_broken_copy(broken_report: Report, breakage: str) -> None:
    _, _, _, check, words = BREAKAGES[breakage]
    matching = [f for f in broken_report.findings if f.check == check and words in str(f)]
    assert matching, (
        f"{breakage}: no [{check}] finding with {words!r} in\n{shown(broken_report.findings)}"
    )


def test_a_kustomization_that_does_not_render_fails(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    edit(root, "deploy/k8s/kustomization.yaml", "  - zipkin.yaml\n", "  - tracing.yaml\n")
    report = validate(root)
    assert any(f.check == "k8s" and "tracing.yaml" in f.message for f in report.findings), shown(
        report.findings
    )


def test_a_missing_deploy_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "dapr.yaml").unlink()
    report = validate(root)
    assert [f.check for f in report.findings] == ["run-file"], shown(report.findings)


def test_secret_scan_flags_literals_and_accepts_references() -> None:
    flagged = scan_yaml({"env": [{"name": "DB_PASSWORD", "value": "s3cret-value"}]})
    assert flagged and "DB_PASSWORD" in flagged[0]
    assert scan_yaml({"kind": "Secret", "stringData": {"x": "y"}})
    assert scan_text("host=db user=app password=s3cret dbname=x")
    assert scan_text("redis://user:s3cret@redis:6379")
    references = {
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}],
        "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?set it}",
        "auth": {"secretStore": "kubernetes"},
        "automountServiceAccountToken": False,
    }
    assert scan_yaml(references) == []
    assert scan_text("host=db password=${POSTGRES_PASSWORD:?x} dbname=x") == []


def test_crd_schemas_are_made_strict_where_dapr_would_prune() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string"}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    strict = _strict(schema)
    assert strict["additionalProperties"] is False
    assert strict["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in strict["properties"]["free"]
    assert strict["properties"]["map"]["additionalProperties"] == {"type": "string"}


def test_grpc_subscriptions_are_read_from_the_app_source(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from contracts.topics import NOTIFICATIONS, PUBSUB
            LOCAL = "extra"
            def wire(app, consumer):
                app.subscribe(pubsub_name=PUBSUB, topic=NOTIFICATIONS,
                              dead_letter_topic=f"{NOTIFICATIONS}.dlq")(print)
                app.subscribe(PUBSUB, LOCAL, {"rawPayload": "true"})(print)
                consumer.subscribe(topics=["ignored"])
            """
        )
    )
    subs = grpc_subscriptions("notifications", tmp_path)
    assert [(s.topic, s.dead_letter_topic, s.metadata, s.path) for s in subs] == [
        ("notifications", "notifications.dlq", (), ""),
        ("extra", None, (("rawPayload", "true"),), ""),
    ]


def test_the_orchestrator_intake_subscription_dead_letters_raw_payloads() -> None:
    by_topic = {s.topic: s for s in subscriptions() if s.app_id == "orchestrator"}
    intake = by_topic["order-requests"]
    assert intake.dead_letter_topic == "order-requests.dlq"
    assert dict(intake.metadata) == {"rawPayload": "true"}


@pytest.mark.parametrize(
    ("setting", "variable"),
    [("message.max.bytes", "KAFKA_MESSAGE_MAX_BYTES"), ("node.id", "KAFKA_NODE_ID")],
)
def test_kafka_settings_map_to_the_image_variables(setting: str, variable: str) -> None:
    assert env_name(setting) == variable


def test_compose_takes_both_api_tokens_from_the_environment_never_literally() -> None:
    from deploy.checks.compose import _token_problems

    good = {"DAPR_API_TOKEN": "${DAPR_API_TOKEN:?set it}", "APP_API_TOKEN": "${APP_API_TOKEN}"}
    assert _token_problems(good) == []
    assert _token_problems({"DAPR_API_TOKEN": "abc"}) == [
        "environment APP_API_TOKEN is missing",
        "environment DAPR_API_TOKEN is not a ${...} reference",
    ]
