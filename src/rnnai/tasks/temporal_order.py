"""The temporal order problem (1997 LSTM paper, Experiment 6).

Citation:
    S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
    1997, Section 5.6 (Experiment 6: temporal order).

Task 6a (two relevant, widely separated symbols). Classify sequences whose elements are symbols
coded locally (8 input units: E, B, X, Y, a, b, c, d). A sequence starts with E, ends with B (the
"trigger symbol") and otherwise consists of symbols drawn uniformly from {a, b, c, d}, except for
two elements at positions t1 and t2 that are X or Y (probability 1/2 each). The sequence length is
drawn uniformly from 100 .. 110, t1 from 10 .. 20 and t2 from 50 .. 60 (positions counted from 1,
E being at position 1). The four classes Q, R, S, U depend on the temporal order of X and Y:
X,X -> Q; X,Y -> R; Y,X -> S; Y,Y -> U.

Task 6b (three relevant symbols). As 6a with X/Y at t1 in 10 .. 20, t2 in 33 .. 43 and t3 in
66 .. 76, and eight classes Q, R, S, U, V, A, B, C for X,X,X; X,X,Y; X,Y,X; X,Y,Y; Y,X,X; Y,X,Y;
Y,Y,X; Y,Y,Y.

There is one output unit per class; the target is the class's one-hot vector, and the error
signal occurs only at the sequence end (the step where B is read). A sequence is classified
correctly if the final absolute error of every output unit is below 0.3. (The paper stops when
the average training error is below 0.1 and the 2,000 most recent sequences were right.)

Unit order (ours): a, b, c, d, X, Y, E, B. The class index is the X/Y pattern read as a binary
number, X = 0 and Y = 1, the first relevant symbol being the most significant bit.
``info`` holds ``label``, the relevant positions ``positions`` (0-based, (B, k)) and ``bits``.
Deviations: none.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.temporal_order import TemporalOrderConfig, TemporalOrderTask
    >>> task = TemporalOrderTask(TemporalOrderConfig(variant="6a"))
    >>> batch = task.sample(np.random.default_rng(0), 2)
    >>> task.output_size, task.correct(batch.y, batch).tolist()
    (4, [True, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, masked_max_abs_error, one_hot

__all__ = ["CLASS_NAMES", "INPUT_SYMBOLS", "TemporalOrderConfig", "TemporalOrderTask"]

INPUT_SYMBOLS = ("a", "b", "c", "d", "X", "Y", "E", "B")
"""The input symbols in the order of the input units."""
_X, _E, _B = 4, 6, 7

Variant = Literal["6a", "6b"]
# Windows of the relevant positions per variant, 1-based and inclusive, as in the paper.
WINDOWS: dict[str, tuple[tuple[int, int], ...]] = {
    "6a": ((10, 20), (50, 60)),
    "6b": ((10, 20), (33, 43), (66, 76)),
}
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "6a": ("Q", "R", "S", "U"),
    "6b": ("Q", "R", "S", "U", "V", "A", "B", "C"),
}
"""The paper's class names in the order of the output units."""


@dataclass(frozen=True, kw_only=True)
class TemporalOrderConfig:
    """Configuration of Experiment 6."""

    variant: Variant = "6a"
    """"6a": two relevant symbols, 4 classes; "6b": three relevant symbols, 8 classes."""
    min_length: int = 100
    """Shortest sequence (paper: 100); must exceed the last relevant position."""
    max_length: int = 110
    """Longest sequence (paper: 110)."""
    tolerance: float = 0.3
    """A sequence is right if every output's absolute error at the end is below this."""

    def __post_init__(self) -> None:
        if self.variant not in WINDOWS:
            raise RnnaiError(f"variant must be one of {tuple(WINDOWS)}, got {self.variant!r}")
        last = WINDOWS[self.variant][-1][1]
        for name in ("min_length", "max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RnnaiError(f"{name} must be an int, got {value!r}")
        if self.min_length <= last:
            raise RnnaiError(
                f"min_length must exceed the last relevant position {last} (B ends the sequence), "
                f"got {self.min_length}"
            )
        if self.max_length < self.min_length:
            raise RnnaiError(
                f"max_length must be >= min_length={self.min_length}, got {self.max_length}"
            )
        if not isinstance(self.tolerance, int | float) or self.tolerance <= 0:
            raise RnnaiError(f"tolerance must be a positive number, got {self.tolerance!r}")

    @property
    def n_relevant(self) -> int:
        """Number of relevant X/Y symbols (2 or 3)."""
        return len(WINDOWS[self.variant])


class TemporalOrderTask(SequenceTask):
    """Experiment 6: classify a sequence by the order of its widely separated X/Y symbols."""

    name: ClassVar[str] = "temporal_order"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: TemporalOrderConfig | None = None) -> None:
        self.config = config or TemporalOrderConfig()

    @property
    def input_size(self) -> int:
        return len(INPUT_SYMBOLS)

    @property
    def output_size(self) -> int:
        return 2**self.config.n_relevant

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        rows = np.arange(batch)
        lengths = rng.integers(c.min_length, c.max_length + 1, size=batch)
        t_max = int(lengths.max())
        symbols = rng.integers(0, 4, size=(batch, t_max))  # a, b, c, d, (B, T)
        symbols[:, 0] = _E  # position 1
        symbols[rows, lengths - 1] = _B  # the trigger at the last position
        windows = WINDOWS[c.variant]
        positions = np.stack([rng.integers(lo, hi + 1, size=batch) - 1 for lo, hi in windows], 1)
        bits = rng.integers(0, 2, size=(batch, len(windows)))  # 0: X, 1: Y
        symbols[rows[:, None], positions] = _X + bits
        label = bits @ (2 ** np.arange(len(windows) - 1, -1, -1))  # first symbol = MSB
        valid = np.arange(t_max)[None, :] < lengths[:, None]
        symbols[~valid] = -1
        mask = np.zeros((batch, t_max), dtype=bool)
        mask[rows, lengths - 1] = True  # error signal only at the end
        y = np.zeros((batch, t_max, self.output_size), dtype=np.float32)
        y[rows, lengths - 1, label] = 1.0
        return SequenceBatch(
            x=one_hot(symbols, len(INPUT_SYMBOLS)),  # (B, T, 8)
            y=y,
            mask=mask,
            lengths=lengths,
            info={"label": label, "positions": positions, "bits": bits, "symbols": symbols},
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance
