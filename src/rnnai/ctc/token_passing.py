"""Dictionary decoding by token passing.

A. Graves, M. Liwicki, S. Fernandez, R. Bertolami, H. Bunke & J. Schmidhuber, "A Novel
Connectionist System for Unconstrained Handwriting Recognition", IEEE TPAMI 31(5):855-868, 2009,
Sec. 4.2 and Alg. 1 ("CTC Token Passing").

Each dictionary word w is expanded to w' = (b, w_1, b, w_2, ..., w_L, b). A token (score,
history) sits in every segment s of every w'; at each frame a segment takes the best token among
itself, segment s-1 and (for a label differing from w'_{s-2}) segment s-2, and adds
ln y^t_{w'_s}. A word's output token at frame t-1 may enter any word w at frame t, picking

    w* = argmax_v [ tok(v, -1, t-1).score + ln p(w | v) ]

with p(w | v) a bigram word LM (uniform without one), and appending w to the history. The best
output token at frame T gives the word sequence:

    argmax_{w_1..w_N}  max_pi ln p(pi | x) + lm_weight ln p(w_1..w_N) + insertion_bonus N,

where pi ranges over the CTC paths of the words' concatenated labels (with a ``separator`` label
between words when one is given; the last word may omit it).

Deviations, each to make the result the exact Viterbi optimum of the expression above:
(1) Graves keeps one output token per word; we keep two, ending in the word's final blank or
final label, because a word may start right after the previous word's last label only when its
first label differs (else the CTC collapse would merge them). (2) The empty word sequence (all
blanks) is a candidate too, and the LM's start and end probabilities are used. Cost: O(T W^2 +
T sum_w |w'|) for W words (the argmax over v is done for every w; fine for a few thousand words).

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import token_passing
    >>> y = np.log(np.array([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]))  # a _ b
    >>> token_passing(y, [[1, 2], [2, 1]]).words  # dictionary: "ab", "ba"
    [0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rnnai.ctc import _kernels
from rnnai.ctc._common import CTCInputError, WordHypothesis, prepare
from rnnai.ctc.language import WordBigramLM

__all__ = ["token_passing"]


def token_passing(
    log_probs: np.ndarray | torch.Tensor,
    words: Sequence[Sequence[int]],
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
    *,
    lm: WordBigramLM | None = None,
    lm_weight: float = 1.0,
    insertion_bonus: float = 0.0,
    separator: int | None = None,
) -> WordHypothesis | list[WordHypothesis]:
    """The best dictionary word sequence by CTC token passing (Graves et al. 2009, Alg. 1).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        words: The dictionary: each word a non-empty label sequence (no blank).
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.
        lm: A fitted `WordBigramLM` over ``len(words)`` words (None: every sequence equally likely).
        lm_weight: Weight of the LM log-probability.
        insertion_bonus: Added per word (negative values penalise insertions).
        separator: A label that must appear between consecutive words (e.g. the space), or None.

    Returns:
        One `WordHypothesis` (or a list for a batch).

    Raises:
        CTCInputError: bad input, an empty dictionary or word, labels out of range, an LM of
            another size.
    """
    x = prepare(log_probs, lengths, blank)
    C = x.log_probs.shape[2]
    if len(words) == 0:
        raise CTCInputError("the dictionary is empty")
    if separator is not None and (not 0 <= separator < C or separator == blank):
        raise CTCInputError(f"separator must be a label in [0, {C}) other than the blank")
    seqs = []
    for w in words:
        w = [int(k) for k in w]
        if not w or any(not 0 <= k < C or k == blank for k in w):
            raise CTCInputError(
                f"dictionary words must be non-empty label sequences in [0, {C}) without the "
                f"blank ({blank}); got {w}"
            )
        seqs.append(w + ([separator] if separator is not None else []))
    W = len(seqs)
    word_labels = np.array([k for w in seqs for k in w], dtype=np.int64)
    word_offsets = np.cumsum([0] + [len(w) for w in seqs]).astype(np.int64)
    if lm is not None:
        if not hasattr(lm, "table_") or lm.num_words_ != W:
            raise CTCInputError(f"the word LM must be fitted over the {W} dictionary words")
        table = lm.table_
    else:
        table = np.zeros((W + 1, W + 1))
    out = []
    for b in range(x.log_probs.shape[0]):
        idx, score = _kernels.token_passing(
            x.utterance(b), blank, word_labels, word_offsets, table, float(lm_weight),
            float(insertion_bonus), separator is not None,
        )  # fmt: skip
        ids = idx.tolist()
        labels: list[int] = []
        for i, w in enumerate(ids):
            labels += seqs[w] if i < len(ids) - 1 or separator is None else seqs[w][:-1]
        chain = [W, *ids, W]
        lm_part = sum(float(table[u, v]) for u, v in zip(chain[:-1], chain[1:], strict=True))
        log_prob = score - float(lm_weight) * lm_part - float(insertion_bonus) * len(ids)
        out.append(WordHypothesis(ids, labels, float(score), float(log_prob)))
    return out if x.batched else out[0]
