"""User-facing errors.

`RnnaiError` marks a mistake the user can fix (an unknown name, a bad scale, an unwritable
folder, a corrupt or foreign checkpoint, a bad config). The CLI prints it as one line,
``error: <message>``, and exits with code 2; every other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["RnnaiError"]


class RnnaiError(ValueError):
    """A user error with a one-line message that says what was expected and what was received."""
