"""What goes into each image, and the content key that names it.

An image's key covers its build context (recipe files, the jars or binaries put beside
them, or for the fleet image the repository paths its Dockerfile copies), its build
arguments and import instructions, its root file system's key, and its parents' keys:
changing any input rebuilds that image and every image built FROM it, nothing else.
"""

import shlex
from pathlib import Path

from fleet.containers.catalog import ImageSpec
from fleet.containers.hashing import Memo, inputs_hash, tree_files
from fleet.containers.rootfs import RECIPES, rootfs_key


def dockerfile_copy_sources(text: str) -> list[str]:
    """Paths of the build context that COPY and ADD read (not those copied between stages)."""
    sources: list[str] = []
    for line in _instructions(text):
        words = shlex.split(line, comments=False)
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        arguments = words[1:]
        if any(a.startswith("--from") for a in arguments):
            continue
        paths = [a for a in arguments if not a.startswith("--")]
        sources += paths[:-1]
    return sources


def _instructions(text: str) -> list[str]:
    """Dockerfile lines with continuations joined and comments dropped."""
    joined: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    if current:
        joined.append(current)
    return joined


def context_files(spec: ImageSpec) -> dict[str, Path]:
    """Every file of the image's build context, by its name in the context."""
    if spec.context_root is not None:
        root = spec.context_root
        files = {"Dockerfile": spec.dockerfile}
        ignore = root / ".dockerignore"
        if ignore.is_file():
            files[".dockerignore"] = ignore
        for source in dockerfile_copy_sources(spec.dockerfile.read_text()):
            for path in tree_files(root / source):
                files[str(path.relative_to(root))] = path
        return files
    assert spec.recipe is not None
    recipe = RECIPES / spec.recipe
    files = {str(path.relative_to(recipe)): path for path in tree_files(recipe)}
    if spec.extra_files is not None:
        files.update(spec.extra_files())
    return files


def image_keys(specs: list[ImageSpec], memo: Memo | None = None) -> dict[str, str]:
    """Each image's key, in build order (a parent's key feeds its children's)."""
    memo = memo or Memo()
    keys: dict[str, str] = {}
    for spec in specs:
        values = {
            "version": spec.version,
            "tags": ",".join(spec.tags),
            "changes": "\n".join(spec.changes),
            **{f"arg {k}": v for k, v in spec.build_args.items()},
            **{f"parent-arg {k}": v for k, v in spec.parents.items()},
        }
        files: dict[str, Path] = {}
        if spec.rootfs is not None:
            values["rootfs"] = rootfs_key(spec.rootfs, memo)
        else:
            files = context_files(spec)
        parents = [keys[parent] for parent in spec.parents.values()]
        keys[spec.name] = inputs_hash(files, values, parents, memo)
    return keys
