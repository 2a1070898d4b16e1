"""The rendered deploy/k8s against fleet/topology.py, the apps' subscriptions and components/."""

from typing import Any

from deploy.checks import expected, local
from deploy.checks.common import Doc, Finding, Tree, load_yaml, name_of, of_kind
from deploy.checks.components import brokers, compare_components, compare_resiliency
from deploy.checks.kafka import compare_kafka_env
from deploy.checks.schemas import dapr_crd_dir
from deploy.checks.workloads import check_workloads
from fleet import topology, versions

IMAGES = {
    "kafka": f"apache/kafka:{versions.KAFKA}",
    "zipkin": f"openzipkin/zipkin:{versions.ZIPKIN}",
}


def check_kubernetes(docs: list[Doc], tree: Tree) -> list[Finding]:
    findings: list[Finding] = []
    namespace = str(load_yaml(tree.k8s / "kustomization.yaml").get("namespace", ""))
    for doc in docs:
        if doc.get("kind") != "Namespace" and doc.get("metadata", {}).get("namespace") != namespace:
            findings.append(Finding("k8s", name_of(doc), f"not in namespace {namespace!r}"))
    findings += check_workloads(docs)
    findings += _check_apps(docs, known_annotations(tree))
    dapr = {
        d["metadata"]["name"]: d for d in docs if str(d.get("apiVersion")).startswith("dapr.io/")
    }
    local = tree.local_resources()
    findings += compare_components(local, dapr, "k8s")
    findings += compare_resiliency(local, dapr, "k8s", dapr_crd_dir(tree.schemas))
    findings += _check_configuration(dapr, docs, namespace)
    findings += _check_subscriptions(docs)
    findings += _check_infrastructure(docs, dapr)
    return findings


def _template(doc: Doc) -> Doc:
    template: Doc = doc.get("spec", {}).get("template", {})
    return template


def known_annotations(tree: Tree) -> set[str]:
    """The pod annotations the pinned Dapr's sidecar injector reads (vendored list)."""
    text = (dapr_crd_dir(tree.schemas) / "annotations.txt").read_text()
    return {line.strip() for line in text.splitlines() if line.startswith("dapr.io/")}


def _check_apps(docs: list[Doc], annotations: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    daprized = {
        str(_template(d)["metadata"].get("annotations", {}).get("dapr.io/app-id")): d
        for d in of_kind(docs, "Deployment")
        if _template(d).get("metadata", {}).get("annotations", {}).get("dapr.io/enabled") == "true"
    }
    apps = {app.app_id for app in topology.APPS}
    for app_id in sorted(daprized.keys() - apps):
        findings.append(Finding("k8s", f"Deployment/{app_id}", "Dapr app not in fleet/topology.py"))
    for app_id in sorted(apps - daprized.keys()):
        findings.append(Finding("k8s", app_id, "no Deployment with this dapr.io/app-id"))
    accounts = {d["metadata"]["name"] for d in of_kind(docs, "ServiceAccount")}
    services = {d["metadata"]["name"]: d for d in of_kind(docs, "Service")}
    images = set()
    for app in topology.APPS:
        deployment = daprized.get(app.app_id)
        if deployment is None:
            continue
        where = name_of(deployment)
        pod = _template(deployment)
        notes = pod["metadata"]["annotations"]
        problems = _annotations(app, notes)
        problems += [
            f"{key} is not an annotation of the Dapr {versions.DAPR_RUNTIME} sidecar injector"
            for key in sorted(notes)
            if key.startswith("dapr.io/") and key not in annotations
        ]
        spec = pod["spec"]
        container = spec["containers"][0]
        images.add(container.get("image"))
        if container.get("command") != ["python", "-m", app.module]:
            problems.append(f"command {container.get('command')} does not run {app.module}")
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        wanted_env = {
            k: v for k, v in local.app_env(app).items() if k not in local.K8S_INJECTED_ENV
        }
        if app.public_port:
            wanted_env["API_PORT"] = str(app.public_port)
        for key, value in wanted_env.items():
            if env.get(key) != value:
                problems.append(f"env {key}={env.get(key)!r}, the local fleet has {value!r}")
        if app is topology.ORCHESTRATOR:
            problems += _read_model(container, spec)
        problems += _tokens(app, notes, container)
        problems += _scaled(app, deployment, labels_of(pod), docs)
        if spec.get("serviceAccountName") != app.app_id or app.app_id not in accounts:
            problems.append(f"does not run as its own ServiceAccount {app.app_id!r}")
        service = services.get(app.app_id)
        labels = pod["metadata"].get("labels", {})
        if service is None or not _selects(service, labels):
            problems.append(f"no Service {app.app_id!r} selecting its pods")
        elif app.public_port and app.public_port not in [
            p["port"] for p in service["spec"]["ports"]
        ]:
            problems.append(f"Service {app.app_id!r} does not expose {app.public_port}")
        findings += [Finding("k8s", where, p) for p in problems]
    if len(images) > 1:
        findings.append(Finding("k8s", "apps", f"apps run different images: {sorted(images)}"))
    return findings


def _annotations(app: topology.AppSpec, notes: dict[str, str]) -> list[str]:
    flags = local.sidecar_flags(app)
    problems = [
        f"the local sidecar runs with {name}, which has no annotation here (deploy/checks/local.py)"
        for name in local.unmapped(flags, local.K8S_ANNOTATIONS, local.K8S_FIXED_FLAGS)
    ]
    wanted = {local.K8S_ANNOTATIONS[f]: v for f, v in flags.items() if f in local.K8S_ANNOTATIONS}
    wanted["dapr.io/config"] = topology.CONFIG_NAME
    problems += [f"{k}={notes.get(k)!r}, not {v!r}" for k, v in wanted.items() if notes.get(k) != v]
    return problems


def _read_model(container: Doc, spec: Doc) -> list[str]:
    """One projection for every replica: PostgreSQL from a Secret, never a local file."""
    env = {e["name"]: e for e in container.get("env", [])}
    problems = []
    if "READ_MODEL_PATH" in env:
        problems.append(
            "READ_MODEL_PATH: a file per pod, empty after a restart; use READ_MODEL_URL"
        )
    if "secretKeyRef" not in env.get("READ_MODEL_URL", {}).get("valueFrom", {}):
        problems.append("READ_MODEL_URL does not come from a Secret (the PostgreSQL connection)")
    if any("emptyDir" in v and v["name"] != "tmp" for v in spec.get("volumes", [])):
        problems.append("an emptyDir besides /tmp: the read model lives in PostgreSQL")
    return problems


def _tokens(app: topology.AppSpec, notes: dict[str, str], container: Doc) -> list[str]:
    """The injector reads key `token` of each Secret it is given: one Secret per token."""
    api, app_token = notes.get("dapr.io/api-token-secret"), notes.get("dapr.io/app-token-secret")
    problems = []
    if not api or not app_token or api == app_token:
        problems.append("dapr.io/api-token-secret and app-token-secret must name two Secrets")
    refs = {
        e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}) for e in container.get("env", [])
    }
    for variable, secret in (("DAPR_API_TOKEN", api), ("APP_API_TOKEN", app_token)):
        if refs.get(variable) != {"name": secret, "key": "token"}:
            problems.append(f"{variable} is not key `token` of Secret {secret!r}")
    return problems


MIN_REPLICAS = 2


def labels_of(pod: Doc) -> dict[str, str]:
    labels: dict[str, str] = pod["metadata"].get("labels", {})
    return labels


def _scaled(
    app: topology.AppSpec, deployment: Doc, labels: dict[str, str], docs: list[Doc]
) -> list[str]:
    """Every app runs replicated, with a PodDisruptionBudget keeping one up."""
    problems = []
    if int(deployment["spec"].get("replicas", 1)) < MIN_REPLICAS:
        problems.append(f"replicas below {MIN_REPLICAS}")
    budgets = [
        d
        for d in of_kind(docs, "PodDisruptionBudget")
        if all(
            labels.get(k) == v
            for k, v in d["spec"].get("selector", {}).get("matchLabels", {}).items()
        )
        and d["spec"].get("selector", {}).get("matchLabels")
    ]
    if not budgets or not any(int(b["spec"].get("minAvailable", 0)) >= 1 for b in budgets):
        problems.append("no PodDisruptionBudget with minAvailable >= 1 selecting its pods")
    return problems


def _selects(service: Doc, labels: dict[str, str]) -> bool:
    selector: dict[str, str] = service.get("spec", {}).get("selector", {})
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _check_configuration(dapr: dict[str, Doc], docs: list[Doc], namespace: str) -> list[Finding]:
    config = dapr.get(topology.CONFIG_NAME)
    where = f"Configuration/{topology.CONFIG_NAME}"
    if config is None or config.get("kind") != "Configuration":
        return [Finding("k8s", where, "missing")]
    spec = config["spec"]
    problems: list[str] = []
    tracing = spec.get("tracing", {})
    if tracing.get("samplingRate") != "1":
        problems.append("tracing does not sample every request")
    endpoint = str(tracing.get("zipkin", {}).get("endpointAddress", ""))
    if not _is_service_url(endpoint, docs, topology.ZIPKIN_PORT):
        problems.append(f"zipkin endpoint {endpoint!r} is no Service of this kustomization")
    acl = spec.get("accessControl", {})
    if acl.get("defaultAction") != "deny":
        problems.append("accessControl does not deny by default")
    allowed = {
        p.get("appId"): p for p in acl.get("policies", []) if p.get("defaultAction") == "allow"
    }
    if set(allowed) != {topology.ORCHESTRATOR.app_id}:
        problems.append(f"apps allowed to invoke: {sorted(allowed)}, not only the orchestrator")
    elif allowed[topology.ORCHESTRATOR.app_id].get("namespace") != namespace:
        problems.append(f"the orchestrator's policy is not for namespace {namespace!r}")
    return [Finding("k8s", where, p) for p in problems]


def _is_service_url(url: str, docs: list[Doc], port: int) -> bool:
    host_port = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port_text = host_port.partition(":")
    return port_text == str(port) and _has_service(docs, host, port)


def _has_service(docs: list[Doc], name: str, port: int) -> bool:
    return any(
        s["metadata"]["name"] == name and port in [p["port"] for p in s["spec"]["ports"]]
        for s in of_kind(docs, "Service")
    )


def _check_subscriptions(docs: list[Doc]) -> list[Finding]:
    declared: dict[tuple[str, str], Doc] = {}
    findings: list[Finding] = []
    topics = expected.topic_names()
    for sub in of_kind(docs, "Subscription"):
        scopes = sub.get("scopes", [])
        if len(scopes) != 1:
            findings.append(Finding("k8s", name_of(sub), f"scoped to {scopes}, not to one app"))
            continue
        declared[(scopes[0], sub["spec"]["topic"])] = sub
        for topic in (sub["spec"]["topic"], sub["spec"].get("deadLetterTopic")):
            if topic and topic not in topics:
                findings.append(
                    Finding("k8s", name_of(sub), f"topic {topic!r} is not in contracts/topics.py")
                )
    wanted = {(s.app_id, s.topic): s for s in expected.subscriptions()}
    for app_id, topic in sorted(declared.keys() - wanted.keys()):
        findings.append(
            Finding("k8s", f"Subscription {topic}", f"{app_id} does not subscribe to it")
        )
    for app_id, topic in sorted(wanted.keys() - declared.keys()):
        findings.append(
            Finding("k8s", f"Subscription {topic}", f"missing: {app_id} subscribes to it")
        )
    for key in sorted(wanted.keys() & declared.keys()):
        findings += _compare_subscription(wanted[key], declared[key])
    return findings


def _compare_subscription(want: expected.Subscription, sub: Doc) -> list[Finding]:
    spec = sub["spec"]
    routes = spec.get("routes", {})
    rules = routes.get("rules", [])
    if want.path:
        path_ok = routes.get("default") == want.path and not rules
    else:
        path_ok = rules == [{"match": "true", "path": ""}] and not routes.get("default")
    got: dict[str, Any] = {
        "pubsubname": spec.get("pubsubname"),
        "path": want.path if path_ok else routes,
        "metadata": tuple(sorted((spec.get("metadata") or {}).items())),
        "deadLetterTopic": spec.get("deadLetterTopic"),
        "bulkSubscribe": tuple(sorted((spec.get("bulkSubscribe") or {}).items())),
    }
    wanted: dict[str, Any] = {
        "pubsubname": want.pubsub,
        "path": want.path,
        "metadata": want.metadata,
        "deadLetterTopic": want.dead_letter_topic,
        "bulkSubscribe": want.bulk_subscribe,
    }
    return [
        Finding(
            "k8s",
            name_of(sub),
            f"{key} {got[key]!r}, the app's own subscription has {wanted[key]!r}",
        )
        for key in wanted
        if got[key] != wanted[key]
    ]


def _check_infrastructure(docs: list[Doc], dapr: dict[str, Doc]) -> list[Finding]:
    findings: list[Finding] = []
    workloads = {
        d["metadata"]["name"]: d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")
    }
    for name, image in IMAGES.items():
        got = [
            c.get("image")
            for c in _template(workloads.get(name, {})).get("spec", {}).get("containers", [])
        ]
        if got != [image]:
            findings.append(Finding("k8s", name, f"image {got} is not [{image!r}]"))
    kafka = workloads.get("kafka")
    if kafka is not None:
        container = _template(kafka)["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        findings += [Finding("k8s", "StatefulSet/kafka", m) for m in compare_kafka_env(env)]
    address = brokers(dapr)
    host, _, port = (address or "").partition(":")
    if not port.isdigit() or not _has_service(docs, host, int(port)):
        findings.append(
            Finding("k8s", topology.PUBSUB_NAME, f"brokers {address!r} is no Service here")
        )
    return findings


def check_overlay(base: list[Doc], overlay: list[Doc], where: str) -> list[Finding]:
    """The managed-Kafka example changes the brokers and drops the dev broker (and its
    kafka-setup), nothing else."""
    kafka_objects = {
        "StatefulSet/kafka",
        "Service/kafka",
        "Service/kafka-headless",
        "Deployment/kafka-setup",
    }
    kept = {name_of(d): d for d in base if name_of(d) not in kafka_objects}
    mine = {name_of(d): d for d in overlay}
    findings: list[Finding] = []
    if set(mine) != set(kept):
        findings.append(Finding("k8s", where, f"objects differ: {sorted(set(mine) ^ set(kept))}"))
    for name in sorted(set(mine) & set(kept)):
        a, b = kept[name], mine[name]
        if name == f"Component/{topology.PUBSUB_NAME}":
            if brokers({topology.PUBSUB_NAME: a}) == brokers({topology.PUBSUB_NAME: b}):
                findings.append(Finding("k8s", where, "the brokers address is not changed"))
            a, b = _without_brokers(a), _without_brokers(b)
        if a != b:
            findings.append(Finding("k8s", where, f"{name} differs from deploy/k8s"))
    return findings


def _without_brokers(component: Doc) -> Doc:
    spec = dict(component["spec"])
    spec["metadata"] = [m for m in spec.get("metadata", []) if m.get("name") != "brokers"]
    return {**component, "spec": spec}
