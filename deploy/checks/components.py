"""Dapr resources outside the local components/ folder must match it.

Same names and scopes; the same metadata, except the settings that hold an address or
belong to one store type (sqlite locally, PostgreSQL in containers and clusters).
"""

from pathlib import Path

from deploy.checks.common import Doc, Finding, metadata_items
from deploy.checks.schemas import pruned
from fleet import topology

# Settings that may differ from components/: addresses and store-type specific options.
ADDRESS_KEYS = {"brokers"}
STORE_KEYS = {
    "connectionString",
    "busyTimeout",
    "timeout",
    "tablePrefix",
    "metadataTableName",
    "initTimeout",
}
CONTAINER_STORE = ("state.postgresql", "v2")
# The local file secret store stands in for the platform's own: Kubernetes secrets in a
# cluster, environment variables from the shell in compose.
LOCAL_ONLY_TYPES = {"secretstores.local.file"}
# ... and what stands in for it elsewhere (compose: the sidecars' FLEET_SECRET_* variables).
PLATFORM_SECRET_TYPES = {"secretstores.local.env", "secretstores.kubernetes"}


def compare_components(local: dict[str, Doc], other: dict[str, Doc], where: str) -> list[Finding]:
    findings: list[Finding] = []

    def problem(name: str, message: str) -> None:
        findings.append(Finding("components", f"{where} {name}", message))

    local_components = {
        n: d
        for n, d in local.items()
        if d.get("kind") == "Component" and d["spec"]["type"] not in LOCAL_ONLY_TYPES
    }
    other_components = {
        n: d
        for n, d in other.items()
        if d.get("kind") == "Component" and d["spec"]["type"] not in PLATFORM_SECRET_TYPES
    }
    for name in sorted(local_components.keys() - other_components.keys()):
        problem(name, "missing (it is in components/)")
    for name in sorted(other_components.keys() - local_components.keys()):
        problem(name, "not in components/ (the same components everywhere)")
    for name in sorted(local_components.keys() & other_components.keys()):
        mine, theirs = local_components[name], other_components[name]
        if sorted(mine.get("scopes", [])) != sorted(theirs.get("scopes", [])):
            problem(name, f"scopes {theirs.get('scopes')} differ from {mine.get('scopes')}")
        is_store = mine["spec"]["type"].startswith("state.")
        if is_store:
            spec = (theirs["spec"]["type"], theirs["spec"]["version"])
            if spec != CONTAINER_STORE:
                problem(name, f"state store {spec} is not {CONTAINER_STORE}")
        elif theirs["spec"]["type"] != mine["spec"]["type"]:
            problem(name, f"type {theirs['spec']['type']} is not {mine['spec']['type']}")
        ignored = ADDRESS_KEYS | (STORE_KEYS if is_store else set())
        a, b = metadata_items(mine), metadata_items(theirs)
        for key in sorted((a.keys() | b.keys()) - ignored):
            if key not in b:
                problem(name, f"metadata {key} is missing")
            elif key not in a:
                problem(name, f"metadata {key} is not in components/")
            elif a[key].get("value") != b[key].get("value"):
                problem(
                    name, f"metadata {key}={b[key].get('value')!r}, not {a[key].get('value')!r}"
                )
        if is_store and "connectionString" not in b:
            problem(name, "no connectionString")
    findings += _stores_and_scopes(other_components, where)
    return findings


def _stores_and_scopes(components: dict[str, Doc], where: str) -> list[Finding]:
    """Every app has its own store scoped to it alone; only the orchestrator's holds actors."""
    findings: list[Finding] = []
    for app in topology.APPS:
        store = components.get(app.state_store)
        if store is None:
            continue  # reported as missing above
        if store.get("scopes") != [app.app_id]:
            findings.append(
                Finding(
                    "components", f"{where} {app.state_store}", f"not scoped to {app.app_id} alone"
                )
            )
        actor = metadata_items(store).get("actorStateStore", {}).get("value")
        wanted = "true" if app is topology.ORCHESTRATOR else None
        if actor != wanted:
            findings.append(
                Finding("components", f"{where} {app.state_store}", f"actorStateStore={actor!r}")
            )
    pubsub = components.get(topology.PUBSUB_NAME)
    if pubsub and sorted(pubsub.get("scopes", [])) != sorted(a.app_id for a in topology.APPS):
        findings.append(
            Finding("components", f"{where} {topology.PUBSUB_NAME}", "not scoped to every app")
        )
    return findings


def compare_resiliency(
    local: dict[str, Doc], other: dict[str, Doc], where: str, crd_dir: Path
) -> list[Finding]:
    """The same policies as components/, as Dapr reads them (unknown fields dropped)."""
    mine = {
        n: pruned(d, crd_dir)["spec"] for n, d in local.items() if d.get("kind") == "Resiliency"
    }
    theirs = {
        n: pruned(d, crd_dir)["spec"] for n, d in other.items() if d.get("kind") == "Resiliency"
    }
    if mine != theirs:
        return [Finding("components", where, "Resiliency differs from components/resiliency.yaml")]
    return []


def brokers(components: dict[str, Doc]) -> str | None:
    pubsub = components.get(topology.PUBSUB_NAME)
    if pubsub is None:
        return None
    value = metadata_items(pubsub).get("brokers", {}).get("value")
    return str(value) if value is not None else None
