"""Schema validation: Kubernetes objects, Dapr resources, the compose file and dapr.yaml.

- Kubernetes kinds: the OpenAPI schemas shipped in kubernetes-validate, strict variant
  (unknown fields are errors, as with `kubectl apply --validate=strict`).
- Dapr resources: the CRD schemas of the pinned Dapr runtime, vendored in
  deploy/schemas/dapr-<version>/ (origin in deploy/schemas/README.md). A CRD's structural
  schema prunes unknown fields silently; here they are errors, so a misspelt field is caught.
- docker-compose.yml: the Compose Specification schema, vendored from compose-go.
- dapr.yaml: deploy/schemas/dapr-run-file.schema.json, written from the Dapr CLI's run-file
  types (see that file's description).
"""

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from deploy.checks.common import Doc, Finding, name_of
from fleet import versions

# Oldest and newest Kubernetes minor versions the manifests must be valid for.
KUBERNETES_VERSIONS = ("1.33", "1.37")
_K8S_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META = f"{_K8S_DEFINITIONS}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def dapr_crd_dir(schemas: Path) -> Path:
    return schemas / f"dapr-{versions.DAPR_RUNTIME}"


def _path(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(top)"


def validate_kubernetes(docs: list[Doc], schemas: Path, source: str) -> list[Finding]:
    findings: list[Finding] = []
    dapr = dapr_validators(dapr_crd_dir(schemas))
    for doc in docs:
        where = f"{source} {name_of(doc)}"
        if str(doc.get("apiVersion", "")).startswith("dapr.io/"):
            findings += validate_dapr(doc, dapr, where)
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                message = f"{_path(error.path)}: {error.message} (Kubernetes {version})"
                findings.append(Finding("k8s-schema", where, message))
            except kubernetes_validate.SchemaNotFoundError as error:
                findings.append(Finding("k8s-schema", where, error.message))
    return findings


def validate_dapr(
    doc: Doc, validators: dict[str, Draft202012Validator], where: str
) -> list[Finding]:
    key = f"{doc.get('apiVersion')} {doc.get('kind')}"
    validator = validators.get(key)
    if validator is None:
        known = ", ".join(sorted(validators))
        message = f"no Dapr {versions.DAPR_RUNTIME} CRD serves {key} (known: {known})"
        return [Finding("dapr-schema", where, message)]
    return [
        Finding("dapr-schema", where, f"{_path(error.absolute_path)}: {error.message}")
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]


@cache
def dapr_crd_schemas(crd_dir: Path) -> dict[str, Doc]:
    """The openAPIV3Schema of every served `apiVersion kind` of the vendored Dapr CRDs."""
    if not crd_dir.is_dir():
        raise FileNotFoundError(
            f"no vendored Dapr CRDs in {crd_dir}: copy charts/dapr/crds/ of the Dapr module "
            f"(see deploy/schemas/README.md)"
        )
    schemas: dict[str, Doc] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())["spec"]
        for version in spec["versions"]:
            if version.get("served"):
                key = f"{spec['group']}/{version['name']} {spec['names']['kind']}"
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


@cache
def dapr_validators(crd_dir: Path) -> dict[str, Draft202012Validator]:
    """One validator per served `apiVersion kind`, unknown fields being errors."""
    registry = _kubernetes_definitions() @ Registry()
    validators: dict[str, Draft202012Validator] = {}
    for key, crd_schema in dapr_crd_schemas(crd_dir).items():
        schema = _strict(crd_schema)
        schema["properties"]["metadata"] = {"$ref": _OBJECT_META}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
        validators[key] = Draft202012Validator(schema, registry=registry)
    return validators


def pruned(doc: Doc, crd_dir: Path) -> Doc:
    """A Dapr resource as Dapr reads it: fields its CRD does not know are dropped."""
    schema = dapr_crd_schemas(crd_dir).get(f"{doc.get('apiVersion')} {doc.get('kind')}")
    result: Doc = _prune(doc, schema) if schema else doc
    return result


def _prune(node: Any, schema: Doc) -> Any:
    if isinstance(node, list):
        return [_prune(item, schema.get("items", {})) for item in node]
    if not isinstance(node, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return node
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    out = {}
    for key, value in node.items():
        if properties is not None and key in properties:
            out[key] = _prune(value, properties[key])
        elif isinstance(extra, dict):
            out[key] = _prune(value, extra)
        elif properties is None:
            out[key] = value
    return out


def _strict(node: Any) -> Any:
    """An OpenAPI v3 structural schema where unknown fields are errors instead of pruned."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def _kubernetes_definitions() -> Resource:
    """ObjectMeta and friends, from the same schemas that validate the Kubernetes kinds."""
    newest = KUBERNETES_VERSIONS[-1]
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / f"v{newest}.0-local-strict" / "_definitions.json").read_text()
    return Resource.from_contents(json.loads(text))


def validate_with(schema_file: Path, doc: Doc, check: str, where: str) -> list[Finding]:
    schema = json.loads(schema_file.read_text())
    validator = Draft202012Validator(schema)
    return [
        Finding(check, where, f"{_path(error.absolute_path)}: {error.message}")
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]


def validate_compose(doc: Doc, schemas: Path, where: str) -> list[Finding]:
    return validate_with(
        schemas / "compose-spec" / "compose-spec.json", doc, "compose-schema", where
    )


def validate_run_file(doc: Doc, schemas: Path, where: str) -> list[Finding]:
    return validate_with(schemas / "dapr-run-file.schema.json", doc, "run-file-schema", where)
