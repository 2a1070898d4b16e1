"""Fetches the Kafka broker's classpath and the Zipkin server jar from Maven Central."""

import shutil
import subprocess
from pathlib import Path

from fleet import versions
from fleet.paths import cache_dir
from fleet.provision.errors import failure
from fleet.provision.progress import Progress, progress
from fleet.provision.tools import require

_KAFKA_POM = Path(__file__).parent / "maven" / "kafka-pom.xml"


def kafka_libs(version: str = versions.KAFKA) -> Path:
    return cache_dir() / f"kafka-{version}" / "libs"


def zipkin_jar(version: str = versions.ZIPKIN) -> Path:
    return cache_dir() / f"zipkin-{version}" / f"zipkin-server-{version}-exec.jar"


def ensure_kafka(version: str = versions.KAFKA) -> Path:
    libs = kafka_libs(version)
    if (libs / "COMPLETE").exists():
        return libs
    require("java")
    home = libs.parent
    staging = home / "libs.partial"
    goals = [
        "-f", str(_KAFKA_POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
        f"-DkafkaVersion={version}",
        f"-Dslf4jVersion={versions.SLF4J_BINDING}",
    ]  # fmt: skip
    with progress(f"kafka {version}") as shown:
        _run_maven(goals, home, staging, shown)
        (staging / "COMPLETE").write_text(f"kafka {version}\n")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
    return libs


def ensure_zipkin(version: str = versions.ZIPKIN) -> Path:
    jar = zipkin_jar(version)
    if jar.exists():
        return jar
    require("java")
    home = jar.parent
    staging = home / "partial"
    goals = [
        "dependency:copy",
        f"-Dartifact=io.zipkin:zipkin-server:{version}:jar:exec",
        f"-DoutputDirectory={staging}",
    ]
    with progress(f"zipkin {version}") as shown:
        _run_maven(goals, home, staging, shown)
        (staging / jar.name).rename(jar)
        shutil.rmtree(staging, ignore_errors=True)
    return jar


def _run_maven(goals: list[str], home: Path, staging: Path, shown: Progress) -> None:
    mvn = require("mvn")
    home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
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
