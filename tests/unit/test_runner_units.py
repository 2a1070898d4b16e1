import os
import socket
import threading
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


def test_a_port_held_by_a_connection_is_waited_for_until_it_frees() -> None:
    # A client socket bound to the port (as an ephemeral local port would be) holds it
    # without listening: the runner waits for it instead of refusing to start.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        port = client.getsockname()[1]
        client.connect(listener.getsockname())
        accepted, _ = listener.accept()
        assert not ports.is_bindable(port)
        assert ports.holder(port) is None
        assert not ports.wait_bindable(port, timeout_s=0.3, every_s=0.05)

        def hang_up() -> None:
            accepted.close()  # the far side closes first: no TIME_WAIT on the client's port
            client.close()

        closer = threading.Timer(0.2, hang_up)
        closer.start()
        assert ports.wait_bindable(port, timeout_s=10.0, every_s=0.05)
        closer.join()


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
