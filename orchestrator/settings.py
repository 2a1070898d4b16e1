"""The orchestrator's settings, read once at start-up."""

import os
from dataclasses import dataclass
from pathlib import Path

from fleet import topology


@dataclass(frozen=True)
class OrchestratorSettings:
    app_port: int
    api_host: str
    api_port: int
    read_model_path: Path

    @classmethod
    def from_env(cls) -> "OrchestratorSettings":
        port = os.environ.get("APP_PORT")
        if not port or not port.isdigit():
            raise SystemExit("APP_PORT must be set to the port daprd calls the orchestrator on")
        read_model = os.environ.get("READ_MODEL_PATH")
        if not read_model:
            raise SystemExit("READ_MODEL_PATH must name the orders read model's sqlite file")
        return cls(
            app_port=int(port),
            api_host=os.environ.get("API_HOST", topology.LOOPBACK),
            api_port=int(os.environ.get("API_PORT", topology.API_PORT)),
            read_model_path=Path(read_model),
        )
