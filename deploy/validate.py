"""Validates every deploy file offline: `python -m deploy.validate` (make validate-deploy).

Schemas: Kubernetes objects (kubernetes-validate's OpenAPI schemas), Dapr resources (the
vendored CRDs of the pinned Dapr runtime), docker-compose.yml (the Compose Specification),
dapr.yaml (the CLI's run-file format). Consistency: app ids, ports, protocols, components,
topics and subscriptions agree with fleet/topology.py, contracts/topics.py, components/ and
the apps' own subscriptions. Secrets: none in any file. Exit status 1 names every problem.
"""

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy.checks.common import Doc, Finding, Tree, load_all, load_yaml
from deploy.checks.components import LOCAL_ONLY_TYPES, compare_components
from deploy.checks.compose import check_compose, check_compose_components
from deploy.checks.dockerfile import check_dockerfile
from deploy.checks.kubernetes import check_kubernetes, check_overlay
from deploy.checks.kustomize import RenderError, render
from deploy.checks.runfile import check_run_file
from deploy.checks.schemas import (
    dapr_crd_dir,
    dapr_validators,
    validate_compose,
    validate_dapr,
    validate_kubernetes,
    validate_run_file,
)
from deploy.checks.secrets import scan
from fleet.paths import REPO_ROOT


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Worth knowing, but about files the deploy files only mirror (components/).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def validate(root: Path = REPO_ROOT) -> Report:
    tree = Tree(root)
    report = Report()

    def guarded(section: str, check: Callable[[], list[Finding]]) -> None:
        """A file that is missing or malformed is a finding, not a crash."""
        try:
            report.findings += check()
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RenderError) as error:
            report.findings.append(Finding(section, "-", f"could not check: {error!r}"))

    guarded("compose", lambda: _compose(tree, report))
    guarded("run-file", lambda: _run_file(tree, report))
    guarded("k8s", lambda: _kubernetes(tree, report))
    guarded("secrets", lambda: scan(tree))
    guarded("dockerfile", lambda: check_dockerfile(tree))
    guarded("components", lambda: _local_components(tree, report))
    return report


def _local_components(tree: Tree, report: Report) -> list[Finding]:
    """components/ is mirrored, not owned here: fields Dapr ignores there are notes."""
    validators = dapr_validators(dapr_crd_dir(tree.schemas))
    for path in tree.local_resource_files:
        for doc in load_all(path.read_text()):
            report.notes += [
                f"{f.where}: {f.message}" for f in validate_dapr(doc, validators, tree.rel(path))
            ]
    # The scaled profile's stores mirror the single profile's, on PostgreSQL.
    scaled = {
        name: doc
        for name, doc in tree.local_resources("postgres").items()
        if doc.get("spec", {}).get("type") not in LOCAL_ONLY_TYPES
    }
    return compare_components(tree.local_resources("sqlite"), scaled, "components/postgres")


def _compose(tree: Tree, report: Report) -> list[Finding]:
    compose = load_yaml(tree.compose)
    findings = validate_compose(compose, tree.schemas, tree.rel(tree.compose))
    findings += check_compose(compose, tree)
    findings += check_compose_components(tree, set(compose.get("services", {})))
    validators = dapr_validators(dapr_crd_dir(tree.schemas))
    resources = 0
    for path in sorted(tree.compose_components.glob("*.yaml")):
        for doc in load_all(path.read_text()):
            resources += 1
            findings += validate_dapr(doc, validators, tree.rel(path))
    report.counts["compose services"] = len(compose.get("services", {}))
    report.counts["compose Dapr resources"] = resources
    return findings


def _run_file(tree: Tree, report: Report) -> list[Finding]:
    run = load_yaml(tree.run_file)
    report.counts["dapr.yaml apps"] = len(run.get("apps", []))
    return validate_run_file(run, tree.schemas, tree.rel(tree.run_file)) + check_run_file(run, tree)


def _kubernetes(tree: Tree, report: Report) -> list[Finding]:
    base = render(tree.k8s)
    report.counts["k8s objects"] = len(base)
    findings = validate_kubernetes(base, tree.schemas, tree.rel(tree.k8s))
    findings += check_kubernetes(base, tree)
    for overlay in tree.overlays:
        docs: list[Doc] = render(overlay)
        report.counts[f"{tree.rel(overlay)} objects"] = len(docs)
        findings += validate_kubernetes(docs, tree.schemas, tree.rel(overlay))
        findings += check_overlay(base, docs, tree.rel(overlay))
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="checkout to validate")
    args = parser.parse_args(argv)
    started = time.monotonic()
    report = validate(args.root)
    elapsed = time.monotonic() - started
    out = sys.stdout
    for note in report.notes:
        out.write(f"note {note}\n")
    for finding in report.findings:
        out.write(f"FAIL {finding}\n")
    counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
    verdict = "valid" if report.ok else f"{len(report.findings)} problem(s)"
    out.write(f"deploy files {verdict}: {counts} ({elapsed:.1f}s)\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
