"""CTC prefix beam search, with an optional character n-gram LM and an optional lexicon.

The prefix beam search of A. Hannun, A. Maas, D. Jurafsky & A. Ng, "First-Pass Large Vocabulary
Continuous Speech Recognition using Bi-Directional Recurrent DNNs", arXiv:1408.2873, 2014
(Alg. 1), itself the beam version of Graves et al.'s prefix search (ICML 2006, Sec. 3.2; Graves
2012, Sec. 7.5). Each prefix l in the beam carries P_b(l) and P_nb(l), the probabilities that
frames 1..t emit l ending in a blank / in l's last label. At frame t, for each l and label c:

    P_b'(l)     += (P_b(l) + P_nb(l)) y^t_b                          (blank keeps l)
    P_nb'(l)    += P_nb(l) y^t_{l_end}                               (repeat keeps l)
    P_nb'(l+c)  += P_b(l) y^t_c             if c = l_end             (repeat needs a blank)
    P_nb'(l+c)  += (P_b(l) + P_nb(l)) y^t_c otherwise

Prefixes that meet (l + c equal to a prefix already in the beam) are merged by summing, and the
``beam`` best by

    score(l) = ln(P_b(l) + P_nb(l)) + alpha ln P_lm(l) + beta |l|

are kept. With no LM, a beam wide enough to keep every prefix makes this exact: it returns
argmax_l p(l | x) (Graves et al. 2006, Eq. 9). At the end, the LM's end-of-text probability is
added (alpha ln P_lm(end | l)), and with a lexicon only prefixes that end on a complete word (or
right after a separator) are returned (all of them if none does).

Options beyond the paper, both off by default (the search is then Hannun et al.'s, unpruned),
both with pyctcdecode's meaning so that its fast setting can be reproduced: ``token_min_logp``
skips new extensions by labels with ln y^t_c below it, except the frame's most probable label
(pyctcdecode's default: -5); ``beam_prune_logp`` drops prefixes whose score is more than
``-beam_prune_logp`` below the frame's best (pyctcdecode's default: -10). Unlike pyctcdecode, the
blank and repeat transitions that keep a prefix are never skipped, and the beam counts prefixes
(each with P_b and P_nb), not (prefix, last symbol) pairs.

All in log space, in the `rnnai.ctc._kernels.prefix_beam_search` kernel (prefixes as nodes of a
tree of integer arrays; a heap of the beam best and bounds on each prefix's best extension skip
most of the beam x C extensions; ties go to the earlier candidate in the textbook order).

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import beam_search
    >>> y = np.log(np.array([[0.6, 0.4, 0.0001], [0.6, 0.4, 0.0001]]) + 1e-12)
    >>> y -= np.logaddexp.reduce(y, axis=1, keepdims=True)
    >>> beam_search(y, beam=4).labels  # "a" (paths a-, -a, aa) beats the best path's ""
    [1]
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnai.ctc import _kernels
from rnnai.ctc._common import CTCInputError, Hypothesis, check_beam, prepare
from rnnai.ctc.language import CharNgramLM, Lexicon

__all__ = ["beam_search"]


def beam_search(
    log_probs: np.ndarray | torch.Tensor,
    lengths: np.ndarray | torch.Tensor | list[int] | None = None,
    blank: int = 0,
    beam: int = 16,
    *,
    lm: CharNgramLM | None = None,
    alpha: float = 0.5,
    beta: float = 0.0,
    lexicon: Lexicon | None = None,
    token_min_logp: float | None = None,
    beam_prune_logp: float | None = None,
    nbest: int | None = None,
) -> Hypothesis | list[Hypothesis] | list[list[Hypothesis]]:
    """CTC prefix beam search (Hannun et al. 2014, Alg. 1), optionally with an LM and a lexicon.

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities, numpy or torch.
        lengths: ``(B,)`` valid frames per utterance (default: all ``T``).
        blank: Index of the blank label.
        beam: Number of prefixes kept per frame, >= 1.
        lm: A fitted `CharNgramLM` over the same C labels and blank (None: no LM).
        alpha: LM weight (used only with ``lm``).
        beta: Insertion bonus per emitted label (used with or without an LM).
        lexicon: A `Lexicon` over the same labels (None: any labelling).
        token_min_logp: Skip new extensions by labels with ``ln y^t_c`` below this, except the
            frame's most probable label (None: skip none). pyctcdecode's default is -5.
        beam_prune_logp: Drop prefixes whose score is more than ``-beam_prune_logp`` below the
            frame's best, <= 0 (None: drop none). pyctcdecode's default is -10.
        nbest: None returns the best `Hypothesis` per utterance; an int returns up to that many,
            best first, as a list per utterance.

    Returns:
        For ``(T, C)`` input one `Hypothesis` (or a list of them with ``nbest``), for
        ``(B, T, C)`` a list of those. ``score`` is the ranking score above; ``log_prob`` is
        ln(P_b + P_nb), the CTC probability summed over the paths the beam kept.

    Raises:
        CTCInputError: bad input, ``beam < 1``, or an LM/lexicon built for another label set.
    """
    beam = check_beam(beam)
    if nbest is not None and nbest < 1:
        raise CTCInputError(f"nbest must be >= 1 or None; got {nbest}")
    x = prepare(log_probs, lengths, blank)
    C = x.log_probs.shape[2]
    if lm is not None:
        if not hasattr(lm, "table_"):
            raise CTCInputError("the CharNgramLM is not fitted: call fit() first")
        if lm.num_labels_ != C or lm.blank_ != blank:
            raise CTCInputError(
                f"the LM was fit for C = {lm.num_labels_}, blank = {lm.blank_}; the input has "
                f"C = {C}, blank = {blank}"
            )
        table, ctx0, a = lm.table_, lm.start_context(C, blank), float(alpha)
    else:
        table, ctx0, a = np.zeros((1, C)), 0, 0.0
    if lexicon is not None:
        if lexicon.num_labels != C or lexicon.blank != blank:
            raise CTCInputError(
                f"the lexicon was built for C = {lexicon.num_labels}, blank = {lexicon.blank}; "
                f"the input has C = {C}, blank = {blank}"
            )
        children, is_word, sep = lexicon.children_, lexicon.is_word_, lexicon.separator
    else:
        children, is_word, sep = np.full((1, C), -1, np.int64), np.zeros(1, np.bool_), -1
    tmin = -np.inf if token_min_logp is None else float(token_min_logp)
    bprune = -np.inf if beam_prune_logp is None else float(beam_prune_logp)
    if math.isnan(tmin) or math.isnan(bprune) or bprune > 0.0:
        raise CTCInputError(
            "token_min_logp must be a number and beam_prune_logp a number <= 0 (or None); got "
            f"token_min_logp = {token_min_logp}, beam_prune_logp = {beam_prune_logp}"
        )
    out: list = []
    for b in range(x.log_probs.shape[0]):
        labels, offsets, scores, ctc = _kernels.prefix_beam_search(
            x.utterance(b), blank, beam, tmin, bprune, table, ctx0, a, float(beta),
            lexicon is not None, children, is_word, sep,
        )  # fmt: skip
        keep = min(len(scores), 1 if nbest is None else nbest)
        hyps = [
            Hypothesis(
                labels[offsets[r] : offsets[r + 1]].tolist(), float(scores[r]), float(ctc[r])
            )
            for r in range(keep)
        ]
        if not hyps:  # every prefix had probability zero
            hyps = [Hypothesis([], -np.inf, -np.inf)]
        out.append(hyps[:nbest] if nbest is not None else hyps[0])
    return out if x.batched else out[0]
