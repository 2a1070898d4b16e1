"""The floor's workflow app: a workflow of N no-op activities on its own sidecar.

Run as `python -m bench.floor_worker` by bench.floor, with the sidecar's ports in the
environment like any Dapr app, and FLOOR_OUT naming a file. The activity at position
`mark` and the last one append `<instance>\\t<milestone>\\t<time.monotonic()>` to it:
that is how the bench counts completions without asking the sidecar per workflow.
"""

import os
import signal
import sys
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, TextIO

from dapr.ext.workflow import DaprWorkflowContext, WorkflowActivityContext, WorkflowRuntime

FLOOR_WORKFLOW = "floor_workflow"
READY = "ready"


class Recorder:
    """Appends one line per milestone, whole lines only, from any activity thread."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._lock = threading.Lock()

    def record(self, key: str, milestone: str) -> None:
        line = f"{key}\t{milestone}\t{time.monotonic():.6f}\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()


_recorder: Recorder | None = None


def noop(ctx: WorkflowActivityContext, step: dict[str, int]) -> None:
    """Does nothing and calls nobody; records the two milestones the bench measures."""
    if _recorder is None:
        return
    if step["i"] == step["n"]:
        _recorder.record(ctx.workflow_id, "completed")
    elif step["i"] == step["mark"]:
        _recorder.record(ctx.workflow_id, "sync")


def floor_workflow(ctx: DaprWorkflowContext, spec: dict[str, int]) -> Generator[Any, Any, int]:
    """`activities` no-op activities one after the other, like the saga's sequential steps."""
    total = spec["activities"]
    for i in range(1, total + 1):
        yield ctx.call_activity(noop, input={"i": i, "n": total, "mark": spec["mark"]})
    return total


def build_runtime() -> WorkflowRuntime:
    # Default concurrency, like the orchestrator's runtime: the floor is the runtime as shipped.
    runtime = WorkflowRuntime(worker_ready_timeout=120.0)
    runtime.register_workflow(floor_workflow, name=FLOOR_WORKFLOW)
    runtime.register_activity(noop, name=noop.__name__)
    return runtime


def main() -> None:
    global _recorder
    # No logging set-up of our own: the SDK logs as it does by default, and no more.
    out = Path(os.environ["FLOOR_OUT"])
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with out.open("a") as handle:
        _recorder = Recorder(handle)
        runtime = build_runtime()
        runtime.start()
        _recorder.record("-", READY)
        sys.stderr.write("floor worker ready\n")
        stopping.wait()
        runtime.shutdown()
        sys.stderr.write("floor worker stopped\n")


if __name__ == "__main__":
    main()
