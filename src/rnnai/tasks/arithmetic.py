"""The adding problem and the multiplication problem (1997 LSTM paper, Experiments 4 and 5).

Citation:
    S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
    1997, Section 5.4 (Experiment 4: adding problem) and Section 5.5 (Experiment 5:
    multiplication problem).

Adding problem (Exp. 4). Each element of an input sequence is a pair. The first component is a
real value drawn uniformly from [-1, 1]; the second is 1.0, 0.0 or -1.0 and serves as a marker.
The sequence length is an integer drawn uniformly from T .. T + T/10. Exactly two pairs are
marked: first one of the first ten pairs is drawn and marked (its value is X1), then one of the
first T/2 - 1 still unmarked pairs (its value is X2). The second components of all remaining pairs
are 0, except for the first and the final pair, whose second components are -1. In the rare case
where the first pair got marked, X1 is set to 0. The error signal occurs only at the sequence end,
where the target is 0.5 + (X1 + X2) / 4 (the sum scaled to [0, 1]). A sequence is processed
correctly if the absolute error at the end is below 0.04. (The paper stops training when the
average training error is below 0.01 and the 2,000 most recent sequences were right.)

Multiplication problem (Exp. 5). As the adding problem, except that the values are drawn from
[0, 1], X1 is set to 1.0 when the first pair got marked, and the target is X1 * X2. We judge a
sequence with the same |error| < 0.04 as Exp. 4; the paper reports the number of wrong test
sequences out of 2,560 at two stopping thresholds on the average training error.

Our reading of the first-pair rule (the text leaves it implicit): the first pair's marker is -1
even when it was drawn, so the mark cannot be seen, and its value is replaced by the neutral
element (0 for the sum, 1 for the product); that is why the paper resets X1. The replaced value
is written into the input too, and the same rule applies when the second draw hits the first pair.
``info`` holds X1, X2 (after that rule) and their positions ``pos1``, ``pos2``.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.arithmetic import AddingConfig, AddingTask
    >>> task = AddingTask(AddingConfig(T=20))
    >>> batch = task.sample(np.random.default_rng(0), 3)
    >>> batch.mask.sum(axis=1).tolist()  # one judged step: the end
    [1, 1, 1]
    >>> task.correct(batch.y, batch).all()  # the targets themselves are right
    np.True_
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, masked_max_abs_error

__all__ = [
    "AddingConfig",
    "AddingTask",
    "MultiplicationConfig",
    "MultiplicationTask",
    "marked_pairs",
]


def _check_config(T: object, tolerance: object) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T < 20:
        raise RnnaiError(
            f"T must be an int >= 20 (one of the first ten pairs and one of the first T/2-1 are "
            f"marked), got {T!r}"
        )
    if not isinstance(tolerance, int | float) or tolerance <= 0:
        raise RnnaiError(f"tolerance must be a positive number, got {tolerance!r}")


def marked_pairs(
    rng: np.random.Generator, batch: int, T: int, low: float, high: float, first_value: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the marked-pair sequences shared by Exp. 4 and Exp. 5.

    Returns ``values`` (B, T_max) float32, ``markers`` (B, T_max) float32, ``lengths`` (B,),
    ``pos1``, ``pos2`` (B,) positions of the marks; values and markers are 0 after each end.
    """
    rows = np.arange(batch)
    lengths = T + rng.integers(0, T // 10 + 1, size=batch)  # T .. T + T/10
    t_max = int(lengths.max())
    values = rng.random((batch, t_max), dtype=np.float32) * np.float32(high - low) + np.float32(low)
    pos1 = rng.integers(0, 10, size=batch)  # one of the first ten pairs
    r = rng.integers(0, T // 2 - 1, size=batch)  # one of the first T/2-1 still unmarked pairs
    pos2 = r + (r >= pos1)  # skip the pair marked first
    markers = np.zeros((batch, t_max), dtype=np.float32)
    markers[rows, pos1] = 1.0
    markers[rows, pos2] = 1.0
    first_marked = (pos1 == 0) | (pos2 == 0)
    values[first_marked, 0] = first_value  # its mark is hidden by the -1 below
    markers[:, 0] = -1.0  # first pair
    markers[rows, lengths - 1] = -1.0  # final pair
    beyond = np.arange(t_max)[None, :] >= lengths[:, None]  # padding, (B, T)
    values[beyond] = 0.0
    markers[beyond] = 0.0
    return values, markers, lengths, pos1, pos2


def _batch(values, markers, lengths, pos1, pos2, target_fn) -> SequenceBatch:
    batch, t_max = values.shape
    rows = np.arange(batch)
    x1, x2 = values[rows, pos1], values[rows, pos2]
    mask = np.zeros((batch, t_max), dtype=bool)
    mask[rows, lengths - 1] = True  # error signal only at the sequence end
    y = np.zeros((batch, t_max, 1), dtype=np.float32)
    y[rows, lengths - 1, 0] = target_fn(x1.astype(np.float64), x2.astype(np.float64))
    return SequenceBatch(
        x=np.stack([values, markers], axis=-1),  # (B, T, 2)
        y=y,
        mask=mask,
        lengths=lengths,
        info={"X1": x1, "X2": x2, "pos1": pos1, "pos2": pos2},
    )


@dataclass(frozen=True, kw_only=True)
class AddingConfig:
    """Configuration of the adding problem (Exp. 4)."""

    T: int = 100
    """Minimal sequence length; lengths are drawn from T .. T + T//10 (paper: 100, 500, 1000)."""
    tolerance: float = 0.04
    """A sequence is right if the absolute error at its end is below this (paper: 0.04)."""

    def __post_init__(self) -> None:
        _check_config(self.T, self.tolerance)


class AddingTask(SequenceTask):
    """Exp. 4: output 0.5 + (X1 + X2)/4 at the end, X1 and X2 the values marked by 1.0."""

    name: ClassVar[str] = "adding"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: AddingConfig | None = None) -> None:
        self.config = config or AddingConfig()

    @property
    def input_size(self) -> int:
        return 2

    @property
    def output_size(self) -> int:
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        parts = marked_pairs(rng, batch, self.config.T, -1.0, 1.0, first_value=0.0)
        return _batch(*parts, target_fn=lambda x1, x2: 0.5 + (x1 + x2) / 4.0)

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance


@dataclass(frozen=True, kw_only=True)
class MultiplicationConfig:
    """Configuration of the multiplication problem (Exp. 5)."""

    T: int = 100
    """Minimal sequence length; lengths are drawn from T .. T + T//10 (paper: 100)."""
    tolerance: float = 0.04
    """A sequence is right if the absolute error at its end is below this (as in Exp. 4)."""

    def __post_init__(self) -> None:
        _check_config(self.T, self.tolerance)


class MultiplicationTask(SequenceTask):
    """Exp. 5: output X1 * X2 at the end, values in [0, 1]."""

    name: ClassVar[str] = "multiplication"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: MultiplicationConfig | None = None) -> None:
        self.config = config or MultiplicationConfig()

    @property
    def input_size(self) -> int:
        return 2

    @property
    def output_size(self) -> int:
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        parts = marked_pairs(rng, batch, self.config.T, 0.0, 1.0, first_value=1.0)
        return _batch(*parts, target_fn=lambda x1, x2: x1 * x2)

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance
