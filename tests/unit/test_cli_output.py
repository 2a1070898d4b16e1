"""Terminal output of the `fleet` CLI: colour only on a terminal, live blocks redrawn in place."""

import io
import os

import pytest

from fleet import console


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((20, 10)))


def test_colour_only_when_the_text_goes_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert console.paint("ok", "green", stream=Terminal()) == "\033[32mok\033[0m"
    assert console.paint("ok", "green", stream=io.StringIO()) == "ok"

    monkeypatch.setenv("NO_COLOR", "1")
    assert console.paint("ok", "green", stream=Terminal()) == "ok"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert console.paint("ok", "green", stream=Terminal()) == "ok"


def test_errors_are_plain_when_stderr_is_a_pipe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", Terminal())  # stdout's being a TTY is no reason
    console.error("✗ broken")

    assert capsys.readouterr().err == "✗ broken\n"


def test_a_live_block_redraws_over_its_previous_lines_and_fits_the_width() -> None:
    out = Terminal()
    block = console.LiveBlock(out)

    block.show(["one", "two"])
    block.show(
        ["three", "a line much wider than twenty columns", "\033[31mred but too long here\033[0m"]
    )

    first, second = out.getvalue().split("\033[J")[1:]
    assert first == "one\ntwo\n\r\033[2A"
    assert second.splitlines() == [
        "three",
        "a line much wider t",
        "\033[31mred but too long he\033[0m",
    ]
