"""The runner's start/stop logic on small real processes (no Dapr), in a private FLEET_HOME."""

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet.runner import health, ports, state, supervisor
from fleet.runner.keeper import Keeper
from fleet.runner.specs import ProcessSpec


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _http_server(name: str, stage: int = 0) -> ProcessSpec:
    port = _free_port()
    return ProcessSpec(
        name=name,
        kind="app",
        stage=stage,
        argv=(sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"),
        ports=(port,),
        health=health.http_status(f"http://127.0.0.1:{port}/", 200),
        start_timeout_s=20,
    )


def _crasher(name: str) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        kind="app",
        stage=1,
        argv=(sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"),
        ports=(_free_port(),),
        health=lambda: False,
        start_timeout_s=20,
    )


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_HOME", str(tmp_path))


def test_up_waits_for_health_and_down_leaves_no_process_or_port() -> None:
    specs = [_http_server("a"), _http_server("b", stage=1)]
    started = supervisor.up(specs, announce=False)
    assert started == ["a", "b"]
    pids = {spec.name: state.alive_pid(spec.name) for spec in specs}
    assert all(s.healthy for s in supervisor.status(specs))

    assert supervisor.down(specs, announce=False) == []
    for pid in pids.values():
        assert pid is not None and state.start_ticks(pid) is None
    assert all(ports.is_bindable(port) for spec in specs for port in spec.ports)
    assert [s.state for s in supervisor.status(specs)] == ["down", "down"]


def test_up_again_starts_only_what_is_not_running() -> None:
    specs = [_http_server("a"), _http_server("b", stage=1)]
    try:
        supervisor.up(specs, announce=False)
        assert supervisor.up(specs, announce=False) == []
        victim = state.alive_pid("b")
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        supervisor.reap_children()
        assert [s.state for s in supervisor.status(specs)] == ["healthy", "down"]
        assert supervisor.up(specs, announce=False) == ["b"]
    finally:
        supervisor.down(specs, announce=False)


def test_a_process_dying_at_start_stops_everything_and_shows_its_log() -> None:
    specs = [_http_server("a"), _crasher("broken")]
    with pytest.raises(supervisor.FleetError) as raised:
        supervisor.up(specs, announce=False)
    assert "broken exited during start-up" in str(raised.value)
    assert "boom: bad config" in str(raised.value)
    assert [s.state for s in supervisor.status(specs)] == ["down", "down"]


def test_a_taken_port_is_named_with_its_holder_and_nothing_starts() -> None:
    specs = [_http_server("a"), _http_server("b", stage=1)]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", specs[1].ports[0]))
        squatter.listen()
        with pytest.raises(supervisor.FleetError) as raised:
            supervisor.up(specs, announce=False)
    message = str(raised.value)
    assert f"port {specs[1].ports[0]} (needed by b)" in message
    assert f"pid {os.getpid()}" in message
    assert [s.state for s in supervisor.status(specs)] == ["down", "down"]


def _until(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_keeper_restarts_what_exits_on_its_own_and_leaves_held_or_stopped_ones() -> None:
    died, held, stopped = _http_server("died"), _http_server("held"), _http_server("stopped")
    specs = [died, held, stopped]
    supervisor.up(specs, announce=False)
    keeper = Keeper(specs)

    def swept_until_alive(name: str) -> bool:
        keeper.sweep()
        return state.alive_pid(name) is not None

    first = {spec.name: state.alive_pid(spec.name) for spec in specs}
    try:
        state.hold("held", 60)
        for name in ("died", "held"):
            os.killpg(first[name] or 0, signal.SIGKILL)
        supervisor.down([stopped], announce=False)  # stopped on purpose: stays down
        assert _until(lambda: state.alive_pid("died") is None and state.alive_pid("held") is None)

        assert _until(lambda: swept_until_alive("died"))
        assert state.alive_pid("died") != first["died"] and died.health()
        keeper.sweep()
        assert state.alive_pid("held") is None, "a held process is left to whoever holds it"
        assert state.alive_pid("stopped") is None, "a process stopped on purpose stays down"
        assert keeper.restarts == ["died"]

        state.release("held")
        assert _until(lambda: swept_until_alive("held"))
    finally:
        supervisor.down(specs, announce=False)


def test_the_keeper_backs_off_from_a_process_that_fails_to_start_and_keeps_trying() -> None:
    flaky = _crasher("flaky")
    keeper = Keeper([flaky])
    keeper._retrying.add("flaky")  # it died, and a first restart already failed
    keeper.sweep()
    assert "flaky" in keeper._retrying, "a failed restart is retried later"
    backoff = keeper._backoff["flaky"]
    assert backoff.next_try_at > time.monotonic(), "not retried at once: it backs off"
