"""User-facing errors and warnings.

`RnnaiError` marks a mistake the user can fix (an unknown name, a bad scale, an unwritable
folder, a corrupt or foreign checkpoint, a bad config, a Ray cluster that cannot be reached or
was lost). The CLI prints it as one line, ``error: <message>``, and exits with code 2; every
other exception is a bug and keeps its traceback. Subclasses document what they add (for example
``rnnai.experiments.runner.ReproduceError`` carries the failures of a ``reproduce`` call).

`RnnaiTypeError` is the `RnnaiError` for a value of the wrong type (a string where a seed was
expected); it is also a ``TypeError``, so ``except TypeError`` keeps working.

`RnnaiWarning` marks a request that was accepted but adjusted or ignored (``--workers`` above the
CPUs there are, an option the experiment does not use). The CLI prints it as one line,
``warning: <message>``, also under ``--quiet``.

Examples:
    >>> from rnnai.runtime.errors import RnnaiError, RnnaiTypeError, RnnaiWarning
    >>> try:
    ...     raise RnnaiError("unknown scale 'huge'; choose one of smoke, quick, paper")
    ... except ValueError as e:  # an RnnaiError is a ValueError
    ...     print(f"error: {e}")
    error: unknown scale 'huge'; choose one of smoke, quick, paper
    >>> issubclass(RnnaiTypeError, TypeError) and issubclass(RnnaiTypeError, RnnaiError)
    True
    >>> issubclass(RnnaiWarning, UserWarning)
    True
"""

from __future__ import annotations

__all__ = ["RnnaiError", "RnnaiTypeError", "RnnaiWarning"]


class RnnaiError(ValueError):
    """A user error with a one-line message that says what was expected and what was received."""


class RnnaiTypeError(RnnaiError, TypeError):
    """A user error about a value's type; both an `RnnaiError` and a ``TypeError``."""


class RnnaiWarning(UserWarning):
    """A request that was accepted but adjusted or ignored; the message says what and why."""
