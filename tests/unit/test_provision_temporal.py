"""The bench's peer engine: the Temporal CLI piece, built only for `make bench PEER=...`."""

from pathlib import Path

from fleet import versions
from fleet.provision import gomodule, pieces, temporal


def test_the_temporal_cli_is_provisioned_only_for_the_bench() -> None:
    assert "temporal" in {p.name for p in pieces.for_purpose("bench")}
    others: tuple[pieces.Purpose, ...] = ("run", "test", "compose", "k8s")
    for purpose in others:
        assert "temporal" not in {p.name for p in pieces.for_purpose(purpose)}


def test_the_temporal_cli_is_stamped_and_built_niced_in_a_version_keyed_cache() -> None:
    piece = temporal.piece("1.5.1")
    assert piece.home.name == "temporal-1.5.1" and piece.commands == ("temporal",)
    assert "-X github.com/temporalio/cli/temporalcli.Version=1.5.1" in piece.ldflags
    request = gomodule.BuildRequest(
        Path("/w"), Path("/o"), piece.packages, piece.tags, piece.ldflags, niceness=piece.niceness
    )
    command = gomodule.build_command("go", request)
    assert command[:5] == ["nice", "-n", "15", "go", "build"]
    assert command[-1] == "github.com/temporalio/cli/cmd/temporal"
    assert versions.TEMPORAL_CLI == "1.5.1"


def test_other_pieces_build_at_normal_priority() -> None:
    request = gomodule.BuildRequest(Path("/w"), Path("/o"), ("x/cmd/y",))
    assert gomodule.build_command("go", request)[:2] == ["go", "build"]
