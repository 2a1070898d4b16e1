"""Pausing and restarting single fleet processes from tests (real signals, real restarts)."""

import contextlib
import dataclasses
import os
import signal
from collections.abc import Iterator

from fleet.runner import state, supervisor
from fleet.runner.specs import ProcessSpec


@contextlib.contextmanager
def paused(name: str) -> Iterator[None]:
    """SIGSTOPs a process for the block: it holds its ports but answers nothing."""
    pid = state.alive_pid(name)
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def restarted_with_env(specs: list[ProcessSpec], name: str, **env: str) -> Iterator[None]:
    """Restarts one process with extra environment for the block, then restores it."""
    [original] = [spec for spec in specs if spec.name == name]
    changed = dataclasses.replace(original, env={**original.env, **env})
    supervisor.down([original], announce=False)
    supervisor.up([changed], announce=False)
    try:
        yield
    finally:
        supervisor.down([changed], announce=False)
        supervisor.up([original], announce=False)
