"""Shared pieces of the CTC decoders: result types and input validation.

Every decoder takes the network's per-frame log-probabilities ``y`` (Graves et al. 2006 write
``y^t_k`` for the probability of label ``k`` at time ``t``; we pass ``ln y^t_k``) either as one
sequence ``(T, C)`` or as a padded batch ``(B, T, C)`` with ``lengths`` ``(B,)``, as a numpy array
or a torch tensor. `prepare` checks them once and hands the kernels float64 C-contiguous arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "CTCInputError",
    "Hypothesis",
    "KeywordHit",
    "Prepared",
    "WordHypothesis",
    "check_beam",
    "prepare",
]

#: Rows of valid log-probabilities have ``|logsumexp| <= LOGSUMEXP_ATOL`` (float32 softmax is
#: normalised to about 1e-6; the tolerance only has to tell log-probabilities from other things).
LOGSUMEXP_ATOL = 1e-3


class CTCInputError(RnnaiError):
    """Bad decoder input: the message names what was expected and what was received."""


@dataclass(frozen=True)
class Hypothesis:
    """One decoded labelling.

    Attributes:
        labels: The labelling (blanks removed, repeats collapsed), as label indices.
        score: What the decoder ranked by: ``log_prob`` plus any language-model and insertion
            terms (equal to ``log_prob`` without a language model).
        log_prob: The decoder's CTC log-probability of ``labels``: for best path the log-probability
            of the single best path; for prefix search and beam search ``ln p(labels | x)``
            summed over the paths the search kept (exact for prefix search without splitting and
            for a beam wide enough to keep every prefix, a lower bound otherwise).
    """

    labels: list[int]
    score: float
    log_prob: float


@dataclass(frozen=True)
class WordHypothesis:
    """A word sequence decoded with a dictionary (token passing).

    Attributes:
        words: Indices into the dictionary, in order.
        labels: The labelling the words spell (with separators where a separator was given).
        score: Best-path log-probability plus ``lm_weight`` times the word LM log-probability plus
            ``insertion_bonus`` per word.
        log_prob: The CTC part of ``score``: log-probability of the best path through the words.
    """

    words: list[int]
    labels: list[int]
    score: float
    log_prob: float


@dataclass(frozen=True)
class KeywordHit:
    """A keyword's best occurrence in one utterance.

    Attributes:
        keyword: Index of the keyword in the list passed to the spotter.
        log_prob: ``ln max_{s<=e} p(keyword | y_s..y_e)``, the log-posterior of the best segment.
        start: First frame of that segment (inclusive); -1 when the keyword cannot fit.
        end: Last frame of that segment (inclusive); -1 when the keyword cannot fit.
    """

    keyword: int
    log_prob: float
    start: int
    end: int

    @property
    def confidence(self) -> float:
        """``exp(log_prob)``, a posterior in [0, 1]."""
        return float(np.exp(self.log_prob))


@dataclass(frozen=True)
class Prepared:
    """Validated decoder input.

    Attributes:
        log_probs: ``(B, T, C)`` float64, C-contiguous.
        lengths: ``(B,)`` int64, each in ``[0, T]``.
        batched: Whether the caller passed a batch (results are then a list).
    """

    log_probs: np.ndarray
    lengths: np.ndarray
    batched: bool

    def utterance(self, b: int) -> np.ndarray:
        """The valid frames of utterance ``b``: ``(lengths[b], C)``, C-contiguous."""
        return self.log_probs[b, : self.lengths[b]]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu").numpy()
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{name} must be a numpy array or a torch tensor; got {type(x).__name__}")


def prepare(
    log_probs: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int] | int | None = None,
    blank: int = 0,
    *,
    check_normalized: bool = True,
) -> Prepared:
    """Validate decoder input and convert it to float64 numpy.

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities (e.g. ``log_softmax`` outputs).
        lengths: ``(B,)`` valid frames per utterance (None: all ``T``); an int for ``(T, C)``.
        blank: Index of the blank label, in ``[0, C)``.
        check_normalized: Check that every valid row is a log-distribution
            (``|logsumexp| <= 1e-3``). Turn off only for inputs known to be normalised.

    Returns:
        The validated batch.

    Raises:
        TypeError: ``log_probs`` is not an array/tensor, or ``lengths``/``blank`` not integers.
        CTCInputError: wrong rank, empty alphabet, blank out of range, lengths of the wrong shape,
            negative or longer than ``T``, NaN or +inf, or rows that are not log-probabilities.
    """
    x = _to_numpy(log_probs, "log_probs")
    if x.ndim not in (2, 3):
        raise CTCInputError(
            f"log_probs must have shape (T, C) or (B, T, C); got rank {x.ndim} with shape "
            f"{tuple(x.shape)}"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise TypeError(f"log_probs must hold real numbers; got dtype {x.dtype}")
    batched = x.ndim == 3
    if not batched:
        x = x[None]
    B, T, C = x.shape
    if C < 1:
        raise CTCInputError(f"log_probs must have at least one class (C >= 1); got C = {C}")
    if isinstance(blank, bool) or not isinstance(blank, int | np.integer):
        raise TypeError(f"blank must be an int; got {type(blank).__name__}")
    if not 0 <= blank < C:
        raise CTCInputError(f"blank index must be in [0, C) = [0, {C}); got {blank}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    lens = _lengths(lengths, B, T, batched)
    full = bool((lens == T).all())
    valid = np.arange(T)[None, :] < lens[:, None]  # (B, T)
    rows = x.reshape(B * T, C) if full else x[valid]  # (N, C), a view when nothing is padding
    if rows.size:
        m = rows.max(-1)  # (N,); NaN where a row holds a NaN
        if not np.isfinite(m).all():
            if np.isnan(m).any():
                b, t = np.argwhere(valid & np.isnan(x).any(-1))[0]
                raise CTCInputError(f"log_probs contains NaN (first at b={b}, t={t})")
            if np.isposinf(m).any():
                b, t = np.argwhere(valid & np.isposinf(x).any(-1))[0]
                raise CTCInputError(f"log_probs contains +inf (first at b={b}, t={t})")
        if check_normalized:
            # float32 exp is about 3x faster than float64 here and ample for a 1e-3 tolerance
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                d = (rows - m[:, None]).astype(np.float32)  # (N, C), <= 0
                lse = m + np.log(np.exp(d).sum(-1, dtype=np.float64))  # (N,)
            bad = ~(np.abs(lse) <= LOGSUMEXP_ATOL)
            if bad.any():
                n = int(np.argmax(bad))
                b, t = np.argwhere(valid)[n]
                if rows.min() >= 0.0 and rows.max() <= 1.0:
                    hint = "these look like probabilities: pass their log (e.g. log_softmax)"
                else:
                    hint = "these look like unnormalised scores: apply log_softmax over C"
                raise CTCInputError(
                    "log_probs rows must be log-probabilities (logsumexp over C = 0 within "
                    f"{LOGSUMEXP_ATOL:g}); row b={b}, t={t} has logsumexp {lse[n]:.4g}; {hint}"
                )
    return Prepared(x, lens, batched)


def _lengths(lengths: Any, B: int, T: int, batched: bool) -> np.ndarray:
    if lengths is None:
        return np.full(B, T, dtype=np.int64)
    if isinstance(lengths, int | np.integer) and not isinstance(lengths, bool):
        if batched:
            raise CTCInputError(f"lengths must have shape (B,) = ({B},) for batched log_probs")
        lens = np.array([lengths])
    else:
        lens = np.asarray(
            _to_numpy(lengths, "lengths") if not isinstance(lengths, list) else lengths
        )
        if lens.ndim != 1 or lens.shape[0] != B:
            raise CTCInputError(
                f"lengths must have shape (B,) = ({B},); got shape {tuple(lens.shape)}"
            )
        if lens.size and not np.issubdtype(lens.dtype, np.integer):
            raise TypeError(f"lengths must be integers; got dtype {lens.dtype}")
    lens = lens.astype(np.int64)
    if (lens < 0).any():
        b = int(np.argmax(lens < 0))
        raise CTCInputError(f"lengths must be >= 0; lengths[{b}] = {lens[b]}")
    if (lens > T).any():
        b = int(np.argmax(lens > T))
        raise CTCInputError(f"lengths[{b}] = {lens[b]} is longer than T = {T}")
    return lens


def check_beam(beam: int) -> int:
    """Return ``beam`` if it is an int >= 1, else raise `CTCInputError` / `TypeError`."""
    if isinstance(beam, bool) or not isinstance(beam, int | np.integer):
        raise TypeError(f"beam must be an int; got {type(beam).__name__}")
    if beam < 1:
        raise CTCInputError(f"beam must be >= 1; got {beam}")
    return int(beam)
