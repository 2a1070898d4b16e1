"""The previous workflow code: a commit of this repository, exported into a temporary tree."""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fleet.paths import REPO_ROOT

# The release the drill upgrades from: the last commit before the fraud-check patch, so
# the drill exercises a real change of the order workflow. `--base REF` picks another.
BASELINE_FILE = Path(__file__).with_name("BASELINE")
PATCHES_FILE = Path("orchestrator") / "workflows" / "patches.py"
_PATCH = re.compile(r'^(\w+): Final = "([^"]+)"', re.MULTILINE)


class BaselineError(Exception):
    """The baseline cannot be had (the message says why and what to do)."""


@dataclass(frozen=True)
class Baseline:
    commit: str
    subject: str
    tree: Path  # the exported checkout; removed by `remove()`

    def patches(self) -> set[str]:
        return patch_names(self.tree / PATCHES_FILE)

    def remove(self) -> None:
        shutil.rmtree(self.tree, ignore_errors=True)


def patch_names(patches_file: Path) -> set[str]:
    """The workflow patches a tree's code knows (the names `is_patched` is asked for)."""
    if not patches_file.exists():
        return set()
    return {name for _, name in _PATCH.findall(patches_file.read_text())}


def default_ref() -> str:
    lines = [line.split("#")[0].strip() for line in BASELINE_FILE.read_text().splitlines()]
    return next(line for line in lines if line)


def _git(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], stdout=stdout, stderr=subprocess.PIPE, text=True
    )


def export(ref: str) -> Baseline:
    """`git archive` of `ref` into a new temporary folder."""
    resolved = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        hint = " This clone is shallow: `git fetch --unshallow` first." if shallow else ""
        raise BaselineError(f"the baseline {ref!r} is not a commit of this clone.{hint}")
    commit = resolved.stdout.strip()
    subject = _git("log", "-1", "--format=%s", commit).stdout.strip()
    tree = Path(tempfile.mkdtemp(prefix=f"upgrade-drill-{commit[:12]}-"))
    archive = subprocess.Popen(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
    )
    unpacked = subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout)
    if archive.wait() != 0 or unpacked.returncode != 0:
        shutil.rmtree(tree, ignore_errors=True)
        raise BaselineError(f"git archive {commit} into {tree} failed")
    return Baseline(commit=commit, subject=subject, tree=tree)
