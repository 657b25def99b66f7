"""The batch container and the interface shared by every supervised sequence task.

The tasks reproduce the synthetic benchmarks of

- S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
  1997 (Section 5, Experiments 1-6);
- F. A. Gers, J. Schmidhuber and F. Cummins. Learning to forget: continual prediction with LSTM.
  Neural Computation 12(10):2451-2471, 2000 (continual embedded Reber grammar);
- F. A. Gers, N. N. Schraudolph and J. Schmidhuber. Learning precise timing with LSTM recurrent
  networks. Journal of Machine Learning Research 3:115-143, 2002 (MSD and GTS).

Every task turns a ``numpy.random.Generator`` and a batch size into a `SequenceBatch`:

- ``x`` (B, T, I) float32: the inputs, zero after each sequence's end;
- ``y`` (B, T, O) float32: the targets (meaningful only where ``mask`` is true);
- ``mask`` (B, T) bool: the steps where a target counts, for the loss and for the criterion;
- ``lengths`` (B,) int64: each sequence's length; the batch is padded to its longest sequence;
- ``info``: per-sequence ground truth that the network never sees (class labels, marker positions,
  noise-free targets, symbol indices), for tests, analyses and the criteria that need it.

``task.correct(output, batch)`` applies the paper's per-sequence criterion to a network's output
array (B, T, O) at the masked steps and returns a (B,) bool array. Nothing here reads numpy's or
torch's global random state.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.base import SequenceBatch
    >>> b = SequenceBatch(np.zeros((2, 3, 1)), np.ones((2, 3, 1)), np.ones((2, 3), bool),
    ...                   np.array([3, 3]))
    >>> b.batch_size, b.max_length, b.x.dtype
    (2, 3, dtype('float32'))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "LossName",
    "OutputActivation",
    "SequenceBatch",
    "SequenceTask",
    "TorchSequenceBatch",
    "as_output_array",
    "check_batch_size",
    "check_rng",
    "masked_max_abs_error",
    "one_hot",
]

OutputActivation = Literal["sigmoid", "linear", "softmax"]
LossName = Literal["mse", "bce", "cross_entropy"]


class TorchSequenceBatch(NamedTuple):
    """A `SequenceBatch` as torch tensors (``info`` stays with the numpy batch)."""

    x: Any
    """(B, T, I) float32 tensor."""
    y: Any
    """(B, T, O) float32 tensor."""
    mask: Any
    """(B, T) bool tensor."""
    lengths: Any
    """(B,) int64 tensor (on the CPU when ``device`` is not given)."""


@dataclass(frozen=True, eq=False)
class SequenceBatch:
    """A padded batch of sequences with targets, a loss/criterion mask and lengths.

    The arrays are converted to the documented dtypes on construction and their shapes are
    checked; a ``ValueError`` (`RnnaiError`) names the expected and the received shape.
    """

    x: np.ndarray
    """Inputs, (B, T, I) float32; zero after each sequence's end."""
    y: np.ndarray
    """Targets, (B, T, O) float32; only the steps where ``mask`` is true count."""
    mask: np.ndarray
    """(B, T) bool: the steps whose targets count (never true at or after ``lengths``)."""
    lengths: np.ndarray
    """(B,) int64: the number of valid steps of each sequence, 1 <= lengths <= T."""
    info: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Per-sequence ground truth the network does not see; every array has B rows."""

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=np.float32)
        y = np.asarray(self.y, dtype=np.float32)
        mask = np.asarray(self.mask, dtype=bool)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        if x.ndim != 3:
            raise RnnaiError(f"x must have shape (B, T, I), got shape {x.shape}")
        b, t, _ = x.shape
        if b < 1 or t < 1:
            raise RnnaiError(f"x must have B >= 1 and T >= 1, got shape {x.shape}")
        if y.ndim != 3 or y.shape[:2] != (b, t):
            raise RnnaiError(f"y must have shape ({b}, {t}, O), got shape {y.shape}")
        if mask.shape != (b, t):
            raise RnnaiError(f"mask must have shape ({b}, {t}), got shape {mask.shape}")
        if lengths.shape != (b,):
            raise RnnaiError(f"lengths must have shape ({b},), got shape {lengths.shape}")
        if lengths.min() < 1 or lengths.max() > t:
            raise RnnaiError(
                f"lengths must lie in [1, {t}], got values in [{lengths.min()}, {lengths.max()}]"
            )
        if (mask & (np.arange(t)[None, :] >= lengths[:, None])).any():
            raise RnnaiError("mask is true at a step at or after a sequence's length")
        info = dict(self.info)
        for key, value in info.items():
            arr = np.asarray(value)
            if arr.ndim == 0 or arr.shape[0] != b:
                raise RnnaiError(f"info[{key!r}] must have {b} rows, got shape {arr.shape}")
            info[key] = arr
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "lengths", lengths)
        object.__setattr__(self, "info", info)

    @property
    def batch_size(self) -> int:
        """B, the number of sequences."""
        return int(self.x.shape[0])

    @property
    def max_length(self) -> int:
        """T, the padded length."""
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return self.batch_size

    def to_torch(self, device: Any = None) -> TorchSequenceBatch:
        """The arrays as torch tensors (float32, float32, bool, int64) on ``device``."""
        import torch

        return TorchSequenceBatch(
            x=torch.from_numpy(self.x).to(device),
            y=torch.from_numpy(self.y).to(device),
            mask=torch.from_numpy(self.mask).to(device),
            lengths=torch.from_numpy(self.lengths).to(device),
        )


def check_rng(rng: Any) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else raise a ValueError."""
    if not isinstance(rng, np.random.Generator):
        raise RnnaiError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_batch_size(batch: Any) -> int:
    """Return ``batch`` as an int if it is a positive integer, else raise a ValueError."""
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise RnnaiError(f"batch must be a positive int, got {batch!r}")
    return int(batch)


def as_output_array(output: Any, batch: SequenceBatch) -> np.ndarray:
    """A network's output as a float64 array of the batch's target shape (B, T, O).

    Accepts numpy arrays and torch tensors (detached and copied to the CPU).
    """
    if hasattr(output, "detach"):
        output = output.detach().cpu().numpy()
    out = np.asarray(output, dtype=np.float64)
    if out.shape != batch.y.shape:
        raise RnnaiError(
            f"output must have the targets' shape (B, T, O) = {batch.y.shape}, got {out.shape}"
        )
    return out


def masked_max_abs_error(output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
    """(B,) the largest |output - target| over all units at each sequence's masked steps.

    A sequence without masked steps gets 0.
    """
    err = np.abs(output - batch.y)  # (B, T, O)
    err = np.where(batch.mask[:, :, None], err, 0.0)
    return err.max(axis=(1, 2))


def one_hot(indices: np.ndarray, n: int, dtype: Any = np.float32) -> np.ndarray:
    """One-hot coding of integer ``indices`` (any shape) into ``n`` units; -1 gives all zeros."""
    indices = np.asarray(indices)
    out = np.zeros((*indices.shape, n), dtype=dtype)
    valid = indices >= 0
    out[valid, indices[valid]] = 1
    return out


class SequenceTask(ABC):
    """A supervised sequence task: a generator of `SequenceBatch` es and the paper's criterion.

    Subclasses set ``name``, ``output_activation`` (what the paper's output units use) and ``loss``
    (the suggested training loss; the 1997-2002 papers all minimize the squared error), implement
    ``input_size``, ``output_size``, ``_sample`` and ``_correct``; `sample` and `correct` validate
    their arguments before calling them.
    """

    name: ClassVar[str] = "task"
    output_activation: ClassVar[OutputActivation] = "sigmoid"
    loss: ClassVar[LossName] = "mse"

    @property
    @abstractmethod
    def input_size(self) -> int:
        """I, the number of input units."""

    @property
    @abstractmethod
    def output_size(self) -> int:
        """O, the number of output units."""

    def sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        """Draw ``batch`` fresh sequences using only ``rng``."""
        return self._sample(check_rng(rng), check_batch_size(batch))

    def correct(self, output: Any, batch: SequenceBatch) -> np.ndarray:
        """(B,) bool: whether each sequence is processed correctly by the paper's criterion.

        Args:
            output: the network's outputs (after the output activation), (B, T, O), as a numpy
                array or torch tensor; only the masked steps are judged.
            batch: the batch the outputs belong to.
        """
        if batch.y.shape[2] != self.output_size:
            raise RnnaiError(
                f"batch targets have {batch.y.shape[2]} units, this task has {self.output_size}"
            )
        return np.asarray(self._correct(as_output_array(output, batch), batch), dtype=bool)

    @abstractmethod
    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch: ...

    @abstractmethod
    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray: ...

    def __repr__(self) -> str:
        config = getattr(self, "config", None)
        return f"{type(self).__name__}({config!r})" if config is not None else type(self).__name__
