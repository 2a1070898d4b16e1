"""Signals to a fleet process and everything it spawned (its process group)."""

import os
import signal


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Every process the runner starts leads its own group (a new session), so one signal
    reaches it and its children; a process already gone is no error."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)
