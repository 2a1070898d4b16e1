"""The Docker engine the fleet's containers run in: one that answers, or our own.

`ensure_engine()` uses a daemon that already answers (DOCKER_HOST, our own from an earlier
run, the system's /var/run/docker.sock) and otherwise starts ours: dockerd on a
containerd of its own, with every folder, socket and pidfile of its own, so nothing of
another engine on this machine (a system daemon, a Kubernetes node's containerd) is
shared or touched:

- data (images, volumes, containerd content) under the cache: images survive restarts;
- exec roots, sockets and pidfiles under /run/order-fleet/<key>/ (short paths: unix
  sockets are limited to 108 bytes);
- its own bridge for the default network, and address pools for compose's networks
  that leave docker0's 172.17/16 and the usual Kubernetes ranges alone;
- no iptables rules, no ip_forward or masquerading: published ports go through
  docker-proxy on 127.0.0.1 and containers only talk to each other, so the host's
  firewall and sysctls are left exactly as they were. Image builds that download (pip)
  use the host's network (`docker build --network host`).

`stop_engine()` stops only an engine we started, and removes its bridge and run folder.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fleet.console import say
from fleet.containers import docker_api, packages
from fleet.paths import cache_dir
from fleet.provision.errors import ProvisionError, tail
from fleet.runner.state import start_ticks

SYSTEM_SOCKET = Path("/var/run/docker.sock")
BRIDGE_ADDRESS = "10.213.0.1/24"
ADDRESS_POOL = "base=10.213.128.0/17,size=24"
START_TIMEOUT_S = 60.0
# dockerd gives running containers its --shutdown-timeout, then stops containerd.
SHUTDOWN_TIMEOUT_S = 15
STOP_WAIT_S = SHUTDOWN_TIMEOUT_S + 30.0
_NAMESPACES = ("mnt", "uts", "ipc", "pid", "net")


class EngineError(ProvisionError):
    """No engine could be used or started; the message says what is missing or failed."""


@dataclass(frozen=True)
class Layout:
    """Where our engine keeps everything, derived from the cache folder."""

    home: Path
    run: Path
    bridge: str

    @property
    def data_root(self) -> Path:
        return self.home / "docker"

    @property
    def containerd_root(self) -> Path:
        return self.home / "containerd"

    @property
    def state_file(self) -> Path:
        return self.home / "engine.json"

    @property
    def socket(self) -> Path:
        return self.run / "docker.sock"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"


def layout(home: Path | None = None) -> Layout:
    home = home or cache_dir() / "docker-engine"
    # Two caches (FLEET_CACHE_DIR) get two engines; a key keeps their run folders apart.
    key = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    return Layout(home=home, run=Path("/run/order-fleet") / key, bridge=f"oflt-{key}")


@dataclass(frozen=True)
class Engine:
    socket: Path
    version: str
    ours: bool  # started by this tooling, so ours to stop

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


def dockerd_argv(where: Layout) -> list[str]:
    return [
        packages.BINARIES["dockerd"],
        f"--data-root={where.data_root}",
        f"--exec-root={where.run / 'exec'}",
        f"--pidfile={where.run / 'docker.pid'}",
        f"--host=unix://{where.socket}",
        f"--containerd={where.containerd_socket}",
        # An empty file of our own: /etc/docker/daemon.json belongs to whoever runs the
        # system's daemon.
        f"--config-file={where.home / 'daemon.json'}",
        f"--bridge={where.bridge}",
        f"--default-address-pool={ADDRESS_POOL}",
        "--iptables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        "--userland-proxy=true",
        # Lowering an oom_score_adj needs CAP_SYS_RESOURCE, which root lacks in this VM.
        "--oom-score-adjust=0",
        f"--shutdown-timeout={SHUTDOWN_TIMEOUT_S}",
        "--log-level=warn",
    ]


def containerd_config(where: Layout) -> str:
    # Our own root, state and sockets; no CRI plugin (nothing here is a Kubernetes node),
    # and the opt folder under our home instead of /opt/containerd.
    return "\n".join(
        [
            "version = 2",
            f'root = "{where.containerd_root}"',
            f'state = "{where.run / "containerd"}"',
            "oom_score = 0",
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
            "[grpc]",
            f'  address = "{where.containerd_socket}"',
            '[plugins."io.containerd.internal.v1.opt"]',
            f'  path = "{where.home / "containerd-opt"}"',
            "",
        ]
    )


def preflight() -> list[str]:
    """What this machine lacks to run our engine (empty when it can)."""
    problems = []
    absent = packages.missing_binaries()
    if absent:
        problems.append(
            f"not installed: {', '.join(absent)} (`make provision` installs the Debian "
            f"packages {', '.join(packages.PACKAGES)})"
        )
    if os.geteuid() != 0:
        problems.append("our engine runs as root (a rootless engine is not set up here)")
    lacking = [ns for ns in _NAMESPACES if not Path(f"/proc/self/ns/{ns}").exists()]
    if lacking:
        problems.append(f"the kernel has no {', '.join(lacking)} namespaces")
    cgroups = Path("/sys/fs/cgroup")
    if not cgroups.is_dir() or not any(cgroups.iterdir()):
        problems.append("no cgroup file system is mounted at /sys/fs/cgroup")
    return problems


def find_engine(where: Layout | None = None) -> Engine | None:
    """A daemon that answers now, without starting anything."""
    where = where or layout()
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        if not host.startswith("unix://"):
            raise EngineError(f"DOCKER_HOST={host}: only unix:// sockets are supported")
        socket = Path(host.removeprefix("unix://"))
        info = docker_api.daemon_info(socket)
        if info is None:
            raise EngineError(f"DOCKER_HOST={host} does not answer; unset it to use our own")
        return Engine(socket, info.version, ours=socket == where.socket)
    for socket, ours in ((where.socket, True), (SYSTEM_SOCKET, False)):
        info = docker_api.daemon_info(socket)
        if info is not None:
            return Engine(socket, info.version, ours)
    return None


@contextlib.contextmanager
def _locked(where: Layout) -> Iterator[None]:
    where.home.mkdir(parents=True, exist_ok=True)
    with (where.home / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_engine(where: Layout | None = None) -> tuple[Engine, bool]:
    """The engine to use, and whether this call started it."""
    where = where or layout()
    with _locked(where):
        engine = find_engine(where)
        if engine is not None:
            return engine, False
        return _start(where), True


def _alive(entry: dict[str, int] | None) -> int | None:
    if not entry:
        return None
    pid = entry["pid"]
    return pid if start_ticks(pid) == entry["ticks"] else None


def _load_state(where: Layout) -> dict[str, dict[str, int]]:
    try:
        loaded: dict[str, dict[str, int]] = json.loads(where.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return loaded


def _record(where: Layout, name: str, pid: int) -> None:
    current = _load_state(where)
    current[name] = {"pid": pid, "ticks": start_ticks(pid) or 0}
    where.state_file.write_text(json.dumps(current))


def _launch(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        # Its own session: Ctrl-C on `make compose-up` must not take the engine down.
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _start(where: Layout) -> Engine:
    problems = preflight()
    if problems:
        raise EngineError("cannot start a container engine here: " + "; ".join(problems))
    # Leftovers of an engine that was killed: its processes must be gone first.
    _stop_processes(where)
    for folder in (where.run, where.data_root, where.containerd_root):
        folder.mkdir(parents=True, exist_ok=True)
    where.run.chmod(0o711)
    (where.home / "daemon.json").write_text("{}\n")
    config = where.home / "containerd.toml"
    config.write_text(containerd_config(where))
    _ensure_bridge(where.bridge)
    say(f"[engine] starting our own Docker engine (data in {where.home})")
    started = time.monotonic()
    try:
        containerd = _launch(
            [packages.BINARIES["containerd"], f"--config={config}"], where.home / "containerd.log"
        )
        _record(where, "containerd", containerd.pid)
        _wait_for(lambda: where.containerd_socket.is_socket(), containerd, "containerd", where)
        dockerd = _launch(dockerd_argv(where), where.home / "dockerd.log")
        _record(where, "dockerd", dockerd.pid)
        _wait_for(
            lambda: docker_api.daemon_info(where.socket) is not None, dockerd, "dockerd", where
        )
    except EngineError:
        # Nothing is left running or mounted when the engine cannot start.
        _stop_processes(where)
        _remove_bridge(where.bridge)
        _remove_run_folder(where)
        raise
    info = docker_api.daemon_info(where.socket)
    version = info.version if info else "?"
    say(f"[engine] Docker {version} ready in {time.monotonic() - started:.1f}s on {where.socket}")
    return Engine(where.socket, version, ours=True)


def _wait_for(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], name: str, where: Layout
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    log = where.home / f"{name}.log"
    while not ready():
        if process.poll() is not None:
            raise EngineError(
                f"{name} exited with status {process.returncode} while starting. "
                f"Last lines of {log}:\n{tail(log, 20)}"
            )
        if time.monotonic() > deadline:
            raise EngineError(
                f"{name} did not answer within {START_TIMEOUT_S:.0f}s. "
                f"Last lines of {log}:\n{tail(log, 20)}"
            )
        time.sleep(0.1)  # poll interval of the readiness check


def stop_engine(where: Layout | None = None) -> bool:
    """Stops our engine if it runs; True if something was stopped. Never another engine."""
    where = where or layout()
    with _locked(where):
        stopped = _stop_processes(where)
        _remove_bridge(where.bridge)
        _remove_run_folder(where)
    return stopped


def _stop_processes(where: Layout) -> bool:
    recorded = _load_state(where)
    stopped = False
    # dockerd first: it stops its containers, then lets go of containerd.
    for name in ("dockerd", "containerd"):
        pid = _alive(recorded.get(name))
        if pid is None:
            continue
        stopped = True
        _terminate(pid, name)
    with contextlib.suppress(FileNotFoundError):
        where.state_file.unlink()
    return stopped


def _terminate(pid: int, name: str) -> None:
    ticks = start_ticks(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    while start_ticks(pid) == ticks and ticks is not None:
        if time.monotonic() > deadline:
            say(f"[engine] {name} (pid {pid}) did not stop in {STOP_WAIT_S:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)  # poll interval while the process shuts down
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _ensure_bridge(name: str) -> None:
    if Path(f"/sys/class/net/{name}").exists():
        return
    steps = [
        ["ip", "link", "add", "name", name, "type", "bridge"],
        ["ip", "addr", "add", BRIDGE_ADDRESS, "dev", name],
        ["ip", "link", "set", name, "up"],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True)
        if result.returncode != 0:
            _remove_bridge(name)
            raise EngineError(f"creating our bridge {name} failed: {result.stderr.strip()}")


def _remove_bridge(name: str) -> None:
    if Path(f"/sys/class/net/{name}").exists():
        subprocess.run(["ip", "link", "delete", name], capture_output=True)


def mounts_under(mountinfo: str, roots: list[Path]) -> list[str]:
    """Mount points inside `roots`, deepest first (the order to unmount them in)."""
    prefixes = [str(root).rstrip("/") + "/" for root in roots]
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            # Spaces and other specials are octal-escaped in mountinfo.
            point = fields[4].encode().decode("unicode_escape")
            if any(point.startswith(prefix) for prefix in prefixes):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def _unmount_leftovers(where: Layout) -> None:
    """dockerd leaves its bind mount of the host's network namespace (exec-root/netns/
    default) when it stops, and a killed one its overlay mounts: only ours are removed."""
    roots = [where.run, where.data_root, where.containerd_root]
    for point in mounts_under(Path("/proc/self/mountinfo").read_text(), roots):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True)


def _remove_run_folder(where: Layout) -> None:
    """Our run folder goes; containerd's shim socket folder too, if no other engine uses it."""
    _unmount_leftovers(where)
    for path in sorted(where.run.rglob("*"), reverse=True) if where.run.exists() else []:
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    for folder in (where.run, where.run.parent, Path("/run/containerd/s"), Path("/run/containerd")):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
