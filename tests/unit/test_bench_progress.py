"""The progress line: redrawn on a terminal, plain and sparse in a pipe."""

import io

from bench.progress import Progress, bar, format_line


def test_the_bar_fills_with_the_fraction_and_clamps() -> None:
    assert bar(0.0, 4) == "░░░░"
    assert bar(0.5, 4) == "██░░"
    assert bar(2.0, 4) == "████"


def test_a_line_shows_elapsed_label_percent_and_detail() -> None:
    line = format_line("fleet 2/s", 0.25, "sent 5/20", 65)
    assert line.startswith("[01:05] fleet 2/s")
    assert "25%" in line and line.endswith("sent 5/20")


def test_on_a_terminal_the_line_is_redrawn_in_place() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.update("a", 0.1)
    progress.update("a", 0.2)
    progress.note("done")
    text = out.getvalue()
    assert text.count("\r") >= 2 and "\x1b[K" in text and text.endswith("done\n")


def test_in_a_pipe_lines_are_plain_and_throttled_but_label_changes_show() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, plain_every_s=60)
    for i in range(50):
        progress.update("fleet 1/s", i / 50)
    progress.update("fleet 2/s", 0.0)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
