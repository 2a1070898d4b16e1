"""The orchestrator's settings, read once at start-up."""

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from fleet import topology
from orchestrator.workflows.inputs import OrderPolicy


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SystemExit(f"{name} must be positive, got {raw}")
    return value


def _money(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise SystemExit(f"{name}={raw!r} is not an amount") from None
    if value <= 0:
        raise SystemExit(f"{name} must be positive, got {raw}")
    return value


@dataclass(frozen=True)
class OrchestratorSettings:
    app_port: int
    api_host: str
    api_port: int
    # A sqlite file path, or a postgresql:// URL shared by every replica.
    read_model: str
    policy: OrderPolicy
    bulk_concurrency: int

    @classmethod
    def from_env(cls) -> "OrchestratorSettings":
        port = os.environ.get("APP_PORT")
        if not port or not port.isdigit():
            raise SystemExit("APP_PORT must be set to the port daprd calls the orchestrator on")
        if not os.environ.get("APP_API_TOKEN"):
            # Without it anyone on the host could post to the app channel past the sidecar.
            raise SystemExit("APP_API_TOKEN must be set (the token this app's sidecar sends)")
        read_model = os.environ.get("READ_MODEL_URL") or os.environ.get("READ_MODEL_PATH")
        if not read_model:
            raise SystemExit(
                "READ_MODEL_URL (postgresql://…, shared by every replica) or READ_MODEL_PATH "
                "(a sqlite file, one replica) must say where the orders read model lives"
            )
        return cls(
            app_port=int(port),
            api_host=os.environ.get("API_HOST", topology.LOOPBACK),
            api_port=int(os.environ.get("API_PORT", topology.API_PORT)),
            read_model=read_model,
            policy=OrderPolicy(
                approval_threshold=_money("APPROVAL_THRESHOLD", "1000.00"),
                approval_timeout_s=_positive("APPROVAL_TIMEOUT_S", 24 * 3600),
                fraud_check_threshold=_money("FRAUD_CHECK_THRESHOLD", "500.00"),
                delivery_deadline_s=_positive("DELIVERY_DEADLINE_S", 600),
                monitor_poll_s=_positive("MONITOR_POLL_S", 1.0),
            ),
            bulk_concurrency=int(_positive("BULK_CONCURRENCY", 5)),
        )
