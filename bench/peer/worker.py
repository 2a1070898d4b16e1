"""The peer's worker process: `python -m bench.peer.worker`, started by bench/peer/runtime.py.

Environment: TEMPORAL_ADDRESS (the dev server's frontend), PEER_TASK_QUEUE, PEER_WORKLOAD
(`saga` or `floor`) and PEER_OUT (a file: a `ready` line once polling, and the floor's
milestones); for the saga also the Dapr client's DAPR_* variables (the orchestrator's
sidecar). Stops on SIGTERM, letting running activities finish.
"""

import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.floor_worker import READY, Recorder
from bench.peer.activities import FloorActivities, saga_activities
from bench.peer.workflows import PeerFloor, PeerOrder, PeerShipmentMonitor

SAGA = "saga"
FLOOR = "floor"


def activity_slots() -> int:
    """As many sync activities at once as the Dapr SDK runs by default (a thread pool of
    cpu_count + 4), so both engines get the same: the floors' no-ops are sync."""
    return (os.cpu_count() or 1) + 4


def async_activity_slots() -> int:
    """As many async activities at once as the Dapr SDK allows by default (100 work items
    per CPU): the saga's activities are the fleet's, which are async."""
    return 100 * (os.cpu_count() or 1)


def worker_for(client: Client, workload: str, queue: str, recorder: Recorder) -> Worker:
    executor = ThreadPoolExecutor(max_workers=activity_slots(), thread_name_prefix="peer-activity")
    workflows: list[type[Any]]
    if workload == SAGA:
        workflows, activities = [PeerOrder, PeerShipmentMonitor], saga_activities()
        slots = async_activity_slots()
    elif workload == FLOOR:
        workflows, activities = [PeerFloor], [FloorActivities(recorder).noop]
        slots = activity_slots()
    else:
        raise SystemExit(f"PEER_WORKLOAD must be {SAGA} or {FLOOR}, not {workload!r}")
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        activities=activities,
        activity_executor=executor,
        max_concurrent_activities=slots,
    )


async def serve(out: Path) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    with out.open("a") as handle:
        recorder = Recorder(handle)
        worker = worker_for(
            client, os.environ["PEER_WORKLOAD"], os.environ["PEER_TASK_QUEUE"], recorder
        )
        async with worker:
            recorder.record("-", READY)
            sys.stderr.write("peer worker ready\n")
            await stopping.wait()
    sys.stderr.write("peer worker stopped\n")


def main() -> None:
    asyncio.run(serve(Path(os.environ["PEER_OUT"])))


if __name__ == "__main__":
    main()
