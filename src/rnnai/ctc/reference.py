"""The CTC forward pass and an exact (brute-force) decoder for small problems.

A. Graves, S. Fernandez, F. Gomez & J. Schmidhuber, "Connectionist Temporal Classification",
ICML 2006, Sec. 4.1. For a labelling l, let l' be l with a blank added at the start, the end and
between every pair of labels (|l'| = 2|l| + 1). The forward variables

    alpha_1(1) = y^1_b,   alpha_1(2) = y^1_{l_1},   alpha_1(s) = 0 for s > 2          (Eq. 6)
    alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1)) y^t_{l'_s}
                     if l'_s = b or l'_{s-2} = l'_s,
                 (alpha_{t-1}(s) + alpha_{t-1}(s-1) + alpha_{t-1}(s-2)) y^t_{l'_s}
                     otherwise                                                       (Eq. 7)
    p(l | x) = alpha_T(|l'|) + alpha_T(|l'| - 1)                                      (Eq. 8)

are computed here in log space (products become sums, sums become logaddexp), so nothing
underflows for long T. ``-ctc_log_likelihood`` equals ``torch.nn.functional.ctc_loss`` with
``reduction="none"`` (a test checks it).

`exact_decode` enumerates every labelling up to a maximal length, scores each by the forward pass
and returns the most probable one: ``argmax_l p(l | x)``, the decoding rule that prefix search and
beam search approximate (Graves et al. 2006, Eq. 9). It is exponential in T and meant for tests
and for small hand-made examples only.

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import ctc_log_likelihood, exact_decode
    >>> y = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))  # (T, C)
    >>> round(float(np.exp(ctc_log_likelihood(y, [1]))), 2)  # paths a-, -a, aa
    0.64
    >>> exact_decode(y).labels
    [1]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

from rnnai.ctc import _kernels
from rnnai.ctc._common import CTCInputError, Hypothesis, prepare

__all__ = ["MAX_EXACT_LABELLINGS", "ctc_log_likelihood", "exact_decode"]

#: `exact_decode` refuses problems with more candidate labellings than this.
MAX_EXACT_LABELLINGS = 200_000


def ctc_log_likelihood(
    log_probs: np.ndarray | torch.Tensor,
    labels: Sequence[int],
    blank: int = 0,
) -> float:
    """``ln p(labels | x)`` by the CTC forward pass (Graves et al. 2006, Eqs. 6-8, log space).

    Args:
        log_probs: ``(T, C)`` log-probabilities of one utterance.
        labels: The labelling (no blanks).
        blank: Index of the blank label.

    Returns:
        The log-probability; ``-inf`` when the labelling cannot be emitted in T frames.

    Raises:
        CTCInputError: bad ``log_probs`` (see `rnnai.ctc.prepare`), or labels out of range or
            equal to the blank.
    """
    x = prepare(log_probs, None, blank)
    if x.batched:
        raise CTCInputError("ctc_log_likelihood takes one utterance (T, C); got a batch")
    lab = _check_labels(labels, x.log_probs.shape[2], blank)
    return float(_kernels.ctc_forward(x.utterance(0), lab, blank))


def _check_labels(labels: Sequence[int], C: int, blank: int) -> np.ndarray:
    lab = np.asarray(labels, dtype=np.int64).reshape(-1)
    if lab.size and (lab.min() < 0 or lab.max() >= C):
        raise CTCInputError(f"labels must be in [0, C) = [0, {C}); got {lab.tolist()}")
    if (lab == blank).any():
        raise CTCInputError(f"labels must not contain the blank ({blank}); got {lab.tolist()}")
    return lab


def exact_decode(
    log_probs: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
    max_len: int | None = None,
) -> Hypothesis | list[Hypothesis]:
    """The most probable labelling by enumerating every labelling (exact, exponential).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.
        max_len: Longest labelling to try (default: the utterance's length, which is exact:
            no labelling longer than T has a path).

    Returns:
        One `Hypothesis` (or a list for a batch) with ``score = log_prob = max_l ln p(l | x)``.
        Ties go to the shorter, then lexicographically smaller labelling.

    Raises:
        CTCInputError: bad input, or more than `MAX_EXACT_LABELLINGS` candidates.
    """
    x = prepare(log_probs, lengths, blank)
    C = x.log_probs.shape[2]
    symbols = [k for k in range(C) if k != blank]
    out = []
    for b in range(x.log_probs.shape[0]):
        y = x.utterance(b)
        n = y.shape[0] if max_len is None else min(max_len, y.shape[0])
        count = sum(len(symbols) ** m for m in range(n + 1))
        if count > MAX_EXACT_LABELLINGS:
            raise CTCInputError(
                f"exact_decode would score {count} labellings (T = {y.shape[0]}, "
                f"{len(symbols)} labels); the limit is {MAX_EXACT_LABELLINGS}"
            )
        best = -np.inf
        best_l: tuple[int, ...] = ()
        for m in range(n + 1):
            for lab in itertools.product(symbols, repeat=m):
                v = _kernels.ctc_forward(y, np.array(lab, dtype=np.int64), blank)
                if v > best:
                    best, best_l = v, lab
        out.append(Hypothesis(list(best_l), float(best), float(best)))
    return out if x.batched else out[0]
