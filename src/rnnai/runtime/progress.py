"""Progress display for long work, built on rich.

One `Progress` object serves a whole command: the runner opens it, experiments and benchmarks open
tasks on it (``with progress.task(total, "training") as t: t.advance()``), so nested work shares one
live display. On a terminal it shows a bar per open task with elapsed time, ETA and a free-text
status (``t.update(status="loss 0.031")`` or any ``key=value`` fields). When stderr is not a
terminal (CI logs, pipes) there is no live display: a line is printed when a task ends and, for long
tasks, every 30 seconds. With ``quiet=True`` nothing is printed at all. All output goes to stderr so
that stdout stays clean for results.

Examples:
    >>> from rnnai.runtime.progress import Progress, format_duration
    >>> format_duration(245), format_duration(0.42)
    ('4 min 05 s', '0.42 s')
    >>> with Progress(quiet=True) as progress:
    ...     with progress.task(3, "training") as task:
    ...         task.advance(3)
    ...         task.update(status="loss 0.031")
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import rich.progress as rp
from rich.console import Console
from rich.text import Text

__all__ = ["Progress", "TaskHandle", "format_duration"]

_PLAIN_INTERVAL_S = 30.0


def format_duration(seconds: float) -> str:
    """Format a duration for people: ``0.42 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``.

    Args:
        seconds: The duration in seconds.

    Returns:
        A short human-readable string.
    """
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, secs = divmod(int(round(seconds)), 60)
        return f"{minutes} min {secs:02d} s"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min"


def _format_fields(fields: dict[str, Any]) -> str:
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(shown if key == "status" else f"{key}={shown}")
    return " ".join(parts)


class _FieldsColumn(rp.ProgressColumn):
    """Renders the task's free-text status and other fields."""

    def render(self, task: rp.Task) -> Text:
        return Text(_format_fields(task.fields), style="progress.description")


class TaskHandle:
    """One open task: count progress with `advance`, change its text with `update`.

    Created by `Progress.task`; not meant to be built directly.
    """

    def __init__(self, owner: Progress, total: int | float | None, description: str) -> None:
        self._owner = owner
        self.total = total
        self.description = description
        self.completed: float = 0
        self.fields: dict[str, Any] = {}
        self._started = time.perf_counter()
        self._last_plain = self._started
        self._task_id: rp.TaskID | None = None
        live = owner._live
        if live is not None:
            self._task_id = live.add_task(description, total=total)

    @property
    def elapsed(self) -> float:
        """Seconds since the task was opened."""
        return time.perf_counter() - self._started

    def advance(self, n: int | float = 1) -> None:
        """Count ``n`` more units of work as done.

        Args:
            n: The number of units completed since the last call.
        """
        self.completed += n
        live = self._owner._live
        if live is not None and self._task_id is not None:
            live.advance(self._task_id, n)
        elif self._owner._plain:
            now = time.perf_counter()
            if now - self._last_plain >= _PLAIN_INTERVAL_S:
                self._last_plain = now
                self._owner._print_plain(self._line())

    def update(self, description: str | None = None, **fields: Any) -> None:
        """Change the description and/or the status fields shown next to the bar.

        Args:
            description: A new description, or None to keep it.
            **fields: Free-text fields, e.g. ``status="epoch 3"`` or ``loss=0.0312``; a field set to
                None disappears.
        """
        if description is not None:
            self.description = description
        self.fields.update(fields)
        live = self._owner._live
        if live is not None and self._task_id is not None:
            live.update(self._task_id, description=self.description, **self.fields)

    def _line(self) -> str:
        count = f"{self.completed:g}" + (f"/{self.total:g}" if self.total is not None else "")
        extra = _format_fields(self.fields)
        return f"{self.description}: {count} in {format_duration(self.elapsed)}" + (
            f" ({extra})" if extra else ""
        )

    def _finish(self) -> None:
        live = self._owner._live
        if live is not None and self._task_id is not None:
            live.remove_task(self._task_id)
            self._task_id = None
        if not self._owner.quiet:
            self._owner._print_plain(self._line())


class Progress:
    """A progress display shared by everything one command runs.

    Use it as a context manager around the work; open tasks with `task` (or by calling the object,
    so it can be passed where a ``progress(total, description)`` callable is expected).

    Args:
        quiet: Print nothing at all.
        console: The rich console to draw on (default: a new one on stderr).
    """

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console if console is not None else Console(stderr=True)
        self._live: rp.Progress | None = None
        self._depth = 0

    @property
    def _plain(self) -> bool:
        return not self.quiet and not self.console.is_terminal

    def __enter__(self) -> Progress:
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth <= 0:
            self._depth = 0
            self._stop()

    def _start(self) -> None:
        if self._live is not None or self.quiet or not self.console.is_terminal:
            return
        self._live = rp.Progress(
            rp.SpinnerColumn(),
            rp.TextColumn("[progress.description]{task.description}"),
            rp.BarColumn(),
            rp.MofNCompleteColumn(),
            rp.TimeElapsedColumn(),
            rp.TextColumn("eta"),
            rp.TimeRemainingColumn(),
            _FieldsColumn(),
            console=self.console,
            transient=True,
        )
        self._live.start()

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _print_plain(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def log(self, message: str) -> None:
        """Print a message above the bars (nothing when quiet).

        Args:
            message: Plain text (rich markup is not interpreted).
        """
        self._print_plain(message)

    @contextmanager
    def task(self, total: int | float | None, description: str) -> Iterator[TaskHandle]:
        """Open a task for the duration of a ``with`` block.

        Args:
            total: The number of units of work, or None when unknown (no ETA then).
            description: What is being done, e.g. ``"lstm.adding: training"``.

        Yields:
            A `TaskHandle`; when the block ends the bar goes away and a summary line is printed
            (unless quiet).
        """
        self._start()
        handle = TaskHandle(self, total, description)
        try:
            yield handle
        finally:
            handle._finish()
            if self._depth == 0 and self._live is not None and not self._live.task_ids:
                self._stop()  # used without an enclosing ``with Progress(...)``

    __call__ = task
