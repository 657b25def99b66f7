"""Progress display: silent when quiet, plain lines when not on a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from rnnai.runtime.progress import Progress, format_duration


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=120), buffer


def test_quiet_progress_prints_nothing() -> None:
    console, buffer = _console()
    with Progress(quiet=True, console=console) as progress:
        with progress.task(3, "work") as task:
            task.advance()
            task.update(status="busy", loss=0.5)
        progress.log("hello")
    assert buffer.getvalue() == ""


def test_progress_without_terminal_prints_a_summary_line_per_task() -> None:
    console, buffer = _console()
    with Progress(console=console) as progress:
        with progress(4, "outer") as outer:  # the object is callable like ctx.progress
            with progress.task(None, "inner") as inner:
                inner.advance(2)
            outer.advance(4)
            outer.update(description="outer done", status="ok", loss=0.123456)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("inner: 2 in ")
    assert lines[1].startswith("outer done: 4/4 in ") and lines[1].endswith("(ok loss=0.1235)")


def test_progress_on_a_terminal_runs_without_error() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with Progress(console=console) as progress:
        with progress.task(2, "work") as task:
            task.advance(2)
            task.update(status="[not markup]")
    assert "work: 2/2" in buffer.getvalue()


def test_format_duration_is_readable() -> None:
    assert format_duration(0.5) == "0.50 s"
    assert format_duration(12.34) == "12.3 s"
    assert format_duration(245) == "4 min 05 s"
    assert format_duration(7380) == "2 h 03 min"
