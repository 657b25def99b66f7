"""Noise and signal on the same channel: Bengio et al.'s 2-sequence problem (1997, Exp. 3).

Citations:
    S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
    1997, Section 5.3 (Experiment 3), after Y. Bengio, P. Simard and P. Frasconi, Learning
    long-term dependencies with gradient descent is difficult, IEEE Transactions on Neural
    Networks 5(2):157-166, 1994.

Task 3a ("2-sequence problem"). Classify sequences of real numbers on a single input line. Two
classes, each with probability 1/2. Only the first N elements carry information: they are all
1.0 for class 1 and all -1.0 for class 2. Every element at a position t > N is drawn from a
Gaussian with mean 0 and variance 0.2. The sequence length is drawn uniformly from the integers
T .. T + T/10 (Bengio et al. also allowed shorter sequences of length T/2; the 1997 paper does
not). The target at the sequence end is 1.0 for class 1 and 0.0 for class 2, and the error signal
occurs only there. A sequence is classified correctly if the absolute output error at the end is
below 0.2. The paper runs T = 100 and T = 1000 with N = 3 and N = 1.

Task 3b. As 3a, but Gaussian noise (mean 0, variance 0.2) is added to the N information-carrying
elements as well. Same criterion.

Task 3c. As 3b, but the targets are 0.2 for class 1 and 0.8 for class 2, with Gaussian noise of
mean 0 and variance 0.1 (standard deviation about 0.32) added to the target. Minimizing the squared
error makes the net learn the conditional expectation of the target. A sequence counts as right if
the absolute difference between the output and the noise-free target is below 0.1; the paper stops
when the mean of that difference falls below 0.015 (`NoisyTwoSequenceTask.clean_error`).

``y`` holds the (noisy, in 3c) training targets; ``info["clean_target"]`` the noise-free ones and
``info["label"]`` the class (0: class 1, 1: class 2). Deviations: none.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.noisy import NoisyTwoSequenceConfig, NoisyTwoSequenceTask
    >>> task = NoisyTwoSequenceTask(NoisyTwoSequenceConfig(variant="3a", T=20, N=3))
    >>> batch = task.sample(np.random.default_rng(0), 2)
    >>> task.input_size, task.output_size, batch.batch_size
    (1, 1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, as_output_array

__all__ = ["NoisyTwoSequenceConfig", "NoisyTwoSequenceTask"]

Variant = Literal["3a", "3b", "3c"]
_VARIANTS = ("3a", "3b", "3c")
# Targets (class 1, class 2) and the criterion's tolerance per variant.
_TARGETS = {"3a": (1.0, 0.0), "3b": (1.0, 0.0), "3c": (0.2, 0.8)}
_TOLERANCE = {"3a": 0.2, "3b": 0.2, "3c": 0.1}


@dataclass(frozen=True, kw_only=True)
class NoisyTwoSequenceConfig:
    """Configuration of Experiment 3 (variants 3a, 3b, 3c)."""

    variant: Variant = "3a"
    """"3a": noise-free information; "3b": noisy information; "3c": 3b plus noisy targets."""
    T: int = 100
    """Minimal sequence length; lengths are drawn from T .. T + T//10 (paper: 100, 1000)."""
    N: int = 3
    """Number of information-carrying elements at the start (paper: 3 or 1)."""
    noise_variance: float = 0.2
    """Variance of the Gaussian input noise (paper: 0.2)."""
    target_noise_variance: float = 0.1
    """Variance of the Gaussian target noise, 3c only (paper: 0.1)."""
    tolerance: float | None = None
    """Criterion threshold on the end error; None: the paper's (0.2 for 3a/3b, 0.1 for 3c)."""

    def __post_init__(self) -> None:
        if self.variant not in _VARIANTS:
            raise RnnaiError(f"variant must be one of {_VARIANTS}, got {self.variant!r}")
        for name in ("T", "N"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RnnaiError(f"{name} must be a positive int, got {value!r}")
        if self.N >= self.T:
            raise RnnaiError(f"N must be smaller than T, got N={self.N}, T={self.T}")
        for name in ("noise_variance", "target_noise_variance"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise RnnaiError(f"{name} must be a number >= 0, got {value!r}")
        if self.tolerance is not None and (
            not isinstance(self.tolerance, int | float) or self.tolerance <= 0
        ):
            raise RnnaiError(f"tolerance must be a positive number or None, got {self.tolerance!r}")

    @property
    def criterion_tolerance(self) -> float:
        """The tolerance in effect."""
        return _TOLERANCE[self.variant] if self.tolerance is None else float(self.tolerance)


class NoisyTwoSequenceTask(SequenceTask):
    """Experiment 3: classify a noisy real-valued sequence by its first N elements."""

    name: ClassVar[str] = "noisy_two_sequence"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: NoisyTwoSequenceConfig | None = None) -> None:
        self.config = config or NoisyTwoSequenceConfig()

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        label = rng.integers(0, 2, size=batch)  # 0: class 1, 1: class 2
        lengths = c.T + rng.integers(0, c.T // 10 + 1, size=batch)  # T .. T + T/10
        t_max = int(lengths.max())
        rows = np.arange(batch)
        sd = np.float32(np.sqrt(c.noise_variance))
        x = sd * rng.standard_normal((batch, t_max), dtype=np.float32)  # t > N: N(0, 0.2), (B, T)
        info_value = np.where(label == 0, 1.0, -1.0)[:, None]  # 1.0 for class 1, -1.0 for class 2
        if c.variant == "3a":
            x[:, : c.N] = info_value
        else:  # 3b, 3c: noise on the information-carrying elements too
            x[:, : c.N] += info_value
        valid = np.arange(t_max)[None, :] < lengths[:, None]
        x *= valid  # zero padding
        targets = np.asarray(_TARGETS[c.variant])
        clean = targets[label]  # (B,)
        target = clean.copy()
        if c.variant == "3c":
            target = target + np.sqrt(c.target_noise_variance) * rng.standard_normal(batch)
        mask = np.zeros((batch, t_max), dtype=bool)
        mask[rows, lengths - 1] = True  # error signal only at the sequence end
        y = np.zeros((batch, t_max, 1), dtype=np.float32)
        y[rows, lengths - 1, 0] = target
        return SequenceBatch(
            x=x[:, :, None],  # (B, T, 1)
            y=y,
            mask=mask,
            lengths=lengths,
            info={"label": label, "clean_target": clean},
        )

    def clean_error(self, output: Any, batch: SequenceBatch) -> np.ndarray:
        """(B,) |output - noise-free target| at each sequence's end."""
        out = as_output_array(output, batch)
        end = out[np.arange(batch.batch_size), batch.lengths - 1, 0]
        return np.abs(end - batch.info["clean_target"])

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return self.clean_error(output, batch) < self.config.criterion_tolerance
