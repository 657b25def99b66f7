"""The runtime every experiment and benchmark shares: errors, seeding, checkpoints, results.

* `rnnai.runtime.errors`: `RnnaiError` (one ``error:`` line in the CLI) and `RnnaiWarning`.
* `rnnai.runtime.seeding`: named random streams from one seed; no global random state.
* `rnnai.runtime.checkpoint`: atomic safetensors checkpoints and atomic writes.
* `rnnai.runtime.results` / `rnnai.runtime.report`: ``result.json`` and ``REPORT.md``.
* `rnnai.runtime.verdict`: the one rule that turns measured numbers into a verdict.
* `rnnai.runtime.progress`: the progress display; `rnnai.runtime.jit`: ``njit`` with a per-user
  numba cache; `rnnai.runtime.testing`: the kill-and-resume test helper.

Examples:
    >>> from rnnai.runtime.errors import RnnaiError
    >>> from rnnai.runtime.seeding import make_rng
    >>> make_rng(-1)
    Traceback (most recent call last):
    ...
    rnnai.runtime.errors.RnnaiError: seed must be >= 0, got -1
"""
