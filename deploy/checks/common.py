"""What every check shares: findings, where the files are, YAML loading."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, where, and what is wrong."""

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.message}"


@dataclass(frozen=True)
class Tree:
    """The deploy files of one checkout: the real one, or a copy a test has broken."""

    root: Path

    @property
    def compose(self) -> Path:
        return self.root / "docker-compose.yml"

    @property
    def run_file(self) -> Path:
        return self.root / "dapr.yaml"

    @property
    def dockerfile(self) -> Path:
        return self.root / "Dockerfile"

    @property
    def k8s(self) -> Path:
        return self.root / "deploy" / "k8s"

    @property
    def overlays(self) -> list[Path]:
        examples = self.root / "deploy" / "examples"
        return sorted(p.parent for p in examples.glob("*/kustomization.yaml"))

    @property
    def compose_components(self) -> Path:
        return self.root / "deploy" / "compose" / "components"

    @property
    def local_components(self) -> Path:
        return self.root / "components"

    def local_resources(self, store: str = "sqlite") -> dict[str, "Doc"]:
        """What a local sidecar loads: components/ and the profile's stores beside it."""
        return {
            **load_dir(self.local_components),
            **load_dir(self.local_components / store),
        }

    @property
    def local_resource_files(self) -> list[Path]:
        folder = self.local_components
        return sorted([*folder.glob("*.yaml"), *folder.glob("*/*.yaml")])

    @property
    def schemas(self) -> Path:
        return self.root / "deploy" / "schemas"

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def load_yaml(path: Path) -> Doc:
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return doc


def load_all(text: str) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]


def load_dir(folder: Path) -> dict[str, Doc]:
    """Dapr resources of a folder, by name (as daprd's --resources-path reads them)."""
    docs: dict[str, Doc] = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in load_all(path.read_text()):
            docs[doc["metadata"]["name"]] = doc
    return docs


def name_of(doc: Doc) -> str:
    return f"{doc.get('kind', '?')}/{doc.get('metadata', {}).get('name', '?')}"


def of_kind(docs: Iterable[Doc], kind: str) -> Iterator[Doc]:
    return (doc for doc in docs if doc.get("kind") == kind)


def metadata_items(component: Doc) -> dict[str, Doc]:
    """A Dapr component's metadata entries by name."""
    return {item["name"]: item for item in component.get("spec", {}).get("metadata", [])}


def flag(argv: list[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` in a command line."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None
