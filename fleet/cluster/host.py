"""What the node changes on the host besides processes and rules: an address, a route,
mounts, network namespaces, links and cgroups; each with its undo.

The pure parts (which mounts to unmount, in which order) are separate from the calls.
"""

import contextlib
import ipaddress
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleet.cluster import layout as L

NODE_ADDRESS = f"{L.NODE_IP}/32"
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Fixed places the node's components write to, whatever their configured folders: the
# kubelet's log symlinks, containerd's shim sockets, libcni's result cache.
CONTAINER_LOG_LINKS = Path("/var/log/containers")
CONTAINERD_RUN_DIR = Path("/run/containerd")
CNI_CACHE_DIR = Path("/var/lib/cni")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


# ---- the node's address and the Service route -------------------------------------


def add_node_address() -> None:
    """The node's address on lo: local to the host, reachable from pods, and no further."""
    if not has_node_address():
        _ip("addr", "add", NODE_ADDRESS, "dev", "lo")


def has_node_address() -> bool:
    out = _ip("-j", "addr", "show", "dev", "lo").stdout
    return any(
        a.get("local") == L.NODE_IP for link in json.loads(out) for a in link.get("addr_info", [])
    )


def remove_node_address() -> None:
    if has_node_address():
        _ip("addr", "del", NODE_ADDRESS, "dev", "lo")


def add_service_route() -> None:
    """Service addresses route to lo: kube-proxy rewrites them before they leave, and an
    address it has no rule for goes nowhere instead of to the default gateway."""
    _ip("route", "replace", L.SERVICE_CIDR, "dev", "lo", "src", L.NODE_IP)


def remove_service_route() -> None:
    _ip("route", "del", L.SERVICE_CIDR, "dev", "lo", check=False)


def has_service_route() -> bool:
    return bool(_ip("route", "show", L.SERVICE_CIDR, check=False).stdout.strip())


# ---- network conflicts ---------------------------------------------------------------


def overlaps(
    ours: Iterable[str], addresses: Iterable[tuple[str, str]], routes: Iterable[tuple[str, str]]
) -> list[str]:
    """Host addresses (device, cidr) and routes (destination, device) that meet the node's
    networks, leaving out the node's own (its bridge, its address on lo, its route)."""
    networks = [ipaddress.ip_network(n) for n in ours]
    found = []
    for device, cidr in addresses:
        interface = ipaddress.ip_interface(cidr)
        if device == L.BRIDGE or (device == "lo" and str(interface.ip) == L.NODE_IP):
            continue
        if any(interface.network.overlaps(n) for n in networks):
            found.append(f"address {cidr} on {device}")
    for destination, device in routes:
        if destination == "default" or device in (L.BRIDGE, "lo"):
            continue
        network = ipaddress.ip_network(destination, strict=False)
        if any(network.overlaps(n) for n in networks):
            found.append(f"route {destination} via {device}")
    return found


def network_conflicts() -> list[str]:
    addresses = [
        (link["ifname"], f"{a['local']}/{a['prefixlen']}")
        for link in json.loads(_ip("-j", "addr").stdout)
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    ]
    routes = [(r["dst"], r.get("dev", "")) for r in json.loads(_ip("-j", "route").stdout)]
    return overlaps(L.NODE_NETWORKS, addresses, routes)


# ---- mounts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    mount_id: int
    parent_id: int
    point: str
    optional: str  # e.g. "shared:12"


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    return field.encode().decode("unicode_escape")


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        separator = fields.index("-")
        mounts.append(
            Mount(
                int(fields[0]), int(fields[1]), _unescape(fields[4]), " ".join(fields[6:separator])
            )
        )
    return mounts


def under(point: str, roots: Iterable[Path]) -> bool:
    return any(point == str(r) or point.startswith(str(r).rstrip("/") + "/") for r in roots)


def unmount_order(mounts: list[Mount], roots: Iterable[Path]) -> list[str]:
    """Mount points under the roots, children before parents (later mounts first)."""
    roots = list(roots)
    ours = [m for m in mounts if under(m.point, roots)]
    # Deeper paths first; among equal paths (stacked mounts) the latest first.
    ours.sort(key=lambda m: (m.point.count("/"), m.mount_id), reverse=True)
    return [m.point for m in ours]


def mounts() -> list[Mount]:
    return parse_mountinfo(Path("/proc/self/mountinfo").read_text())


def make_rshared(directory: Path) -> None:
    """The kubelet's root must propagate mounts (volumes appear inside containers), and
    this machine's / is private: bind the folder onto itself and make that shared."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = [m for m in mounts() if m.point == str(directory)]
    if not existing:
        subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    subprocess.run(["mount", "--make-rshared", str(directory)], check=True)


def unmount_under(roots: Iterable[Path]) -> list[str]:
    """Unmounts everything below the roots; returns what would not go."""
    stuck = []
    for point in unmount_order(mounts(), roots):
        result = subprocess.run(["umount", point], capture_output=True, text=True)
        if result.returncode != 0:
            # Lazy as a last resort: a busy mount goes once its last user closes it.
            lazy = subprocess.run(["umount", "-l", point], capture_output=True, text=True)
            if lazy.returncode != 0:
                stuck.append(f"{point}: {result.stderr.strip()}")
    return stuck


# ---- network namespaces and links ---------------------------------------------------


def remove_netns(paths: Iterable[str]) -> list[str]:
    """Pod network namespaces containerd left behind (normally none)."""
    stuck = []
    for path in paths:
        if not Path(path).exists():
            continue
        subprocess.run(["umount", path], capture_output=True)
        try:
            Path(path).unlink()
        except OSError as error:
            stuck.append(f"{path}: {error}")
    return stuck


def links_on_bridge(bridge: str = L.BRIDGE) -> list[str]:
    out = _ip("-j", "link", "show", "master", bridge, check=False).stdout
    return [link["ifname"] for link in json.loads(out)] if out.strip() else []


def link_exists(name: str) -> bool:
    return _ip("link", "show", name, check=False).returncode == 0


def remove_bridge(bridge: str = L.BRIDGE) -> None:
    for veth in links_on_bridge(bridge):
        _ip("link", "del", veth, check=False)
    if link_exists(bridge):
        _ip("link", "del", bridge, check=False)


def bridges() -> list[str]:
    out = _ip("-j", "link", "show", "type", "bridge", check=False).stdout
    return [link["ifname"] for link in json.loads(out)] if out.strip() else []


def new_bridges_in_use(known: Iterable[str], bridge: str = L.BRIDGE) -> list[str]:
    """Bridges with ports that were not there when the node came up (and are not ours).

    A bridge that existed while forwarding was still off does not need it; one that
    appeared while the node had it on may (a Docker engine sets it once, at start)."""
    seen = set(known) | {bridge}
    return [b for b in bridges() if b not in seen and links_on_bridge(b)]


# ---- cgroups -------------------------------------------------------------------------


def kubepods_cgroups(root: Path = CGROUP_ROOT) -> list[Path]:
    """The kubelet's cgroup trees, one per v1 controller (`kubepods` under each)."""
    return sorted(p for p in root.glob("*/kubepods") if p.is_dir())


def remove_cgroup_tree(top: Path) -> list[str]:
    """rmdir deepest first; a cgroup with processes in it refuses, and is reported."""
    stuck = []
    directories = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
    for directory in [*directories, top]:
        try:
            directory.rmdir()
        except FileNotFoundError:
            pass
        except OSError as error:
            stuck.append(f"{directory}: {error.strerror}")
    return stuck


# ---- the kubelet's /var/log/containers links ---------------------------------------


def remove_container_log_links(pod_logs: Path, created_dir: bool) -> None:
    if not CONTAINER_LOG_LINKS.is_dir():
        return
    for link in CONTAINER_LOG_LINKS.iterdir():
        with contextlib.suppress(OSError):
            if link.is_symlink() and str(link.readlink()).startswith(str(pod_logs)):
                link.unlink()
    if created_dir:
        with contextlib.suppress(OSError):
            CONTAINER_LOG_LINKS.rmdir()


def remove_cni_cache(network: str = L.CNI_NETWORK) -> None:
    """libcni's cached results for our network (normally gone with each pod's DEL)."""
    for cached in (CNI_CACHE_DIR / "results").glob(f"{network}-*"):
        cached.unlink(missing_ok=True)


def remove_empty_tree(top: Path) -> bool:
    """rmdir a folder the node created, if nothing but empty folders is left in it."""
    if not top.is_dir():
        return True
    for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            directory.rmdir()
        except OSError:
            return False
    try:
        top.rmdir()
    except OSError:
        return False
    return True
