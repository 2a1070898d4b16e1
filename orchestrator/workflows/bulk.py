"""Bulk orders: each order runs as a child order workflow, at most `concurrency` at a time.

Fan-out with a sliding window: start children until the window is full, then wait for
any one to finish before starting the next; finally fan in every child's result.
"""

import json
from collections.abc import Generator
from typing import Any

from dapr.ext.workflow import DaprWorkflowContext, TaskFailedError, when_any

from contracts.bulk import BulkResult
from contracts.orders import OrderResult, OrderStatus
from orchestrator.workflows.inputs import BulkProgress, BulkWorkflowInput, OrderWorkflowInput
from orchestrator.workflows.order import order_workflow


def bulk_orders(ctx: DaprWorkflowContext, raw_input: dict[str, Any]) -> Generator[Any, Any, Any]:
    bulk = BulkWorkflowInput.model_validate(raw_input)
    window = max(1, bulk.concurrency)
    running: list[tuple[str, Any]] = []
    results: dict[str, OrderResult] = {}
    max_running = 0

    def report() -> None:
        progress = BulkProgress(
            total=len(bulk.orders),
            finished=len(results),
            running=len(running),
            max_running=max_running,
        )
        ctx.set_custom_status(json.dumps(progress.model_dump()))

    def collect(task: Any) -> None:
        order_id = next(order_id for order_id, t in running if t is task)
        running.remove((order_id, task))
        try:
            results[order_id] = OrderResult.model_validate(task.get_result())
        except TaskFailedError as failure:
            results[order_id] = OrderResult(
                order_id=order_id, status=OrderStatus.FAILED, failure_reason=str(failure)
            )

    for order in bulk.orders:
        if len(running) >= window:
            collect((yield when_any([task for _, task in running])))
        child = OrderWorkflowInput(order=order, trace_id=bulk.trace_id, policy=bulk.policy)
        task: Any = ctx.call_child_workflow(
            order_workflow, input=child.model_dump(mode="json"), instance_id=order.order_id
        )
        running.append((order.order_id, task))
        max_running = max(max_running, len(running))
        report()
    while running:
        collect((yield when_any([task for _, task in running])))
        report()
    ordered = [results[order.order_id] for order in bulk.orders]
    return BulkResult(bulk_id=bulk.bulk_id, results=ordered).model_dump(mode="json")
