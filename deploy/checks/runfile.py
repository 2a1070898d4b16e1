"""dapr.yaml (the Dapr CLI's multi-app run file) against fleet/topology.py."""

from deploy.checks import local
from deploy.checks.common import Doc, Finding, Tree
from fleet import topology


def check_run_file(run: Doc, tree: Tree) -> list[Finding]:
    findings: list[Finding] = []
    common = run.get("common", {})
    wanted_common = {
        "placementHostAddress": f"{topology.LOOPBACK}:{topology.PLACEMENT_PORT}",
        "schedulerHostAddress": f"{topology.LOOPBACK}:{topology.SCHEDULER_PORT}",
        "configFilePath": "components/config.yaml",
        "resourcesPaths": ["components", "components/sqlite"],
    }
    for key, value in wanted_common.items():
        if common.get(key) != value:
            findings.append(
                Finding("run-file", f"common.{key}", f"{common.get(key)!r}, not {value!r}")
            )
    config = tree.root / str(common.get("configFilePath", ""))
    if not config.is_file():
        findings.append(Finding("run-file", "common.configFilePath", f"{config} does not exist"))
    apps = {str(a.get("appID")): a for a in run.get("apps", [])}
    wanted_ids = {app.app_id for app in topology.APPS}
    for app_id in sorted(apps.keys() - wanted_ids):
        findings.append(Finding("run-file", app_id, "not an app of fleet/topology.py"))
    for app_id in sorted(wanted_ids - apps.keys()):
        findings.append(Finding("run-file", app_id, "missing"))
    for spec in topology.APPS:
        entry = apps.get(spec.app_id)
        if entry is None:
            continue
        merged = {**common, **entry}
        flags = local.sidecar_flags(spec)
        problems = [
            f"the local sidecar runs with {name}, not mapped to a run-file key (checks/local.py)"
            for name in local.unmapped(flags, local.RUN_FILE_KEYS, set())
        ]
        wanted = {local.RUN_FILE_KEYS[f]: v for f, v in flags.items() if f in local.RUN_FILE_KEYS}
        wanted["daprInternalGRPCPort"] = str(spec.dapr_internal_grpc_port)
        wanted["appDirPath"] = "."
        for key, value in wanted.items():
            if str(merged.get(key)) != value:
                problems.append(f"{key}={merged.get(key)!r}, the local fleet has {value!r}")
        env = {**common.get("env", {}), **entry.get("env", {})}
        for key, value in local.app_env(spec).items():
            if key not in local.RUN_FILE_INJECTED_ENV and env.get(key) != value:
                problems.append(f"env {key}={env.get(key)!r}, the local fleet has {value!r}")
        if list(entry.get("command", []))[-2:] != ["-m", spec.module]:
            problems.append(f"command {entry.get('command')} does not run {spec.module}")
        if spec is topology.ORCHESTRATOR and not env.get("READ_MODEL_PATH"):
            problems.append("no READ_MODEL_PATH")
        findings += [Finding("run-file", spec.app_id, p) for p in problems]
    return findings
