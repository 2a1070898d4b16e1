"""Exports the JSON Schema of every message the fleet publishes or accepts.

Consumers in other languages generate their types from `contracts/schemas/*.json`;
`python -m contracts.schemas` rewrites them and a unit test fails when they drift.
"""

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from contracts.approvals import ApprovalDecision
from contracts.bulk import BulkOrderRequest
from contracts.deadletter import DeadLetter
from contracts.events import EVENT_MODELS
from contracts.orders import OrderRequest

SCHEMA_DIR = Path(__file__).parent / "schemas"


def _file_name(model: type[BaseModel]) -> str:
    event_type = model.model_fields.get("type")
    if event_type is not None and event_type.default is not None:
        return f"{event_type.default.value}.json"
    return f"{model.__name__}.json"


def rendered() -> dict[str, str]:
    models: list[type[BaseModel]] = [
        OrderRequest,
        BulkOrderRequest,
        ApprovalDecision,
        DeadLetter,
        *EVENT_MODELS,
    ]
    return {
        _file_name(model): json.dumps(model.model_json_schema(mode="serialization"), indent=2)
        + "\n"
        for model in models
    }


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    wanted = rendered()
    for stale in set(p.name for p in SCHEMA_DIR.glob("*.json")) - set(wanted):
        (SCHEMA_DIR / stale).unlink()
    for name, text in wanted.items():
        (SCHEMA_DIR / name).write_text(text)
    sys.stdout.write(f"wrote {len(wanted)} schemas to {SCHEMA_DIR}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
