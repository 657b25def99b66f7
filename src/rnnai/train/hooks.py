"""What a training loop needs from whoever runs it: a checkpointer, progress and a log.

The library's loops (`rnnai.train`) take a `Hooks` object instead of an experiment's run
context, so they run the same from a user's script, a notebook or ``rnnai run``. The runner's
`rnnai.experiments.base.RunContext` satisfies the protocol; `SilentHooks` is the default for
library users (no checkpoints, no output) and `rnnai.train.hooks.SilentHooks(checkpointer=...)`
adds checkpoints that resume exactly.

Examples:
    >>> from rnnai.train.hooks import SilentHooks
    >>> hooks = SilentHooks()
    >>> with hooks.progress(10, "training") as bar:
    ...     bar.advance(3)
    >>> hooks.log("nothing is printed")
    >>> hooks.checkpointer is None
    True
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

__all__ = ["Checkpointing", "Hooks", "ProgressHandle", "SilentHooks"]


@runtime_checkable
class Checkpointing(Protocol):
    """Saves and loads one checkpoint (`rnnai.runtime.checkpoint.Checkpointer` is one)."""

    def save(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Write tensors and a JSON-able state atomically, replacing the previous checkpoint."""
        ...

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """Return the last saved (tensors, state), or None when there is none."""
        ...


class ProgressHandle(Protocol):
    """A progress bar's handle (`rnnai.runtime.progress.TaskHandle` is one)."""

    def advance(self, n: int | float = 1) -> None:
        """Count ``n`` units of work done."""
        ...

    def update(self, description: str | None = None, **fields: Any) -> None:
        """Change the description or show fields (``loss=0.03``)."""
        ...


@runtime_checkable
class Hooks(Protocol):
    """What a loop in `rnnai.train` calls while it runs.

    Attributes:
        checkpointer: Where to save progress (None: never save, never resume).
    """

    checkpointer: Any

    def progress(
        self, total: int | float | None, description: str
    ) -> AbstractContextManager[Any]:
        """A context manager yielding a `ProgressHandle` for the duration of a block."""
        ...

    def log(self, message: str) -> None:
        """Record one line of plain text."""
        ...


class _NoProgress:
    def advance(self, n: int | float = 1) -> None:
        pass

    def update(self, description: str | None = None, **fields: Any) -> None:
        pass


@dataclass
class SilentHooks:
    """Hooks that show nothing; checkpoints only when a checkpointer is given.

    Attributes:
        checkpointer: A `Checkpointing` (e.g. ``Checkpointer(path, {"run": "mine"})``) or None.
    """

    checkpointer: Checkpointing | None = None

    def progress(
        self, total: int | float | None, description: str
    ) -> AbstractContextManager[ProgressHandle]:
        """A progress handle that does nothing."""
        return nullcontext(_NoProgress())

    def log(self, message: str) -> None:
        """Drop the message."""
