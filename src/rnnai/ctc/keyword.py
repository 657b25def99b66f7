"""Keyword spotting from CTC outputs.

After S. Fernandez, A. Graves & J. Schmidhuber, "An Application of Recurrent Neural Networks to
Discriminative Keyword Spotting", ICANN 2007, LNCS 4669, pp. 220-229. There the network has one
CTC output per keyword (plus blank) and a keyword's confidence is read from its output spikes.
Here keywords are label sequences over any CTC alphabet (characters, phonemes, or one label per
keyword as in the paper), and a keyword's confidence in an utterance is the posterior of its best
segment,

    conf(k) = max_{1 <= s <= e <= T} p(k | y_s, ..., y_e),

where p(k | y_s..y_e) is the CTC probability (the forward pass of Graves et al. 2006, Eqs. 6-8)
that frames s..e emit exactly k; the frames outside the segment may emit anything. It is a
probability in [0, 1], near 1 where the network spikes the keyword's labels in order, and the
arg-max segment (s, e) locates the keyword. With one label per keyword it reduces to the
strongest spike (summed over neighbouring frames), as in the paper.

Only the best occurrence per keyword and utterance is reported. Cost: one forward pass per start
frame, O(T^2 |k|) in the worst case, cut short when a start's remaining mass cannot win.

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import spot_keywords
    >>> y = np.log(np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.9, 0.05, 0.05]]))
    >>> hit, miss = spot_keywords(y, [[1], [2]])
    >>> (hit.start, hit.end), round(hit.confidence, 2) > round(miss.confidence, 2)
    ((1, 1), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rnnai.ctc import _kernels
from rnnai.ctc._common import CTCInputError, KeywordHit, prepare

__all__ = ["spot_keywords"]


def spot_keywords(
    log_probs: np.ndarray | torch.Tensor,
    keywords: Sequence[Sequence[int]],
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
) -> list[KeywordHit] | list[list[KeywordHit]]:
    """Each keyword's best segment and its posterior (after Fernandez et al. 2007).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        keywords: Each keyword a non-empty label sequence (no blank).
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.

    Returns:
        For ``(T, C)`` input a list with one `KeywordHit` per keyword (in the given order); for
        a batch one such list per utterance. A keyword that cannot fit in the utterance gets
        ``log_prob = -inf`` and ``start = end = -1``.

    Raises:
        CTCInputError: bad input, or an empty keyword / one with labels out of range.
    """
    x = prepare(log_probs, lengths, blank)
    C = x.log_probs.shape[2]
    kws = []
    for keyword in keywords:
        kw = np.asarray(keyword, dtype=np.int64).reshape(-1)
        if kw.size == 0 or (kw < 0).any() or (kw >= C).any() or (kw == blank).any():
            raise CTCInputError(
                f"keywords must be non-empty label sequences in [0, {C}) without the blank "
                f"({blank}); got {kw.tolist()}"
            )
        kws.append(kw)
    out = []
    for b in range(x.log_probs.shape[0]):
        y = x.utterance(b)
        hits = []
        for i, kw in enumerate(kws):
            lp, s, e = _kernels.keyword_segment(y, blank, kw)
            hits.append(
                KeywordHit(
                    i, float(lp), int(s) if lp > -np.inf else -1, int(e) if lp > -np.inf else -1
                )
            )
        out.append(hits)
    return out if x.batched else out[0]
