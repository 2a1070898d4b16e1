"""Every image `make images` builds: what it is made of, the version it carries, and the
official image it stands in for on this machine (no registry is reachable here).

The deploy files name official images (apache/kafka:4.1.1, daprio/daprd:1.18.2, ...);
the local build maps those names to these images (fleet/containers/mapping.py). The
order below is a build order: every image comes after the images it is built FROM.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fleet import versions
from fleet.containers.rootfs import RECIPES, RootfsSpec
from fleet.paths import REPO_ROOT
from fleet.provision import dapr, dapr_control_plane, maven

REGISTRY = "orderfleet.local"
INPUTS_LABEL = "org.orderfleet.inputs"
POSTGRES_MAJOR = "15"  # Debian bookworm's
POSTGRES_OFFICIAL = "postgres:17.6"  # what docker-compose.yml and deploy/k8s name
BUSYBOX_OFFICIAL = "busybox:1.37"
PYTHON_OFFICIAL = "python:3.11-slim-bookworm"  # the Dockerfile's default PYTHON_IMAGE
FLEET_TAG = "order-fleet:local"  # what docker-compose.yml runs


@dataclass(frozen=True)
class ImageSpec:
    name: str
    version: str
    # Image references this image stands in for in the deploy files.
    official: tuple[str, ...] = ()
    # Made from Debian packages: the root file system and the instructions applied at import.
    rootfs: RootfsSpec | None = None
    changes: tuple[str, ...] = ()
    # Built with a Dockerfile: deploy/images/<recipe>/ (or the repository for the fleet).
    recipe: str | None = None
    context_root: Path | None = None
    # Build arguments naming the images this one is built FROM.
    parents: dict[str, str] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    # Files put into the build context next to the recipe: name in context -> host path.
    extra_files: Callable[[], dict[str, Path]] | None = None
    extra_tags: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"{REGISTRY}/{self.name}:{self.version}"

    @property
    def tags(self) -> tuple[str, ...]:
        return (self.tag, *self.extra_tags)

    @property
    def dockerfile(self) -> Path:
        if self.context_root is not None:
            return self.context_root / "Dockerfile"
        assert self.recipe is not None
        return RECIPES / self.recipe / "Dockerfile"


def project_version() -> str:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return str(pyproject["project"]["version"])


def _dapr_binary(name: str) -> Callable[[], dict[str, Path]]:
    def files() -> dict[str, Path]:
        if name in dapr.COMMANDS:
            return {name: getattr(dapr.binaries(), name)}
        return {name: getattr(dapr_control_plane.binaries(), name)}

    return files


def _kafka_files() -> dict[str, Path]:
    """The broker's classpath, plus the tools' jars it does not have already."""
    jars = {f"libs/{jar.name}": jar for jar in sorted(maven.kafka_libs().glob("*.jar"))}
    for jar in sorted(maven.kafka_tools_libs().glob("*.jar")):
        jars.setdefault(f"libs/{jar.name}", jar)
    return jars


def _zipkin_files() -> dict[str, Path]:
    return {"zipkin.jar": maven.zipkin_jar()}


_UTF8 = "ENV LANG=C.UTF-8"
_PATH = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PYTHON_ROOTFS = RootfsSpec(
    "python",
    "essential",
    # venv and its pip wheel (the Dockerfile runs `python -m venv`), passwd for useradd,
    # libstdc++ for C++ wheels (grpcio), as python:3.11-slim has them.
    (
        "python3.11-minimal",
        "libpython3.11-stdlib",
        "python3.11-venv",
        "libstdc++6",
        "ca-certificates",
        "tzdata",
        "passwd",
    ),
    customize_hooks=("customize.sh",),
    host_cas=True,
)
JRE_ROOTFS = RootfsSpec(
    "jre",
    "essential",
    ("openjdk-17-jre-headless", "ca-certificates", "tzdata", "passwd"),
)
POSTGRES_ROOTFS = RootfsSpec(
    "postgres",
    "essential",
    (f"postgresql-{POSTGRES_MAJOR}", "tzdata"),
    essential_hooks=("essential.sh",),
)
BUSYBOX_ROOTFS = RootfsSpec(
    "busybox", "extract", ("busybox-static",), customize_hooks=("customize.sh",)
)

DAPR_IMAGES = ("daprd", "placement", "scheduler", "sentry", "operator", "injector")


def images() -> list[ImageSpec]:
    dapr_version = versions.DAPR_RUNTIME
    return [
        ImageSpec(
            "python",
            "3.11",
            official=(PYTHON_OFFICIAL,),
            rootfs=PYTHON_ROOTFS,
            changes=(_UTF8, _PATH, 'CMD ["python3"]'),
        ),
        ImageSpec("jre", "17", rootfs=JRE_ROOTFS, changes=(_UTF8, _PATH, 'CMD ["bash"]')),
        ImageSpec(
            "busybox",
            "1.35",
            official=(BUSYBOX_OFFICIAL,),
            rootfs=BUSYBOX_ROOTFS,
            changes=("ENV PATH=/bin", 'CMD ["sh"]'),
        ),
        ImageSpec(
            "postgres-base",
            POSTGRES_MAJOR,
            rootfs=POSTGRES_ROOTFS,
            changes=(_UTF8, _PATH, 'CMD ["bash"]'),
        ),
        ImageSpec(
            "postgres",
            POSTGRES_MAJOR,
            official=(POSTGRES_OFFICIAL,),
            recipe="postgres",
            parents={"ROOTFS_IMAGE": "postgres-base"},
            build_args={"PG_MAJOR": POSTGRES_MAJOR},
        ),
        # Certificates and time zones from the JRE's root, which trusts Debian's CAs only.
        ImageSpec("static", "bookworm", recipe="static", parents={"DEBIAN_IMAGE": "jre"}),
        *(
            ImageSpec(
                name,
                dapr_version,
                official=(f"daprio/{name}:{dapr_version}", f"ghcr.io/dapr/{name}:{dapr_version}"),
                recipe="dapr",
                parents={"STATIC_IMAGE": "static"},
                build_args={"BINARY": name},
                extra_files=_dapr_binary(name),
            )
            for name in DAPR_IMAGES
        ),
        ImageSpec(
            "kafka",
            versions.KAFKA,
            official=(f"apache/kafka:{versions.KAFKA}",),
            recipe="kafka",
            parents={"JRE_IMAGE": "jre"},
            extra_files=_kafka_files,
        ),
        ImageSpec(
            "zipkin",
            versions.ZIPKIN,
            official=(f"openzipkin/zipkin:{versions.ZIPKIN}",),
            recipe="zipkin",
            parents={"JRE_IMAGE": "jre"},
            extra_files=_zipkin_files,
        ),
        ImageSpec(
            "order-fleet",
            project_version(),
            context_root=REPO_ROOT,
            parents={"PYTHON_IMAGE": "python"},
            extra_tags=(FLEET_TAG,),
        ),
    ]


def by_name() -> dict[str, ImageSpec]:
    return {image.name: image for image in images()}
