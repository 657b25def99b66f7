"""Best path (greedy) decoding.

A. Graves, S. Fernandez, F. Gomez & J. Schmidhuber, "Connectionist Temporal Classification:
Labelling Unsegmented Sequence Data with Recurrent Neural Networks", ICML 2006, Sec. 3.2, Eq. 9:
take the most probable path and collapse it,

    h(x) ~= B(pi*),   pi* = argmax_pi prod_t y^t_{pi_t},

where B removes repeated labels and then blanks. Because the path's probability factorises over
frames, pi*_t = argmax_k y^t_k frame by frame. The result need not be the most probable labelling
(many paths map to one labelling); `rnnai.ctc.prefix_search` finds that one.

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import best_path, collapse
    >>> collapse(np.array([1, 1, 0, 1, 2, 2, 0]))
    [1, 1, 2]
    >>> y = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))  # (T, C)
    >>> best_path(y).labels  # the single best path is all blanks
    []
"""

from __future__ import annotations

import numpy as np
import torch

from rnnai.ctc._common import Hypothesis, prepare

__all__ = ["best_path", "collapse"]


def collapse(path: np.ndarray, blank: int = 0) -> list[int]:
    """The map B of Graves et al. 2006: merge repeated labels, then remove blanks.

    Args:
        path: ``(T,)`` integer labels, one per frame.
        blank: Index of the blank label.

    Returns:
        The labelling, as a list of ints.
    """
    path = np.asarray(path)
    if path.size == 0:
        return []
    keep = np.ones(path.shape[0], dtype=bool)
    keep[1:] = path[1:] != path[:-1]  # merge repeats
    keep &= path != blank  # then drop blanks
    return [int(k) for k in path[keep]]


def best_path(
    log_probs: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
) -> Hypothesis | list[Hypothesis]:
    """Greedy CTC decoding: the argmax label per frame, collapsed (Graves et al. 2006, Eq. 9).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.

    Returns:
        One `Hypothesis` for ``(T, C)`` input, a list of ``B`` for ``(B, T, C)``. ``score`` and
        ``log_prob`` are ``sum_t ln y^t_{pi*_t}``, the log-probability of the best path.
    """
    x = prepare(log_probs, lengths, blank)
    out = []
    paths = x.log_probs.argmax(-1)  # (B, T)
    best = np.take_along_axis(x.log_probs, paths[..., None], -1)[..., 0]  # (B, T)
    for b, n in enumerate(x.lengths):
        score = float(best[b, :n].sum())
        out.append(Hypothesis(collapse(paths[b, :n], blank), score, score))
    return out if x.batched else out[0]
