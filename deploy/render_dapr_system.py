"""Renders deploy/dapr-system/ from the Dapr chart that ships inside the dapr Go module.

A dev-time action (`make dapr-system`), not part of `make test`: the rendered YAML is
committed, so users apply plain manifests (`kubectl apply -k deploy/dapr-system`) and
never need Helm. The chart is rendered by Helm's own engine (deploy/dapr-system/render,
a small Go program on the helm library), offline, with deploy/dapr-system/values.yaml;
this module splits the result into one file per component, adds the namespace and the
kustomization, and stamps each file with where it came from.

    python -m deploy.render_dapr_system [--check]
"""

import argparse
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from fleet import versions
from fleet.console import say
from fleet.paths import REPO_ROOT, cache_dir
from fleet.provision import gomodule
from fleet.provision.dapr import DAPR_MODULE
from fleet.provision.tools import require_go

OUT = REPO_ROOT / "deploy" / "dapr-system"
RENDERER = OUT / "render"
VALUES = OUT / "values.yaml"
NAMESPACE = "dapr-system"
# The control plane's images; the sidecar's (daprd) is the injector's SIDECAR_IMAGE.
IMAGES = ("operator", "placement", "scheduler", "sentry", "injector")


def header(version: str) -> str:
    return (
        f"# Rendered from charts/dapr of {DAPR_MODULE}@v{version} with values.yaml by\n"
        "# deploy/render_dapr_system.py (`make dapr-system`). Do not edit: change values.yaml\n"
        "# and render again.\n"
    )


def component_file(template: str) -> str | None:
    """`dapr/charts/dapr_sidecar_injector/templates/x.yaml` → `sidecar-injector.yaml`."""
    parts = template.split("/")
    if len(parts) < 4 or parts[1] != "charts" or not parts[-1].endswith(".yaml"):
        return None  # NOTES.txt, helpers and the parent chart's partials render nothing
    return parts[2].removeprefix("dapr_").replace("_", "-") + ".yaml"


MANAGED_BY = "app.kubernetes.io/managed-by"


def without_helm_labels(node: Any) -> Any:
    """Drops `app.kubernetes.io/managed-by: Helm` wherever it is (labels, selectors alike,
    so they still match): these manifests are not managed by Helm. The chart's values
    cannot remove it (its label map is merged, not replaced)."""
    if isinstance(node, dict):
        return {
            k: without_helm_labels(v)
            for k, v in node.items()
            if not (k == MANAGED_BY and v == "Helm")
        }
    if isinstance(node, list):
        return [without_helm_labels(v) for v in node]
    return node


def documents(text: str) -> list[dict[str, Any]]:
    return [
        without_helm_labels(doc)
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict) and doc.get("kind")
    ]


def group(templates: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Objects per output file, in template order (stable across renders)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for template in sorted(templates):
        name = component_file(template)
        docs = documents(templates[template]) if name else []
        if name and docs:
            files.setdefault(name, []).extend(docs)
    return files


def namespace_manifest() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "dapr"}},
    }


def kustomization(crds: Iterable[str], components: Iterable[str], version: str) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["namespace.yaml", *crds, *components],
        # Point these at your registry (`kustomize edit set image`, or an overlay). The
        # sidecar image is not a pod image here but the injector's SIDECAR_IMAGE
        # variable: an overlay patches that (fleet/cluster/dapr_overlay.py does).
        "images": [
            {"name": f"ghcr.io/dapr/{image}", "newName": f"ghcr.io/dapr/{image}", "newTag": version}
            for image in IMAGES
        ],
    }


def dump(docs: list[dict[str, Any]], version: str) -> str:
    return header(version) + yaml.safe_dump_all(docs, sort_keys=False, width=100)


def render_files(rendered: dict[str, dict[str, str]], version: str) -> dict[str, str]:
    """Every file of deploy/dapr-system/ (relative path → content) from the renderer's output."""
    files: dict[str, str] = {"namespace.yaml": dump([namespace_manifest()], version)}
    crd_files = []
    for path in sorted(rendered["crds"]):
        name = "crds/" + Path(path).name
        crd_files.append(name)
        files[name] = header(version) + rendered["crds"][path].lstrip("-\n")
    components = group(rendered["templates"])
    for name, docs in components.items():
        files[name] = dump(docs, version)
    files["kustomization.yaml"] = (
        "# kubectl apply -k deploy/dapr-system   (the Dapr control plane, no Helm needed)\n"
        + header(version)
        + yaml.safe_dump(kustomization(crd_files, sorted(components), version), sort_keys=False)
    )
    return files


def renderer_binary() -> Path:
    """The renderer, built once per version of its sources (helm compiles for minutes)."""
    digest = hashlib.sha256(
        b"".join((RENDERER / name).read_bytes() for name in ("go.mod", "go.sum", "main.go"))
    ).hexdigest()[:16]
    binary = cache_dir() / f"dapr-chart-render-{digest}" / "render"
    if not binary.is_file():
        say("building the chart renderer (helm's engine; a few minutes, once)")
        binary.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [require_go(), "build", "-trimpath", "-o", str(binary), "."],
            cwd=RENDERER, env=gomodule.go_env(), check=True,
        )  # fmt: skip
    return binary


def run_renderer(version: str) -> dict[str, dict[str, str]]:
    go = require_go()
    log = OUT / ".render.log"
    with log.open("w") as log_file:
        (module,) = gomodule.download(go, [f"{DAPR_MODULE}@v{version}"], log_file, log)
    log.unlink()
    chart = module.dir / "charts" / "dapr"
    result = subprocess.run(
        [str(renderer_binary()), f"-chart={chart}", f"-values={VALUES}",
         f"-namespace={NAMESPACE}", f"-kube-version=v{versions.KUBERNETES}"],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"the renderer failed:\n{result.stderr}")
    rendered: dict[str, dict[str, str]] = json.loads(result.stdout)
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are not current")
    args = parser.parse_args(argv)
    version = versions.DAPR_RUNTIME
    files = render_files(run_renderer(version), version)
    stale = [
        n for n, text in files.items() if not (OUT / n).is_file() or (OUT / n).read_text() != text
    ]
    if args.check:
        say("deploy/dapr-system is current" if not stale else f"stale: {stale}")
        return 1 if stale else 0
    keep = {"values.yaml", "README.md"}
    for old in list(OUT.glob("*.yaml")) + list(OUT.glob("crds/*.yaml")):
        if old.relative_to(OUT).as_posix() not in files and old.name not in keep:
            old.unlink()
    for name, text in files.items():
        (OUT / name).parent.mkdir(parents=True, exist_ok=True)
        (OUT / name).write_text(text)
    say(f"wrote {len(files)} files to {OUT.relative_to(REPO_ROOT)} ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
