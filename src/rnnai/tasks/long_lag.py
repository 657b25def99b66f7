"""Noise-free and very long time lag symbol sequences (Experiment 2 of the 1997 LSTM paper).

Citation:
    S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
    1997, Section 5.2 (Experiment 2: noise-free and noisy sequences).

Task 2a (noise-free sequences with long time lags). There are p+1 symbols a_1, ..., a_{p-1},
a_p = x, a_{p+1} = y, each coded locally (p+1 input and p+1 output units). The training set holds
only two very similar sequences, each drawn with probability 1/2::

    (y, a_1, a_2, ..., a_{p-1}, y)    and    (x, a_1, a_2, ..., a_{p-1}, x)

The net reads a sequence one symbol at a time and predicts the next symbol at every step (error
signals at every step). To predict the final element it must store the first one for p steps.
A sequence of p+1 symbols gives p input steps. Criterion per sequence: the maximal absolute error
of all output units at all steps is below 0.25 (the paper's success criterion asks for this on
10,000 successive sequences).

Task 2c (very long time lags, no local regularities). There are p+4 symbols: the p "distractors"
a_1, ..., a_p and b (begin), e (end, the trigger), x and y, each coded locally (p+4 input units);
there are 2 output units, for x and y. A sequence is built as follows: (1) a prefix of length q+2,
namely b, then x or y (probability 1/2 each), then q distractors drawn uniformly; (2) then, at each
further step, another distractor with probability 9/10 or, with probability 1/10, an e, which ends
this part; (3) finally the element that followed b (x or y) again. A sequence with k extra
distractors has q+k+4 symbols (minimal length q+4, expected length q+13). Error signals occur only
at the end: when the net sees e it must predict the final element, so it must store the second
element for at least q+1 steps (the minimal time lag). The final element is only a target, so a
sequence gives q+k+3 input steps. Criterion per sequence: the prediction error of both output
units at the end is below 0.2 (the paper's success: on 10,000 successive sequences). The paper
reports q = p in {50, 100, 200, 500, 1000} and q = 1000 with p in {500, 200, 100, 50}.

Unit order (ours; the paper does not fix one): 2a: a_1..a_{p-1}, x, y; 2c: a_1..a_p, b, e, x, y.
Deviation: Task 2b (2a with the middle replaced by random distractors) is not implemented.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.long_lag import LongLag2aConfig, LongLag2aTask
    >>> task = LongLag2aTask(LongLag2aConfig(p=10))
    >>> batch = task.sample(np.random.default_rng(0), 2)
    >>> task.correct(batch.y, batch).tolist()
    [True, True]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, masked_max_abs_error, one_hot

__all__ = ["LongLag2aConfig", "LongLag2aTask", "LongLag2cConfig", "LongLag2cTask"]


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise RnnaiError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_tolerance(value: object) -> None:
    if not isinstance(value, int | float) or not 0 < value <= 1:
        raise RnnaiError(f"tolerance must be a number in (0, 1], got {value!r}")


@dataclass(frozen=True, kw_only=True)
class LongLag2aConfig:
    """Configuration of Task 2a (noise-free sequences with long time lags)."""

    p: int = 100
    """Sequence length minus one: the first symbol must be stored for p steps (paper: 100)."""
    tolerance: float = 0.25
    """A sequence is right if every output's absolute error at every step is below this."""

    def __post_init__(self) -> None:
        _check_int("p", self.p, 2)
        _check_tolerance(self.tolerance)


class LongLag2aTask(SequenceTask):
    """Task 2a: predict the next symbol of (y, a_1..a_{p-1}, y) or (x, a_1..a_{p-1}, x)."""

    name: ClassVar[str] = "long_lag_2a"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: LongLag2aConfig | None = None) -> None:
        self.config = config or LongLag2aConfig()

    @property
    def input_size(self) -> int:
        return self.config.p + 1

    @property
    def output_size(self) -> int:
        return self.config.p + 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        p = self.config.p
        label = rng.integers(0, 2, size=batch)  # 0: x, 1: y
        first = p - 1 + label  # x = a_p (unit p-1), y = a_{p+1} (unit p)
        symbols = np.empty((batch, p + 1), dtype=np.int64)  # (B, p+1)
        symbols[:, 0] = first
        symbols[:, 1:p] = np.arange(p - 1)[None, :]  # a_1..a_{p-1}
        symbols[:, p] = first
        return SequenceBatch(
            x=one_hot(symbols[:, :p], p + 1),  # (B, p, p+1)
            y=one_hot(symbols[:, 1:], p + 1),  # the next symbol at every step
            mask=np.ones((batch, p), dtype=bool),
            lengths=np.full(batch, p),
            info={"label": label, "symbols": symbols},
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance


@dataclass(frozen=True, kw_only=True)
class LongLag2cConfig:
    """Configuration of Task 2c (very long time lags, no local regularities)."""

    q: int = 100
    """Distractors in the fixed prefix; the minimal time lag is q+1 (paper: 50..1000)."""
    p: int = 100
    """Number of distinct distractor symbols (paper: q = p, or q = 1000 with p = 500..50)."""
    end_probability: float = 0.1
    """Probability that the trigger e follows at each step after the prefix (paper: 1/10)."""
    tolerance: float = 0.2
    """A sequence is right if both outputs' absolute errors at the end are below this."""

    def __post_init__(self) -> None:
        _check_int("q", self.q, 1)
        _check_int("p", self.p, 1)
        if not isinstance(self.end_probability, int | float) or not 0 < self.end_probability <= 1:
            raise RnnaiError(f"end_probability must be in (0, 1], got {self.end_probability!r}")
        _check_tolerance(self.tolerance)


class LongLag2cTask(SequenceTask):
    """Task 2c: b, x|y, q+k random distractors, e; predict x|y at e."""

    name: ClassVar[str] = "long_lag_2c"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: LongLag2cConfig | None = None) -> None:
        self.config = config or LongLag2cConfig()

    @property
    def input_size(self) -> int:
        return self.config.p + 4

    @property
    def output_size(self) -> int:
        return 2

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        q, p = self.config.q, self.config.p
        b_unit, e_unit, x_unit = p, p + 1, p + 2  # y is unit p + 3
        label = rng.integers(0, 2, size=batch)  # 0: x, 1: y
        k = rng.geometric(self.config.end_probability, size=batch) - 1  # extra distractors
        lengths = q + k + 3  # b, x|y, q+k distractors, e (the final x|y is only a target)
        t_max = int(lengths.max())
        rows = np.arange(batch)
        symbols = rng.integers(0, p, size=(batch, t_max))  # distractors a_1..a_p, (B, T)
        symbols[:, 0] = b_unit
        symbols[:, 1] = x_unit + label
        symbols[rows, lengths - 1] = e_unit
        valid = np.arange(t_max)[None, :] < lengths[:, None]  # (B, T)
        symbols[~valid] = -1
        mask = np.zeros((batch, t_max), dtype=bool)
        mask[rows, lengths - 1] = True  # error signal only at the end
        y = np.zeros((batch, t_max, 2), dtype=np.float32)
        y[rows, lengths - 1, label] = 1.0  # (B, T, 2): the final element, x or y
        return SequenceBatch(
            x=one_hot(symbols, p + 4),
            y=y,
            mask=mask,
            lengths=lengths,
            info={"label": label, "extra": k, "symbols": symbols},
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance
