"""Every piece the fleet builds or downloads, for what it is needed, and how to get it.

Provisioning is a step of its own (`make provision`, and the first thing `make run` and
`make test` do): it builds what is missing, showing each phase and its elapsed time, and
no test timeout applies to it. Everything else only *locates* pieces: a test fixture or a
check that finds one missing fails at once with the command that provisions it, and never
starts a build.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from fleet import versions
from fleet.console import say
from fleet.containers import images, packages
from fleet.provision import (
    compose_plugin,
    coredns,
    crictl,
    dapr,
    dapr_control_plane,
    debian,
    etcd,
    kubernetes,
    kustomize,
    maven,
    pause,
    temporal,
)
from fleet.provision.errors import ProvisionError
from fleet.provision.progress import format_elapsed

# What a piece is for: `make run`, `make test` (the tiers it runs today), `make compose-up`,
# `make k8s-up`, `make bench PEER=...` (the peer engine compared with the fleet). make test
# provisions only what its tiers use, so nothing is built for nothing.
Purpose = Literal["run", "test", "compose", "k8s", "bench"]
PROVISION_COMMAND = "make provision"


@dataclass(frozen=True)
class Piece:
    name: str
    version: str
    purposes: frozenset[Purpose]
    ready: Callable[[], bool]
    ensure: Callable[[], object]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def _postgres_installed() -> bool:
    from fleet.runner.postgres_setup import bin_dir

    return bin_dir() is not None


RUN_AND_TEST: frozenset[Purpose] = frozenset({"run", "test"})
TEST_ONLY: frozenset[Purpose] = frozenset({"test"})
# The k8s tier of make test runs on the node.
NODE: frozenset[Purpose] = frozenset({"k8s", "test"})
# The compose tier of make test runs on the images.
CONTAINERS: frozenset[Purpose] = frozenset({"compose", "k8s", "test"})
# Only the bench's side-by-side comparison (bench/peer/): never make run or make test.
BENCH_ONLY: frozenset[Purpose] = frozenset({"bench"})

PIECES: tuple[Piece, ...] = (
    Piece("kafka", versions.KAFKA, RUN_AND_TEST, maven.kafka_ready, maven.ensure_kafka),
    Piece("zipkin", versions.ZIPKIN, RUN_AND_TEST, maven.zipkin_ready, maven.ensure_zipkin),
    Piece("dapr", versions.DAPR_RUNTIME, RUN_AND_TEST, dapr.is_built, dapr.ensure_dapr),
    Piece(
        "kustomize", kustomize.KUSTOMIZE, TEST_ONLY, kustomize.is_built, kustomize.ensure_kustomize
    ),
    # The scaled profile's database (make up SCALE=N), from Debian's packages.
    Piece("postgresql", "Debian", RUN_AND_TEST, _postgres_installed, debian.ensure_postgresql),
    # The local Kubernetes node (fleet/cluster/, `make k8s-up`).
    Piece("debian-node-packages", "bookworm", NODE, debian.is_installed, debian.ensure_packages),
    *(
        Piece(go.name, go.version, NODE, go.is_built, go.ensure)
        for go in (kubernetes.piece(), etcd.piece(), coredns.piece(), crictl.piece())
    ),
    Piece("pause", versions.KUBERNETES, NODE, pause.is_built, pause.ensure_pause),
    # Containers (docker compose now, Kubernetes next): never needed by `make run`.
    Piece(
        "container-engine",
        packages.ENGINE,
        CONTAINERS,
        packages.is_installed,
        packages.ensure_packages,
    ),
    Piece(
        "kafka-tools", versions.KAFKA, CONTAINERS, maven.kafka_tools_ready, maven.ensure_kafka_tools
    ),
    Piece(
        "dapr-control-plane",
        versions.DAPR_RUNTIME,
        CONTAINERS,
        dapr_control_plane.is_built,
        dapr_control_plane.ensure_control_plane,
    ),
    Piece(
        "compose",
        compose_plugin.COMPOSE,
        CONTAINERS,
        compose_plugin.is_built,
        compose_plugin.ensure_compose,
    ),
    # Last: built from the pieces above, in an engine started for the build if none runs.
    Piece("images", "local", CONTAINERS, images.ready, images.ensure_images),
    # The bench's peer engine (make bench PEER=temporal).
    Piece("temporal", versions.TEMPORAL_CLI, BENCH_ONLY, temporal.is_built, temporal.ensure),
)


class MissingPiece(ProvisionError):
    """A piece is not in the cache; the message gives the command that provisions it."""


def piece(name: str) -> Piece:
    for candidate in PIECES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no piece {name!r}; the pieces are {[p.name for p in PIECES]}")


def for_purpose(purpose: Purpose | None) -> list[Piece]:
    return [p for p in PIECES if purpose is None or purpose in p.purposes]


def missing(names: Iterable[str]) -> list[Piece]:
    return [p for p in map(piece, names) if not p.ready()]


def require_pieces(names: Iterable[str]) -> None:
    """Raises MissingPiece, naming the command to run, unless every piece is provisioned."""
    absent = missing(names)
    if absent:
        raise MissingPiece(
            f"not provisioned: {', '.join(p.label for p in absent)}. "
            f"Run `{PROVISION_COMMAND}` first (it builds and downloads what is missing, "
            "with progress; tests never do)."
        )


def provision(pieces: list[Piece]) -> dict[str, float]:
    """Ensures every piece, in order; returns seconds spent per piece built or fetched."""
    began = time.monotonic()
    todo = [p for p in pieces if not p.ready()]
    cached = [p.label for p in pieces if p not in todo]
    say(
        f"[provision] {len(pieces)} pieces: "
        + (f"cached {', '.join(cached)}" if cached else "none cached")
        + (f"; to build or download: {', '.join(p.label for p in todo)}" if todo else "")
    )
    spent: dict[str, float] = {}
    for n, item in enumerate(todo, start=1):
        say(f"[provision] {n}/{len(todo)} {item.label}")
        started = time.monotonic()
        item.ensure()
        spent[item.label] = time.monotonic() - started
    say(f"[provision] all {len(pieces)} pieces ready in {format_elapsed(time.monotonic() - began)}")
    return spent
