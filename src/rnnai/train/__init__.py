"""Training loops of the library: checkpointed, resumable, run the same from scripts and the CLI.

Examples:
    >>> from rnnai.train import SilentHooks
    >>> SilentHooks().checkpointer is None
    True
"""

from rnnai.train.hooks import Checkpointing, Hooks, ProgressHandle, SilentHooks

__all__ = ["Checkpointing", "Hooks", "ProgressHandle", "SilentHooks"]
