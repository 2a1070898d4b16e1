"""Pinned versions of everything the fleet builds or downloads.

The Dapr runtime is built from Go modules. v1.18.3 depends on module versions the Go
proxy reachable here does not serve (durabletask-go v0.12.4, go-etcd-cron v0.12.7), so
the runtime is v1.18.2, the newest 1.18 release whose whole module graph resolves.
The Python SDK has no 1.18.2 release; 1.18.3 is the same 1.18 line (pyproject.toml).
"""

from typing import Final

DAPR_RUNTIME: Final = "1.18.2"
DAPR_BUILD_TAGS: Final = "allcomponents"
GO_MIN_VERSION: Final = (1, 26, 5)

KAFKA: Final = "4.1.1"
# Kafka 4.1's own slf4j-api is 1.7.x, so the binding must be a 1.7.x one.
SLF4J_BINDING: Final = "1.7.36"
ZIPKIN: Final = "3.6.1"

# The local Kubernetes node (fleet/cluster/), each built from its Go module.
KUBERNETES: Final = "1.37.2"
# kubeadm 1.37 pairs with etcd 3.7; Debian's etcd-server is 3.4, which 1.37 no longer
# tests against (it lacks the watch progress requests the API server's cache uses).
ETCD: Final = "3.7.3"
COREDNS: Final = "1.14.6"
CRI_TOOLS: Final = "1.37.0"

# The bench's peer (bench/peer/): the Temporal CLI, whose `server start-dev` is a whole
# Temporal server on SQLite. v1.9.1 replaces a module with a nested one of its own that
# the Go proxy reachable here does not serve; v1.5.1 carries no replace at all.
TEMPORAL_CLI: Final = "1.5.1"
