"""Graves' best-first prefix search decoding.

A. Graves, S. Fernandez, F. Gomez & J. Schmidhuber, "Connectionist Temporal Classification",
ICML 2006, Sec. 3.2 (the algorithm in full: A. Graves, "Supervised Sequence Labelling with
Recurrent Neural Networks", Springer 2012, Alg. 7.1).

For a prefix p, gamma_t(p_n) and gamma_t(p_b) are the probabilities that the first t frames emit
p and that frame t is a label or a blank. Extending the current best prefix p* by a label k:

    gamma_1(p_n) = y^1_k if p* is empty else 0,    gamma_1(p_b) = 0
    newLabelProb_t = gamma_{t-1}(p*_b) + (0 if p* ends in k else gamma_{t-1}(p*_n))
    gamma_t(p_n) = (gamma_{t-1}(p_n) + newLabelProb_t) y^t_k
    gamma_t(p_b) = (gamma_{t-1}(p_b) + gamma_{t-1}(p_n)) y^t_b
    P(p | x)    = gamma_T(p_n) + gamma_T(p_b)
    P(p... | x) = sum_t newLabelProb_t y^t_k  -  P(p | x)     (strict extensions of p)

The search keeps the best complete labelling l* and a queue of prefixes ordered by P(p... | x),
always expanding the queue's best, and stops once no prefix's extension mass exceeds P(l* | x):
then l* is exactly argmax_l p(l | x) (Eq. 9). Within one expansion the labels k are tried until
the extension mass not yet handed out (``probRemaining``) drops below P(l*).

Graves' heuristic for long sequences: the output is split at frames where the blank is very
probable (``y^t_b > blank_threshold``), each section is searched separately and the labellings are
concatenated. This is no longer exact; the returned ``log_prob`` is then the sum of the sections'
log-probabilities plus ``ln y^t_b`` of the boundary frames, a lower bound on ln p(l | x).

Deviations: all quantities are in log space (the paper works with probabilities, which underflow
for long T). The search is exponential in the worst case; ``max_expansions`` caps it per section
and a `UserWarning` says when the cap was hit (the result is then the best found so far).

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import best_path, prefix_search
    >>> y = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))  # (T, C): blank, "a"
    >>> best_path(y).labels, prefix_search(y).labels  # p("a") = 0.64 > p("") = 0.36
    ([], [1])
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from rnnai.ctc import _kernels
from rnnai.ctc._common import CTCInputError, Hypothesis, prepare

__all__ = ["prefix_search", "split_at_blanks"]


def split_at_blanks(log_probs: np.ndarray, blank: int, threshold: float) -> list[tuple[int, int]]:
    """Sections ``[start, stop)`` between frames whose blank probability exceeds ``threshold``.

    Args:
        log_probs: ``(T, C)`` log-probabilities of one utterance.
        blank: Index of the blank label.
        threshold: A frame with ``y^t_b > threshold`` is a boundary (it belongs to no section).

    Returns:
        The non-empty sections in order.
    """
    boundary = log_probs[:, blank] > np.log(threshold)  # (T,)
    sections, start = [], 0
    for t in np.flatnonzero(boundary):
        if t > start:
            sections.append((start, int(t)))
        start = int(t) + 1
    if start < log_probs.shape[0]:
        sections.append((start, log_probs.shape[0]))
    return sections


def prefix_search(
    log_probs: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
    blank_threshold: float | None = 0.999,
    max_expansions: int = 1000,
) -> Hypothesis | list[Hypothesis]:
    """Best-first prefix search decoding (Graves et al. 2006, Sec. 3.2).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.
        blank_threshold: Split the output at frames with blank probability above this and search
            the sections separately (Graves' heuristic); None searches the whole utterance, which
            is exact when the search finishes.
        max_expansions: Most prefixes expanded per section; memory is about
            ``max_expansions * C * T * 16`` bytes in the worst case.

    Returns:
        One `Hypothesis` (or a list for a batch); ``score = log_prob`` is ln p(labels | x)
        (a lower bound when the output was split).

    Raises:
        CTCInputError: bad input, ``blank_threshold`` outside (0, 1), ``max_expansions < 1``.
    """
    if blank_threshold is not None and not 0.0 < blank_threshold < 1.0:
        raise CTCInputError(f"blank_threshold must be in (0, 1) or None; got {blank_threshold}")
    if max_expansions < 1:
        raise CTCInputError(f"max_expansions must be >= 1; got {max_expansions}")
    x = prepare(log_probs, lengths, blank)
    out, capped = [], False
    for b in range(x.log_probs.shape[0]):
        y = x.utterance(b)
        if blank_threshold is None:
            sections = [(0, y.shape[0])]
        else:
            sections = split_at_blanks(y, blank, blank_threshold)
        covered = np.zeros(y.shape[0], dtype=bool)
        labels: list[int] = []
        total = 0.0
        for start, stop in sections:
            lab, lp, finished = _kernels.prefix_search(y[start:stop], blank, max_expansions)
            labels += lab.tolist()
            total += lp
            capped |= not finished
            covered[start:stop] = True
        total += float(y[~covered, blank].sum())  # boundary frames emit the blank
        out.append(Hypothesis(labels, total, total))
    if capped:
        warnings.warn(
            f"prefix search stopped after max_expansions={max_expansions} in some section; the "
            "result may not be the most probable labelling",
            stacklevel=2,
        )
    return out if x.batched else out[0]
