import json
from pathlib import Path

import pytest

from fleet import stack
from fleet.provision import dapr, pieces, staging
from fleet.provision.errors import ProvisionError, failure
from fleet.runner.kafka_setup import server_properties


def _module(tmp_path: Path, go_mod: str) -> dict[str, str]:
    source = tmp_path / "src"
    source.mkdir()
    (source / "go.sum").write_text("example.com/x v1.0.0 h1:abc=\n")
    mod = tmp_path / "dapr.mod"
    mod.write_text(go_mod)
    return {
        "GoMod": str(mod),
        "Dir": str(source),
        "Version": "v1.18.2",
        "Sum": "h1:dapr=",
        "GoModSum": "h1:daprmod=",
    }


def test_wrapper_module_keeps_dapr_replaces_and_requires_dapr(tmp_path: Path) -> None:
    go_mod = (
        "module github.com/dapr/dapr\n\ngo 1.26.5\n\n"
        "replace github.com/gobwas/pool => github.com/gobwas/pool v0.2.1\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    dapr._write_wrapper_module(work, _module(tmp_path, go_mod))
    written = (work / "go.mod").read_text()
    assert written.startswith("module orderfleet.local/daprbuild\n")
    assert "replace github.com/gobwas/pool => github.com/gobwas/pool v0.2.1" in written
    assert written.rstrip().endswith("require github.com/dapr/dapr v1.18.2")
    go_sum = (work / "go.sum").read_text()
    assert "example.com/x v1.0.0 h1:abc=" in go_sum
    assert "github.com/dapr/dapr v1.18.2 h1:dapr=" in go_sum
    assert "github.com/dapr/dapr v1.18.2/go.mod h1:daprmod=" in go_sum


def test_wrapper_module_refuses_an_unexpected_go_mod(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ProvisionError):
        dapr._write_wrapper_module(work, _module(tmp_path, "module example.com/other\n"))


def test_cache_is_keyed_by_version_and_outside_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    assert dapr.dapr_home("1.2.3") == tmp_path / "dapr-1.2.3-allcomponents"
    assert not dapr.is_built("1.2.3")


def test_failure_message_names_the_log_and_shows_its_tail(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("\n".join(f"line {i}" for i in range(100)))
    message = str(failure("building Dapr", log))
    assert str(log) in message
    assert "line 99" in message
    assert "line 10\n" not in message


def test_kafka_accepts_messages_large_enough_to_dead_letter_a_5mb_payload(tmp_path: Path) -> None:
    properties = dict(
        line.split("=", 1) for line in server_properties(tmp_path, "pw").splitlines() if line
    )
    assert int(properties["message.max.bytes"]) > 5 * 1024 * 1024
    assert properties["listeners"].startswith("SASL_PLAINTEXT://127.0.0.1:9092")
    assert properties["process.roles"] == "broker,controller"
    assert json.dumps(properties)


def test_an_interrupted_build_is_never_taken_for_a_finished_piece(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    final = tmp_path / "bin"
    with pytest.raises(KeyboardInterrupt), staging.staged(final, "x 1", "x 1") as partial:
        (partial / "daprd").write_text("half a binary")
        raise KeyboardInterrupt  # Ctrl-C, or a timeout, half-way through
    assert not staging.is_complete(final)
    assert staging.leftover(final) == tmp_path / "bin.partial"

    with staging.staged(final, "x 1", "x 1") as partial:
        assert list(partial.iterdir()) == [], "the next run starts the piece again, afresh"
        (partial / "daprd").write_text("a whole binary")
    assert "found bin.partial, left by an interrupted run" in capsys.readouterr().out
    assert staging.is_complete(final)
    assert staging.leftover(final) is None
    assert (final / "daprd").read_text() == "a whole binary"


def test_a_killed_build_leaves_the_previous_finished_piece_or_nothing(tmp_path: Path) -> None:
    final = tmp_path / "libs"
    with staging.staged(final, "kafka", "kafka") as partial:
        (partial / "a.jar").write_text("1")
    with pytest.raises(RuntimeError), staging.staged(final, "kafka", "kafka") as partial:
        raise RuntimeError("maven failed")
    assert staging.is_complete(final) and (final / "a.jar").exists()


def test_a_missing_piece_fails_at_once_with_the_command_that_provisions_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    with pytest.raises(pieces.MissingPiece) as missing:
        pieces.require_pieces(["dapr", "kafka"])
    assert "dapr 1.18.2" in str(missing.value) and "kafka" in str(missing.value)
    assert "`make provision`" in str(missing.value)


def test_the_test_fixtures_need_the_runtime_and_never_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    built: list[str] = []
    monkeypatch.setattr(dapr, "ensure_dapr", lambda *a: built.append("dapr"))
    with pytest.raises(pieces.MissingPiece):
        stack.require_provisioned()
    assert built == []
    assert {p.name for p in pieces.for_purpose("run")} <= {
        p.name for p in pieces.for_purpose("test")
    }
