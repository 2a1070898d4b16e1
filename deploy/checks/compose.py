"""docker-compose.yml and deploy/compose/components/ against fleet/topology.py."""

import re
from typing import Any

from deploy.checks import local
from deploy.checks.common import Doc, Finding, Tree, flag, load_dir
from deploy.checks.components import brokers, compare_components, compare_resiliency
from deploy.checks.kafka import compare_kafka_env
from deploy.checks.schemas import dapr_crd_dir
from fleet import topology, versions

INFRA = {"kafka", "kafka-setup", "zipkin", "postgres", "placement", "scheduler", "scheduler-data"}
COMPONENTS_MOUNT = "/components"
IMAGES = {
    "kafka": f"apache/kafka:{versions.KAFKA}",
    "zipkin": f"openzipkin/zipkin:{versions.ZIPKIN}",
    "placement": f"daprio/placement:{versions.DAPR_RUNTIME}",
    "scheduler": f"daprio/scheduler:{versions.DAPR_RUNTIME}",
}
DAPRD_IMAGE = f"daprio/daprd:{versions.DAPR_RUNTIME}"
HEALTHY = {"kafka", "postgres"}


def check_compose(compose: Doc, tree: Tree) -> list[Finding]:
    services: dict[str, Doc] = compose.get("services", {})
    findings: list[Finding] = []

    def problem(where: str, message: str) -> None:
        findings.append(Finding("compose", where, message))

    apps = {app.app_id for app in topology.APPS}
    sidecars = {app.sidecar_name for app in topology.APPS}
    pods = {pod_name(app) for app in topology.APPS}
    for name in sorted(services.keys() - apps - sidecars - pods - INFRA):
        problem(name, "not an app of fleet/topology.py, a sidecar, a pod or infrastructure")
    for name in sorted((apps | sidecars | pods | INFRA) - services.keys()):
        problem(name, "missing")
    for name, image in IMAGES.items():
        if name in services and services[name].get("image") != image:
            problem(name, f"image {services[name].get('image')!r} is not {image!r}")
    for name in ("kafka", "zipkin", "postgres", *sorted(apps)):
        if name in services and not services[name].get("healthcheck", {}).get("test"):
            problem(name, "no healthcheck")
    if "kafka" in services:
        env = services["kafka"].get("environment", {})
        findings += [Finding("compose", "kafka", m) for m in compare_kafka_env(env)]
        findings += [
            Finding("compose", "kafka", m) for m in host_listener_problems(services["kafka"])
        ]
    if "scheduler" in services:
        argv = [str(a) for a in services["scheduler"].get("command", [])]
        kept = flag(argv, "--etcd-compaction-retention")
        wanted = topology.SCHEDULER_ETCD_REVISIONS_KEPT
        if kept != str(wanted):
            problem("scheduler", f"--etcd-compaction-retention is {kept!r}, not {wanted}")
    published = {port for svc in services.values() for port in _published(svc)}
    for port in (topology.API_PORT, topology.ZIPKIN_PORT, topology.KAFKA_PORT):
        if port not in published:
            problem("ports", f"{port} is not published")
    internal_port = _name_resolution_port(tree)
    for app in topology.APPS:
        if app.app_id in services and app.sidecar_name in services:
            findings += _check_app(
                app, services[app.app_id], services[app.sidecar_name], internal_port
            )
        pod = services.get(pod_name(app), {})
        aliases = ((pod.get("networks") or {}).get("default") or {}).get("aliases") or []
        if pod and app.app_id not in aliases:
            # nameformat resolves an app id as a host name: it must reach the namespace.
            problem(pod_name(app), f"no network alias {app.app_id}")
    return findings


def pod_name(app: topology.AppSpec) -> str:
    """The container that holds the network namespace of the app and its sidecar."""
    return f"{app.app_id}-pod"


def _check_app(
    app: topology.AppSpec, service: Doc, sidecar: Doc, internal_port: str | None
) -> list[Finding]:
    problems: list[str] = []
    # Both join a third container's namespace: either one restarts back into it.
    shared = f"service:{pod_name(app)}"
    if service.get("network_mode") != shared:
        problems.append(f"network_mode is not {shared}")
    env = {k: str(v) for k, v in service.get("environment", {}).items()}
    wanted_env = local.app_env(app)
    if app.public_port:
        wanted_env["API_PORT"] = str(app.public_port)
    for key, value in wanted_env.items():
        if env.get(key) != value:
            problems.append(f"environment {key}={env.get(key)!r}, the local fleet has {value!r}")
    problems += _token_problems(env)
    if app is topology.ORCHESTRATOR and not env.get("READ_MODEL_PATH"):
        problems.append("no READ_MODEL_PATH")
    if service.get("command") != ["python", "-m", app.module]:
        problems.append(f"command {service.get('command')} does not run {app.module}")
    if service.get("read_only") is not True or "ALL" not in service.get("cap_drop", []):
        problems.append("not read_only with every capability dropped")
    findings = [Finding("compose", app.app_id, p) for p in problems]

    side: list[str] = []
    argv = [str(a) for a in sidecar.get("command", [])]
    if sidecar.get("network_mode") != shared:
        side.append(f"network_mode is not {shared}")
    if sidecar.get("image") != DAPRD_IMAGE:
        side.append(f"image {sidecar.get('image')!r} is not {DAPRD_IMAGE!r}")
    wanted_flags: dict[str, str | None] = {
        **local.sidecar_flags(app),
        "--placement-host-address": f"placement:{topology.PLACEMENT_PORT}",
        "--scheduler-host-address": f"scheduler:{topology.SCHEDULER_PORT}",
        "--resources-path": COMPONENTS_MOUNT,
        "--config": f"{COMPONENTS_MOUNT}/config.yaml",
        "--dapr-internal-grpc-port": internal_port,
    }
    for name, wanted in wanted_flags.items():
        if flag(argv, name) != wanted:
            side.append(f"{name} is {flag(argv, name)!r}, not {wanted!r}")
    mounts = [str(v) for v in sidecar.get("volumes", [])]
    if not any(m.startswith("./deploy/compose/components:/components") for m in mounts):
        side.append("does not mount ./deploy/compose/components at /components")
    depends: dict[str, Any] = sidecar.get("depends_on", {})
    side += _token_problems({k: str(v) for k, v in sidecar.get("environment", {}).items()})
    for name in HEALTHY:
        if depends.get(name, {}).get("condition") != "service_healthy":
            side.append(f"does not wait for {name} to be healthy")
    if app.app_id not in depends:
        side.append(f"does not depend on {app.app_id}")
    findings += [Finding("compose", app.sidecar_name, p) for p in side]
    return findings


def _token_problems(env: dict[str, str]) -> list[str]:
    """App and sidecar share both API tokens, from the shell or .env, never written here."""
    return [
        f"environment {key} is {'missing' if key not in env else 'not a ${...} reference'}"
        for key in sorted(local.SECRET_ENV)
        if not env.get(key, "").startswith(f"${{{key}")
    ]


_PORT = r"(\$\{[^}]+\}|\d+)"
_MAPPING = re.compile(rf"^(?:[\d.]+:)?{_PORT}:(\d+)$")
_LISTENER = re.compile(rf"^(\w+)://([^:]*):{_PORT}$")


def _listeners(value: object) -> dict[str, tuple[str, str]]:
    found = {}
    for entry in str(value or "").split(","):
        match = _LISTENER.match(entry.strip())
        if match:
            found[match.group(1)] = (match.group(2), match.group(3))
    return found


def host_listener_problems(kafka: Doc) -> list[str]:
    """A listener published on the host must advertise the port it is published on
    (the same `${VAR:-default}`), or clients on the host are sent to the wrong port."""
    env = kafka.get("environment", {})
    listening = _listeners(env.get("KAFKA_LISTENERS"))
    advertised = _listeners(env.get("KAFKA_ADVERTISED_LISTENERS"))
    problems = []
    for entry in kafka.get("ports", []):
        match = _MAPPING.match(str(entry))
        if not match:
            continue
        published, container = match.groups()
        for name, (_, port) in listening.items():
            if port != container or name not in advertised:
                continue
            if advertised[name][1] != published:
                problems.append(
                    f"listener {name} is published on host port {published} but advertises "
                    f"{advertised[name][1]}"
                )
    return problems


def with_defaults(value: str) -> str:
    """`${VAR:-default}` and `${VAR-default}` as compose reads them with VAR unset."""
    return _DEFAULTED.sub(lambda match: match.group(2), value)


_DEFAULTED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}")


def _published(service: Doc) -> list[int]:
    """Host ports, at their defaults: the host ports may be chosen (FLEET_API_PORT, ...)."""
    ports: list[int] = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            if entry.get("published"):
                ports.append(int(with_defaults(str(entry["published"])).split("-")[0]))
            continue
        parts = with_defaults(str(entry)).split(":")
        if len(parts) >= 2:
            ports.append(int(parts[-2]))
    return ports


def _name_resolution_port(tree: Tree) -> str | None:
    config = load_dir(tree.compose_components).get(topology.CONFIG_NAME, {})
    resolution = config.get("spec", {}).get("nameResolution", {})
    fmt = str(resolution.get("configuration", {}).get("format", ""))
    return fmt.rsplit(":", 1)[1] if fmt.startswith("{appid}:") else None


def check_compose_components(tree: Tree, services: set[str]) -> list[Finding]:
    local = tree.local_resources()
    other = load_dir(tree.compose_components)
    where = tree.rel(tree.compose_components)
    crd_dir = dapr_crd_dir(tree.schemas)
    findings = compare_components(local, other, where)
    findings += compare_resiliency(local, other, where, crd_dir)
    config = other.get(topology.CONFIG_NAME)
    if config is None:
        return [*findings, Finding("components", where, f"no Configuration {topology.CONFIG_NAME}")]
    tracing = config["spec"].get("tracing", {})
    if tracing.get("samplingRate") != "1":
        findings.append(Finding("components", where, "tracing does not sample every request"))
    endpoint = tracing.get("zipkin", {}).get("endpointAddress", "")
    if endpoint != f"http://zipkin:{topology.ZIPKIN_PORT}/api/v2/spans" or "zipkin" not in services:
        findings.append(Finding("components", where, f"zipkin endpoint {endpoint!r}"))
    if _name_resolution_port(tree) is None:
        findings.append(
            Finding("components", where, "name resolution is not nameformat {appid}:<port>")
        )
    address = brokers(other)
    if address is None or address.split(":")[0] not in services:
        findings.append(Finding("components", where, f"brokers {address!r} is no compose service"))
    return findings
