"""Fetches the Kafka broker's classpath, Kafka's tools and the Zipkin jar from Maven Central."""

import subprocess
from pathlib import Path

from fleet import versions
from fleet.paths import cache_dir
from fleet.provision.errors import failure
from fleet.provision.progress import Progress, progress
from fleet.provision.staging import is_complete, piece_lock, staged
from fleet.provision.tools import require

_KAFKA_POM = Path(__file__).parent / "maven" / "kafka-pom.xml"
_KAFKA_TOOLS_POM = Path(__file__).parent / "maven" / "kafka-tools-pom.xml"


def kafka_libs(version: str = versions.KAFKA) -> Path:
    return cache_dir() / f"kafka-{version}" / "libs"


def kafka_tools_libs(version: str = versions.KAFKA) -> Path:
    """Kafka's tools and their classpath: only the Kafka image needs them (its health check
    is kafka-broker-api-versions.sh), so they stay out of the local broker's folder."""
    return cache_dir() / f"kafka-tools-{version}" / "libs"


def zipkin_jar(version: str = versions.ZIPKIN) -> Path:
    return cache_dir() / f"zipkin-{version}" / "jar" / f"zipkin-server-{version}-exec.jar"


def kafka_ready(version: str = versions.KAFKA) -> bool:
    return is_complete(kafka_libs(version))


def kafka_tools_ready(version: str = versions.KAFKA) -> bool:
    return is_complete(kafka_tools_libs(version))


def zipkin_ready(version: str = versions.ZIPKIN) -> bool:
    jar = zipkin_jar(version)
    return is_complete(jar.parent) and jar.is_file()


def ensure_kafka(version: str = versions.KAFKA) -> Path:
    libs = kafka_libs(version)
    with piece_lock(libs.parent):
        if kafka_ready(version):
            return libs
        require("java")
        label = f"kafka {version}"
        with progress(label) as shown, staged(libs, label, label) as staging:
            goals = [
                "-f", str(_KAFKA_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
                f"-DkafkaVersion={version}",
                f"-Dslf4jVersion={versions.SLF4J_BINDING}",
            ]  # fmt: skip
            _run_maven(goals, libs.parent, shown)
    return libs


def ensure_kafka_tools(version: str = versions.KAFKA) -> Path:
    libs = kafka_tools_libs(version)
    with piece_lock(libs.parent):
        if kafka_tools_ready(version):
            return libs
        require("java")
        label = f"kafka tools {version}"
        with progress(label) as shown, staged(libs, label, label) as staging:
            goals = [
                "-f", str(_KAFKA_TOOLS_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
                f"-DkafkaVersion={version}",
            ]  # fmt: skip
            _run_maven(goals, libs.parent, shown)
    return libs


def ensure_zipkin(version: str = versions.ZIPKIN) -> Path:
    jar = zipkin_jar(version)
    with piece_lock(jar.parent.parent):
        if zipkin_ready(version):
            return jar
        require("java")
        label = f"zipkin {version}"
        with progress(label) as shown, staged(jar.parent, label, label) as staging:
            goals = [
                "dependency:copy",
                f"-Dartifact=io.zipkin:zipkin-server:{version}:jar:exec",
                f"-DoutputDirectory={staging}",
            ]
            _run_maven(goals, jar.parent.parent, shown)
    return jar


def _run_maven(goals: list[str], home: Path, shown: Progress) -> None:
    mvn = require("mvn")
    log = home / "download.log"
    shown.phase("downloading from Maven Central")
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [mvn, "-B", "--no-transfer-progress", *goals],
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        artifacts = 0
        for line in process.stdout:
            log_file.write(line)
            if "Copying" in line or "Downloaded from" in line:
                artifacts += 1
                shown.detail(f"({artifacts} files)")
        if process.wait() != 0:
            raise failure(f"downloading with Maven ({' '.join(goals[:2])})", log)
