"""The image installs what the lock pins, runs as non-root, and its wheel has every package."""

import re
import tomllib

from deploy.checks.common import Finding, Tree

# Top-level folders with Python code that is not part of the apps' image.
NOT_SHIPPED = {"tests", "deploy"}


def check_dockerfile(tree: Tree) -> list[Finding]:
    text = tree.dockerfile.read_text()
    problems: list[str] = []
    if not re.search(r"(?m)^ARG PYTHON_IMAGE=python:3\.11-slim", text):
        problems.append("the base image is not python:3.11-slim")
    if "requirements.lock" not in text or "pip install --no-deps ." not in text:
        problems.append("does not install from requirements.lock, then the project with --no-deps")
    users = re.findall(r"(?m)^USER\s+(\S+)", text)
    if not users or not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]):
        problems.append(f"the final USER {users[-1:]} is not a numeric non-root user")
    findings = [Finding("dockerfile", "Dockerfile", p) for p in problems]
    pyproject = tomllib.loads((tree.root / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in sorted(p.parent.name for p in tree.root.glob("*/__init__.py")):
        if package not in NOT_SHIPPED and f"{package}*" not in include:
            message = f"package {package!r} is not in the wheel the image installs"
            findings.append(Finding("dockerfile", "pyproject.toml", message))
    return findings
