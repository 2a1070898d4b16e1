"""What the local runner gives each app and sidecar (fleet/runner/specs.py), and how each
setting is spelt in the other ways of running the fleet.

A flag or variable the runner adds must appear in compose, dapr.yaml and the manifests
too, or be listed here as belonging to one place (an address, a path, a listen address).
"""

from fleet import topology
from fleet.runner import specs

# Flags whose value depends on where daprd runs; each deploy file sets its own.
PLACE_SPECIFIC_FLAGS = {
    "--app-channel-address",
    "--dapr-internal-grpc-port",
    "--dapr-internal-grpc-listen-address",
    "--dapr-listen-addresses",
    "--metrics-listen-address",
    "--placement-host-address",
    "--scheduler-host-address",
    "--resources-path",
    "--config",
    # mTLS: the platform's own Sentry (Kubernetes control plane, `dapr init` locally).
    "--enable-mtls",
    "--sentry-address",
    "--control-plane-trust-domain",
}
# Kubernetes: the sidecar injector fixes the sidecar's own ports and the apps' DAPR_*_PORT.
K8S_FIXED_FLAGS = {"--dapr-http-port", "--dapr-grpc-port", "--metrics-port"}
K8S_ANNOTATIONS = {
    "--app-id": "dapr.io/app-id",
    "--app-port": "dapr.io/app-port",
    "--app-protocol": "dapr.io/app-protocol",
    "--log-level": "dapr.io/log-level",
    "--max-body-size": "dapr.io/max-body-size",
}
RUN_FILE_KEYS = {
    "--app-id": "appID",
    "--app-port": "appPort",
    "--app-protocol": "appProtocol",
    "--dapr-http-port": "daprHTTPPort",
    "--dapr-grpc-port": "daprGRPCPort",
    "--metrics-port": "metricsPort",
    "--log-level": "logLevel",
    "--max-body-size": "maxBodySize",
}
# Environment variables that hold a path or a network address (they differ by place).
PLACE_SPECIFIC_ENV = {"READ_MODEL_PATH", "READ_MODEL_URL", "ZIPKIN_ENDPOINT"}
# Whose tokens the API accepts: each place has its own issuer (or a real one).
PLACE_SPECIFIC_ENV |= {"API_AUTH_JWKS", "API_AUTH_JWKS_URL", "API_AUTH_ISSUER"}
# Credentials: their values differ by place and must come from a secret (checked apart).
SECRET_ENV = {"DAPR_API_TOKEN", "APP_API_TOKEN"}
K8S_INJECTED_ENV = {"DAPR_HTTP_PORT", "DAPR_GRPC_PORT"}
RUN_FILE_INJECTED_ENV = {"APP_ID", "APP_PORT", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT"}


def sidecar_flags(app: topology.AppSpec) -> dict[str, str]:
    """The flags every sidecar of this app must run with, wherever it runs."""
    flags: dict[str, str] = specs.sidecar_flags(app)
    return {k: v for k, v in flags.items() if k not in PLACE_SPECIFIC_FLAGS}


def app_env(app: topology.AppSpec) -> dict[str, str]:
    env: dict[str, str] = specs.app_env(app)
    return {k: v for k, v in env.items() if k not in PLACE_SPECIFIC_ENV | SECRET_ENV}


def unmapped(flags: dict[str, str], mapping: dict[str, str], fixed: set[str]) -> list[str]:
    return sorted(set(flags) - set(mapping) - fixed)
