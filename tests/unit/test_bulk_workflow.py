import json
from typing import Any

from contracts.orders import OrderStatus
from orchestrator.workflows import bulk as bulk_module
from tests.unit.test_order_workflow import ORDER
from tests.unit.workflow_driver import Failure, drive


def _bulk(count: int, concurrency: int) -> dict[str, Any]:
    orders = [{**ORDER, "order_id": f"b-{n}"} for n in range(count)]
    return {"bulk_id": "bulk-1", "orders": orders, "concurrency": concurrency}


def _child(result_for: dict[str, str] | None = None) -> Any:
    def run(child_input: dict[str, Any]) -> dict[str, Any]:
        order_id = child_input["order"]["order_id"]
        if (result_for or {}).get(order_id) == "fault":
            raise Failure("child crashed")
        return {"order_id": order_id, "status": "COMPLETED", "total": "30.00"}

    return run


def test_every_order_runs_as_a_child_within_the_window_and_results_keep_order() -> None:
    run = drive(
        bulk_module.bulk_orders,
        _bulk(20, concurrency=4),
        {"order_workflow": _child()},
        module=bulk_module,
    )
    assert [c.instance_id for c in run.children] == [f"b-{n}" for n in range(20)]
    assert [r["order_id"] for r in run.output["results"]] == [f"b-{n}" for n in range(20)]
    progress = [json.loads(s) for s in run.context.statuses]
    assert max(p["running"] for p in progress) == 4
    assert progress[-1] == {"total": 20, "finished": 20, "running": 0, "max_running": 4}


def test_a_crashed_child_is_reported_failed_and_the_others_still_finish() -> None:
    run = drive(
        bulk_module.bulk_orders,
        _bulk(5, concurrency=2),
        {"order_workflow": _child({"b-2": "fault"})},
        module=bulk_module,
    )
    statuses = {r["order_id"]: r["status"] for r in run.output["results"]}
    assert statuses["b-2"] == OrderStatus.FAILED
    assert [s for o, s in statuses.items() if o != "b-2"] == [OrderStatus.COMPLETED] * 4
