import os
import socket
from pathlib import Path

import pytest

from fleet.runner import ports, state


def test_holder_names_the_process_listening_on_a_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not ports.is_bindable(port)
        assert ports.holder(port) is not None
        assert f"pid {os.getpid()}" in (ports.holder(port) or "")
    assert ports.is_bindable(port)


def test_state_tells_a_live_pid_from_a_reused_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_HOME", str(tmp_path))
    state.record("me", os.getpid())
    assert state.alive_pid("me") == os.getpid()
    entries = state.load()
    state.save({"me": state.Started(os.getpid(), entries["me"].start_ticks + 1)})
    assert state.alive_pid("me") is None
    state.forget("me")
    assert state.load() == {}
