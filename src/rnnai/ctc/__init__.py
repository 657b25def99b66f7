"""CTC decoders and metrics (the loss itself is ``torch.nn.functional.ctc_loss``).

Every decoder takes log-probabilities ``(T, C)`` or ``(B, T, C)`` (numpy or torch) with optional
``lengths`` ``(B,)`` and a ``blank`` index (default 0), and returns one result per utterance (a
list for a batch):

* `best_path`: greedy decoding (Graves et al. 2006, Eq. 9).
* `prefix_search`: Graves' best-first prefix search, split at blank-dominated frames
  (Graves et al. 2006, Sec. 3.2).
* `beam_search`: prefix beam search (Hannun et al. 2014) with an optional `CharNgramLM` and
  `Lexicon`.
* `token_passing`: dictionary decoding with an optional `WordBigramLM` (Graves et al. 2009).
* `spot_keywords`: keyword posteriors and positions (after Fernandez, Graves & Schmidhuber 2007).
* `exact_decode` and `ctc_log_likelihood`: brute force and the CTC forward pass, for checking.
* `label_error_rate`, `word_error_rate`, `edit_distance`: metrics (Levenshtein via rapidfuzz);
  `error_counts` and `error_rate_interval`: per-item errors and a bootstrap interval of a rate.

Examples:
    >>> import numpy as np
    >>> from rnnai.ctc import best_path, label_error_rate, prefix_search
    >>> y = np.log(np.array([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]))  # (T, C)
    >>> best_path(y).labels, prefix_search(y).labels
    ([1, 2], [1, 2])
    >>> label_error_rate([[1, 2]], [best_path(y).labels])
    0.0
"""

from rnnai.ctc._common import CTCInputError, Hypothesis, KeywordHit, WordHypothesis, prepare
from rnnai.ctc.beam import beam_search
from rnnai.ctc.best_path import best_path, collapse
from rnnai.ctc.keyword import spot_keywords
from rnnai.ctc.language import CharNgramLM, Lexicon, WordBigramLM, encode
from rnnai.ctc.metrics import (
    edit_distance,
    error_counts,
    error_rate_interval,
    label_error_rate,
    word_error_rate,
    words,
)
from rnnai.ctc.prefix_search import prefix_search, split_at_blanks
from rnnai.ctc.reference import ctc_log_likelihood, exact_decode
from rnnai.ctc.token_passing import token_passing

__all__ = [
    "CTCInputError",
    "CharNgramLM",
    "Hypothesis",
    "KeywordHit",
    "Lexicon",
    "WordBigramLM",
    "WordHypothesis",
    "beam_search",
    "best_path",
    "collapse",
    "ctc_log_likelihood",
    "edit_distance",
    "encode",
    "error_counts",
    "error_rate_interval",
    "exact_decode",
    "label_error_rate",
    "prefix_search",
    "prepare",
    "spot_keywords",
    "split_at_blanks",
    "token_passing",
    "word_error_rate",
    "words",
]
