"""Test helpers for the checkpoint contract: a run "killed" right after its n-th checkpoint.

Every long experiment promises that a run killed at any moment and resumed with ``--resume`` ends
with the same result as an uninterrupted one. The tests prove it by interrupting a run right
after each possible checkpoint write, with `KillingCheckpointer` standing in for SIGKILL, then
resuming from what is on disk::

    killer = KillingCheckpointer(out / "checkpoint.safetensors", fingerprint, kill_after=3)
    with pytest.raises(Killed):
        run(ctx_with(killer))
    assert run(fresh_ctx()) == reference

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rnnai.runtime.testing import Killed, KillingCheckpointer
    >>> folder = tempfile.TemporaryDirectory()
    >>> killer = KillingCheckpointer(Path(folder.name) / "c.safetensors", {"run": 1}, kill_after=2)
    >>> killer.save({}, {"step": 1})
    >>> try:
    ...     killer.save({}, {"step": 2})
    ... except Killed:
    ...     print("killed after save", killer.saves, "with step", killer.load()[1]["step"])
    killed after save 2 with step 2
    >>> folder.cleanup()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnai.runtime.checkpoint import Checkpointer

__all__ = ["Killed", "KillingCheckpointer"]


class Killed(Exception):
    """Stands in for SIGKILL right after the n-th checkpoint write."""


class KillingCheckpointer(Checkpointer):
    """A `Checkpointer` that raises `Killed` right after its ``kill_after``-th save.

    Args:
        path: The checkpoint file.
        fingerprint: As for `Checkpointer`.
        kill_after: Which save (1-based) is the last one before the "kill"; None never kills
            (the checkpointer then only counts the saves of a reference run).

    Attributes:
        saves: Saves written so far.
    """

    def __init__(
        self, path: Path, fingerprint: dict[str, Any], kill_after: int | None = None
    ) -> None:
        super().__init__(path, fingerprint)
        self.kill_after = kill_after
        self.saves = 0

    def save(self, tensors: dict[str, Any], state: dict[str, Any]) -> None:  # type: ignore[override]
        """Write the checkpoint, then raise `Killed` if this was save number ``kill_after``."""
        super().save(tensors, state)
        self.saves += 1
        if self.saves == self.kill_after:
            raise Killed
