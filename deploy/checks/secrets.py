"""No secret value in any deploy file: secrets come from secretKeyRef, envRef or ${VAR}."""

import re
from pathlib import Path
from typing import Any

import yaml

from deploy.checks.common import Finding, Tree

SECRET_NAME = re.compile(
    r"password|passwd|secret|token|api[_-]?key|credential|private[_-]?key|access[_-]?key", re.I
)
# Keys whose values name a place, not a secret: the sidecar injector's token annotations
# name the Kubernetes Secret that holds the token, a secret volume names its Secret
# (deploy/dapr-system mounts dapr-trust-bundle).
NOT_SECRET_VALUES = {
    "secretName",
    "secretStore",
    "storeName",
    "dapr.io/api-token-secret",
    "dapr.io/app-token-secret",
}
INLINE_PASSWORD = re.compile(r"(?i)\b(?:password|pwd)\s*=\s*([^\s;'\"]+)")
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:([^@\s/]+)@")
TOKEN_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
)


def deploy_files(tree: Tree) -> list[Path]:
    files = [tree.compose, tree.run_file, tree.dockerfile, tree.root / ".dockerignore"]
    deploy = tree.root / "deploy"
    files += [p for p in sorted(deploy.rglob("*")) if p.is_file() and "schemas" not in p.parts]
    return [p for p in files if p.is_file() and p.suffix != ".py"]


def is_reference(value: str) -> bool:
    """An interpolation that the environment fills in (compose `${VAR}`, `$(VAR)`)."""
    return value.startswith(("${", "$("))


def scan(tree: Tree) -> list[Finding]:
    findings: list[Finding] = []
    for path in deploy_files(tree):
        text = path.read_text()
        where = tree.rel(path)
        findings += [Finding("secrets", where, m) for m in scan_text(text)]
        if path.suffix in (".yaml", ".yml"):
            for doc in yaml.safe_load_all(text):
                findings += [Finding("secrets", where, m) for m in scan_yaml(doc)]
    return findings


def scan_text(text: str) -> list[str]:
    problems: list[str] = []
    for match in INLINE_PASSWORD.finditer(text):
        if not is_reference(match.group(1)):
            problems.append(f"a literal password in {match.group(0)!r}")
    for match in URL_CREDENTIALS.finditer(text):
        if not is_reference(match.group(1)):
            problems.append("credentials in a URL")
    problems += [
        f"something shaped like a key or token: {m.group(0)[:12]}…"
        for m in TOKEN_SHAPES.finditer(text)
    ]
    return problems


def scan_yaml(node: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(node, dict):
        if node.get("kind") == "Secret" and (node.get("data") or node.get("stringData")):
            problems.append(f"{path or 'a'} Secret with values (create Secrets out of band)")
        name = node.get("name")
        if isinstance(name, str) and SECRET_NAME.search(name) and _literal(node.get("value")):
            problems.append(f"{path}: {name} has a literal value (use secretKeyRef)")
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if SECRET_NAME.search(str(key)) and key not in NOT_SECRET_VALUES and _literal(value):
                problems.append(f"{child} has a literal value")
            problems += scan_yaml(value, child)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            problems += scan_yaml(item, f"{path}[{index}]")
    return problems


def _literal(value: Any) -> bool:
    return (
        isinstance(value, str | int)
        and not isinstance(value, bool)
        and str(value) != ""
        and not is_reference(str(value))
    )
