"""The read model on a real PostgreSQL, as the scaled profile runs it: one projection that
several replicas share, a lease for the sweeper, and a server that restarts under it."""

import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from contracts.events import (
    ApprovalRequested,
    OrderAccepted,
    OrderCompleted,
    OrderEventType,
    event_id,
)
from contracts.orders import OrderStatus
from fleet.runner import health, postgres_setup, state, supervisor
from fleet.runner.specs import ProcessSpec
from orchestrator.readmodel import STARTED, ReadModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD = "integration-" + uuid.uuid4().hex[:8]

pytestmark = pytest.mark.skipif(
    postgres_setup.bin_dir() is None, reason="Debian's PostgreSQL server is not installed"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[ProcessSpec]:
    # Not under pytest's tmp (mode 0700): the server's own account must reach its files.
    home = Path(tempfile.mkdtemp(prefix="fleet-pg-"))
    home.chmod(0o755)
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEET_HOME", str(home))
        data, sockets = home / "data", home / "sockets"
        spec = ProcessSpec(
            name="postgres",
            kind="infra",
            stage=0,
            argv=(
                *postgres_setup.as_server_account(),
                str(postgres_setup.server_binary()),
                "-D",
                str(data),
                "-k",
                str(sockets),
                "-p",
                str(port),
            ),
            ports=(port,),
            health=lambda: postgres_setup.answers(PASSWORD, port),
            cwd=Path("/"),
            prepare=lambda: postgres_setup.prepare_postgres(PASSWORD, data, sockets, port),
            start_timeout_s=120,
        )
        supervisor.up([spec], announce=False)
        try:
            yield spec
        finally:
            supervisor.down([spec], announce=False)
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def url(server: ProcessSpec) -> str:
    port = server.ports[0]
    # A fresh schema per test: every test starts from empty tables.
    schema = f"t_{uuid.uuid4().hex[:10]}"
    import psycopg

    with psycopg.connect(postgres_setup.url(PASSWORD, port), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return postgres_setup.url(PASSWORD, port) + f"&options=-csearch_path%3D{schema}"


def _accepted(order_id: str, sequence: int = 1) -> OrderAccepted:
    return OrderAccepted(
        order_id=order_id, sequence=sequence, occurred_at=T0, status=OrderStatus.RUNNING,
        customer_id="c-1", lines=[], total=Decimal("10.00"),
    )  # fmt: skip


def _completed(order_id: str, sequence: int) -> OrderCompleted:
    return OrderCompleted(
        order_id=order_id, sequence=sequence, occurred_at=T0 + timedelta(seconds=sequence),
        status=OrderStatus.COMPLETED, total=Decimal("10.00"),
    )  # fmt: skip


def _id(event: OrderAccepted | OrderCompleted) -> str:
    return event_id(event.order_id, event.sequence, event.type)


def test_two_replicas_share_one_projection_and_apply_each_event_once(url: str) -> None:
    first, second = ReadModel(url), ReadModel(url)
    events = [(o, s) for o in ("o-1", "o-2", "o-3") for s in (1, 2)]
    batch = [(_id(e), e) for e in (_accepted(o) if s == 1 else _completed(o, s) for o, s in events)]
    applied: list[int] = []
    # Both get the same batch at once, as after a consumer-group rebalance.
    threads = [
        threading.Thread(target=lambda m=m: applied.append(m.apply_many(batch)))
        for m in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(applied) == [0, 6], "each event applied once, whichever replica got it"
    for model in (first, second):
        assert {r.order_id: r.status for r in model.list()} == dict.fromkeys(
            ("o-1", "o-2", "o-3"), "COMPLETED"
        )
        assert [e.sequence for e in model.events("o-2")] == [1, 2]


def test_a_replica_that_restarts_lists_every_order_at_once(url: str) -> None:
    ReadModel(url).apply_many([(_id(e), e) for e in (_accepted("o-9"), _completed("o-9", 2))])
    restarted = ReadModel(url)
    assert [(r.order_id, r.status) for r in restarted.list()] == [("o-9", "COMPLETED")]


def test_out_of_order_and_started_rows_behave_as_on_sqlite(url: str) -> None:
    model = ReadModel(url)
    model.note_started("o-1", "c-1", "t" * 32, T0)
    model.keep_input("o-1", '{"order": {}}')
    model.keep_input("o-1", '{"later": true}')  # a duplicate start keeps the first
    assert ReadModel(url).started_input("o-1") == '{"order": {}}'
    [row] = model.list()
    assert (row.status, row.last_event) == ("PENDING", STARTED)
    assert model.apply(_id(_completed("o-1", 3)), _completed("o-1", 3))
    assert model.apply(_id(_accepted("o-1")), _accepted("o-1"))
    [row] = model.list(status="COMPLETED")
    assert row.last_event == OrderEventType.COMPLETED.value and row.total == "10.00"
    assert model.finished_before("9999", ["COMPLETED"]) == ["o-1"]
    assert model.finished_between("0", "9999", ["COMPLETED", "REJECTED"]) == ["o-1"]
    assert model.finished_between("9998", "9999", ["COMPLETED"]) == []
    model.forget(["o-1"])
    assert model.list() == [] and model.events("o-1") == []
    assert model.started_input("o-1") is None


def test_approvals_waiting_and_decisions_are_shared(url: str) -> None:
    model, other = ReadModel(url), ReadModel(url)
    expires = T0 + timedelta(hours=1)
    waiting = ApprovalRequested(
        order_id="o-5", sequence=3, occurred_at=T0, status=OrderStatus.AWAITING_APPROVAL,
        total=Decimal("1500.00"), threshold=Decimal("1000.00"), expires_at=expires,
    )  # fmt: skip
    model.apply(event_id("o-5", 3, waiting.type), waiting)
    [(order_id, at)] = other.awaiting_approval()
    assert order_id == "o-5" and at.replace(tzinfo=None) == expires.replace(tzinfo=None)
    assert model.record_decision("o-5", "d-1", True)
    assert other.record_decision("o-5", "d-1", True), "a redelivery of the same decision"
    assert not other.record_decision("o-5", "d-2", False), "a second decision is refused"


def test_one_replica_holds_the_sweeper_lease_and_another_takes_over_when_it_dies(
    url: str,
) -> None:
    first, second = ReadModel(url), ReadModel(url)
    name = f"sweeper-{uuid.uuid4().hex[:6]}"
    assert first.lead(name)
    assert first.lead(name), "the holder keeps it"
    assert not second.lead(name)
    first._db._lease_conn.close()  # type: ignore[attr-defined]  # its session ended
    deadline = time.monotonic() + 15
    while not second.lead(name):  # the server frees it once it sees the session gone
        assert time.monotonic() < deadline, "the lease was never freed"
        time.sleep(0.1)
    assert not first.lead(name)


def test_the_read_model_comes_back_when_postgresql_restarts(url: str, server: ProcessSpec) -> None:
    model = ReadModel(url)
    assert model.apply(_id(_accepted("o-7")), _accepted("o-7"))
    supervisor.down([server], announce=False)
    with pytest.raises(Exception):  # noqa: B017  # whatever psycopg raises: the caller retries
        model.apply(_id(_completed("o-7", 2)), _completed("o-7", 2))
    supervisor.up([server], announce=False)
    assert state.alive_pid("postgres") is not None and health.tcp(server.ports[0])()
    assert model.apply(_id(_completed("o-7", 2)), _completed("o-7", 2))
    assert [r.status for r in model.list()] == ["COMPLETED"]
