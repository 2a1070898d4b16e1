"""Settings every service app reads once at start-up, from the environment the runner sets."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSettings:
    app_id: str
    app_port: int

    @classmethod
    def from_env(cls, default_app_id: str) -> "ServiceSettings":
        app_id = os.environ.get("APP_ID", default_app_id)
        if app_id != default_app_id:
            raise SystemExit(f"APP_ID={app_id!r} does not match this app ({default_app_id!r})")
        port = os.environ.get("APP_PORT")
        if not port or not port.isdigit():
            raise SystemExit("APP_PORT must be set to the port daprd calls this app on")
        if not os.environ.get("APP_API_TOKEN"):
            # Without it anyone on the host could call the app past its sidecar.
            raise SystemExit("APP_API_TOKEN must be set (the token this app's sidecar sends)")
        return cls(app_id=app_id, app_port=int(port))
