"""Every container of every workload is locked down, probed and bounded."""

from deploy.checks.common import Doc, Finding, name_of

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def check_workloads(docs: list[Doc]) -> list[Finding]:
    findings: list[Finding] = []
    for doc in docs:
        if doc.get("kind") not in WORKLOADS:
            continue
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        pod_context = pod.get("securityContext", {})
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod.get("containers", []):
            where = f"{name_of(doc)} container {container.get('name')}"
            findings += [
                Finding("hardening", where, p) for p in _container(container, pod_context, volumes)
            ]
    return findings


def _container(container: Doc, pod_context: Doc, volumes: dict[str, Doc]) -> list[str]:
    problems: list[str] = []
    context = container.get("securityContext", {})
    if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
        problems.append("runAsNonRoot is not set")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if "ALL" not in context.get("capabilities", {}).get("drop", []):
        problems.append("capabilities are not all dropped")
    for probe in ("readinessProbe", "livenessProbe"):
        if not container.get(probe):
            problems.append(f"no {probe}")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        if not {"cpu", "memory"} <= resources.get(kind, {}).keys():
            problems.append(f"no cpu and memory {kind}")
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
        problems.append("no writable emptyDir at /tmp")
    return problems
