"""The node's packet filter rules, and removing every trace of them (ours, kubelet's,
kube-proxy's) without touching anyone else's (a Docker engine's, say).

Ours: one chain, FLEET-K8S-FWD, jumped to first from FORWARD. Pods may talk to each
other through the bridge, and nothing else is forwarded to or from the bridge: pods have
no way off the machine (traffic to the host itself is INPUT, not FORWARD). It also
keeps a Docker engine's FORWARD policy of DROP from cutting pod-to-pod traffic, which
br_netfilter sends through FORWARD.

The kubelet leaves KUBE-* canary chains in iptables; kube-proxy (nftables mode) keeps
everything in its own `kube-proxy` tables.
"""

import shlex
import subprocess
from dataclasses import dataclass

from fleet.cluster import layout as L

CHAIN = "FLEET-K8S-FWD"
COMMENT = "order-fleet-k8s"
OUR_PREFIXES = ("FLEET-K8S", "KUBE-")
BUILTIN_CHAINS = {"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"}
KUBE_PROXY_TABLES = (("ip", "kube-proxy"), ("ip6", "kube-proxy"))


def forward_rules(bridge: str = L.BRIDGE) -> list[list[str]]:
    return [
        ["-i", bridge, "-o", bridge, "-j", "ACCEPT"],
        ["-i", bridge, "-j", "DROP"],
        ["-o", bridge, "-j", "DROP"],
    ]


JUMP = ["-m", "comment", "--comment", COMMENT, "-j", CHAIN]


def _ours(chain: str) -> bool:
    return chain.startswith(OUR_PREFIXES)


@dataclass(frozen=True)
class Table:
    name: str
    chains: dict[str, str]  # chain → policy ("-" for user chains)
    rules: list[list[str]]  # each rule's arguments after `-A`


def parse_save(text: str) -> list[Table]:
    """`iptables-save` output, table by table."""
    tables: list[Table] = []
    current: Table | None = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = Table(line[1:], {}, [])
            tables.append(current)
        elif current is None or line.startswith("#") or line == "COMMIT":
            continue
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            current.chains[name] = policy
        elif line.startswith("-A "):
            current.rules.append(shlex.split(line)[1:])
    return tables


def _target(rule: list[str]) -> str | None:
    for flag in ("-j", "-g"):
        if flag in rule[:-1]:
            return rule[rule.index(flag) + 1]
    return None


def cleanup_commands(text: str) -> list[list[str]]:
    """iptables arguments that remove our chains and every rule that leads into them."""
    commands: list[list[str]] = []
    for table in parse_save(text):
        for rule in table.rules:
            chain, target = rule[0], _target(rule)
            if not _ours(chain) and target is not None and _ours(target):
                commands.append(["-t", table.name, "-D", *rule])
        ours = [c for c in table.chains if _ours(c)]
        commands += [["-t", table.name, "-F", c] for c in ours]
        commands += [["-t", table.name, "-X", c] for c in ours]
    return commands


def is_empty(table: Table) -> bool:
    """No rules and no chains beyond the built-in ones, all accepting."""
    return not table.rules and all(
        name in BUILTIN_CHAINS and policy == "ACCEPT" for name, policy in table.chains.items()
    )


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def install() -> None:
    """Our FORWARD chain, first in FORWARD; idempotent."""
    if _run(["iptables", "-t", "filter", "-n", "-L", CHAIN], check=False).returncode != 0:
        _run(["iptables", "-t", "filter", "-N", CHAIN])
    _run(["iptables", "-t", "filter", "-F", CHAIN])
    for rule in forward_rules():
        _run(["iptables", "-t", "filter", "-A", CHAIN, *rule])
    if _run(["iptables", "-t", "filter", "-C", "FORWARD", *JUMP], check=False).returncode != 0:
        _run(["iptables", "-t", "filter", "-I", "FORWARD", "1", *JUMP])


def nft_tables() -> set[tuple[str, str]]:
    out = _run(["nft", "list", "tables"], check=False).stdout
    return {(p[1], p[2]) for p in (line.split() for line in out.splitlines()) if len(p) == 3}


def remove_all(tables_before: set[tuple[str, str]]) -> list[str]:
    """Removes our rules from iptables and ip6tables, kube-proxy's nftables tables, and
    iptables' own tables if the node created them and they are empty now. Returns what
    could not be removed."""
    problems = []
    for tool in ("iptables", "ip6tables"):
        saved = _run([f"{tool}-save"], check=False).stdout
        for args in cleanup_commands(saved):
            result = _run([tool, *args], check=False)
            if result.returncode != 0:
                problems.append(f"{tool} {' '.join(args)}: {result.stderr.strip()}")
        family = "ip" if tool == "iptables" else "ip6"
        for table in parse_save(_run([f"{tool}-save"], check=False).stdout):
            if (family, table.name) not in tables_before and is_empty(table):
                _run(["nft", "delete", "table", family, table.name], check=False)
    present = nft_tables()
    for family, name in KUBE_PROXY_TABLES:
        if (family, name) in present:
            result = _run(["nft", "delete", "table", family, name], check=False)
            if result.returncode != 0:
                problems.append(f"nft delete table {family} {name}: {result.stderr.strip()}")
    return problems


def leftovers() -> list[str]:
    """Anything of ours still in the packet filter (for `k8s-down`'s final check)."""
    found = []
    for tool in ("iptables", "ip6tables"):
        for table in parse_save(_run([f"{tool}-save"], check=False).stdout):
            found += [f"{tool} -t {table.name} chain {c}" for c in table.chains if _ours(c)]
    found += [f"nft table {f} {n}" for f, n in KUBE_PROXY_TABLES if (f, n) in nft_tables()]
    return found
