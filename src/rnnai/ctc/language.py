"""Language constraints for the decoders: a character n-gram LM, a lexicon trie, a word bigram LM.

* `CharNgramLM`: P(c | previous n-1 labels) with add-k smoothing (Jurafsky & Martin, "Speech and
  Language Processing", Ch. 3),

      P(c | h) = (count(h, c) + k) / (count(h) + k V),

  over the V = C label slots, where the blank's slot stands for the start-of-text symbol in a
  context and for the end-of-text symbol as a prediction (the blank never occurs in a labelling,
  so the slot is free). The table is dense: ``C**(n-1)`` contexts by ``C`` labels, so the prefix
  beam search kernel looks a probability up with one index (context id = the last n-1 labels in
  base C).
* `Lexicon`: a trie of allowed words (label sequences) and a word separator label; the prefix
  beam search keeps only prefixes that spell complete words joined by single separators, with the
  last word possibly still unfinished (it must be finished at the end).
* `WordBigramLM`: P(w | v) over dictionary words with add-k smoothing, for token passing (Graves
  et al. 2009 use a bigram word grammar); row/column W hold the start/end-of-sentence symbol.

Examples:
    >>> from rnnai.ctc import CharNgramLM, WordBigramLM, encode
    >>> encode("ab", ("<blank>", "a", "b"))
    [1, 2]
    >>> lm = WordBigramLM(k=0.1).fit([[0, 1], [0, 1], [1]], 2)  # two words, 0 then 1
    >>> bool(lm.log_prob([0, 1]) > lm.log_prob([1, 0]))
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rnnai.ctc._common import CTCInputError

__all__ = ["MAX_LM_TABLE", "CharNgramLM", "Lexicon", "WordBigramLM", "encode"]

#: Largest dense n-gram table (entries) `CharNgramLM` builds (128 MiB of float64).
MAX_LM_TABLE = 1 << 24


def encode(text: str, alphabet: str | Sequence[str]) -> list[int]:
    """Map characters to labels: label ``i`` is ``alphabet[i]``.

    Args:
        text: The text.
        alphabet: The character of each label (the blank's entry is never matched on purpose;
            give it a character that does not occur in text).

    Returns:
        The label sequence.

    Raises:
        CTCInputError: a character is not in the alphabet.
    """
    index = {ch: i for i, ch in enumerate(alphabet)}
    try:
        return [index[ch] for ch in text]
    except KeyError as e:
        raise CTCInputError(f"character {e.args[0]!r} of {text!r} is not in the alphabet") from e


def _check_sequence(seq: Sequence[int], C: int, blank: int, what: str) -> list[int]:
    seq = [int(k) for k in seq]
    for k in seq:
        if not 0 <= k < C or k == blank:
            raise CTCInputError(
                f"{what} must hold labels in [0, {C}) other than the blank ({blank}); got {seq}"
            )
    return seq


class CharNgramLM:
    """A character (label) n-gram language model with add-k smoothing.

    Args:
        order: n, the number of labels in an n-gram (1 = unigram).
        k: The add-k pseudo-count, > 0.

    Attributes:
        table_: ``(C**(order-1), C)`` log-probabilities ``ln P(c | h)``; row = context id.
        num_labels_: C. ``blank_``: the blank index (start/end symbol slot).
    """

    def __init__(self, order: int = 3, k: float = 0.1) -> None:
        if order < 1:
            raise CTCInputError(f"order must be >= 1; got {order}")
        if not k > 0:
            raise CTCInputError(f"k must be > 0; got {k}")
        self.order = order
        self.k = k

    def fit(
        self, sequences: Iterable[Sequence[int]], num_labels: int, blank: int = 0
    ) -> CharNgramLM:
        """Count n-grams in label sequences.

        Args:
            sequences: Training labellings (no blanks).
            num_labels: C, the size of the decoder's label set (blank included).
            blank: The blank index, used as the start/end symbol.

        Returns:
            self.
        """
        C, n = num_labels, self.order
        if not 0 <= blank < C:
            raise CTCInputError(f"blank index must be in [0, {C}); got {blank}")
        n_ctx = C ** (n - 1)
        if n_ctx * C > MAX_LM_TABLE:
            raise CTCInputError(
                f"a {n}-gram table over {C} labels has {n_ctx * C} entries; the limit is "
                f"{MAX_LM_TABLE}: lower the order"
            )
        counts = np.zeros((n_ctx, C))
        for seq in sequences:
            seq = _check_sequence(seq, C, blank, "training sequences")
            h = self.start_context(C, blank)
            for c in [*seq, blank]:  # the blank slot predicts end-of-text
                counts[h, c] += 1
                h = (h * C + c) % n_ctx
        self.num_labels_ = C
        self.blank_ = blank
        probs = (counts + self.k) / (counts.sum(1, keepdims=True) + self.k * C)  # add-k
        self.table_ = np.log(probs)
        return self

    def fit_text(
        self, texts: Iterable[str], alphabet: str | Sequence[str], blank: int = 0
    ) -> CharNgramLM:
        """`fit` on strings, with label ``i`` meaning ``alphabet[i]`` (see `encode`)."""
        return self.fit([encode(t, alphabet) for t in texts], len(alphabet), blank)

    def start_context(self, num_labels: int, blank: int) -> int:
        """The context id of the start of text: n-1 start symbols (blank slots)."""
        h = 0
        for _ in range(self.order - 1):
            h = h * num_labels + blank
        return h

    def log_prob(self, labels: Sequence[int]) -> float:
        """``sum_i ln P(l_i | h_i) + ln P(end | h)``: the log-probability of a whole labelling."""
        C = self.num_labels_
        n_ctx = self.table_.shape[0]
        h = self.start_context(C, self.blank_)
        total = 0.0
        for c in [*_check_sequence(labels, C, self.blank_, "labels"), self.blank_]:
            total += self.table_[h, c]
            h = (h * C + c) % n_ctx
        return float(total)


class Lexicon:
    """A trie of allowed words for lexicon-constrained beam search.

    Args:
        words: The allowed words, as label sequences (non-empty, no blank, no separator).
        num_labels: C, the size of the decoder's label set.
        separator: The label that separates words (e.g. the space).
        blank: The blank index.

    Attributes:
        children_: ``(n_nodes, C)`` int64 child node per label, -1 where none; node 0 is the root.
        is_word_: ``(n_nodes,)`` bool, whether the path to the node spells a word.
    """

    def __init__(
        self, words: Iterable[Sequence[int]], num_labels: int, separator: int, blank: int = 0
    ) -> None:
        C = num_labels
        if not 0 <= separator < C or separator == blank:
            raise CTCInputError(f"separator must be a label in [0, {C}) other than the blank")
        self.num_labels = C
        self.separator = separator
        self.blank = blank
        children = [[-1] * C]
        is_word = [False]
        for word in words:
            word = _check_sequence(word, C, blank, "lexicon words")
            if not word or separator in word:
                raise CTCInputError(
                    f"lexicon words must be non-empty, without the separator; got {word}"
                )
            node = 0
            for c in word:
                if children[node][c] < 0:
                    children[node][c] = len(children)
                    children.append([-1] * C)
                    is_word.append(False)
                node = children[node][c]
            is_word[node] = True
        self.children_ = np.array(children, dtype=np.int64)
        self.is_word_ = np.array(is_word, dtype=np.bool_)

    @classmethod
    def from_text(
        cls,
        words: Iterable[str],
        alphabet: str | Sequence[str],
        separator: str = " ",
        blank: int = 0,
    ) -> Lexicon:
        """Build from strings, with label ``i`` meaning ``alphabet[i]`` (see `encode`)."""
        sep = encode(separator, alphabet)
        if len(sep) != 1:
            raise CTCInputError(f"separator must be one character; got {separator!r}")
        return cls([encode(w, alphabet) for w in words], len(alphabet), sep[0], blank)

    def __contains__(self, word: Sequence[int]) -> bool:
        node = 0
        for c in word:
            if not 0 <= c < self.num_labels:
                return False
            node = int(self.children_[node, c])
            if node < 0:
                return False
        return node > 0 and bool(self.is_word_[node])


class WordBigramLM:
    """A word bigram language model with add-k smoothing, for token passing.

    Args:
        k: The add-k pseudo-count, > 0.

    Attributes:
        table_: ``(W+1, W+1)`` log-probabilities ``ln P(w | v)``; index W is the start symbol as
            a context (row) and the end symbol as a prediction (column).
    """

    def __init__(self, k: float = 0.1) -> None:
        if not k > 0:
            raise CTCInputError(f"k must be > 0; got {k}")
        self.k = k

    def fit(self, sentences: Iterable[Sequence[int]], num_words: int) -> WordBigramLM:
        """Count bigrams in sentences of word indices (each in ``[0, num_words)``).

        Returns:
            self.
        """
        W = num_words
        counts = np.zeros((W + 1, W + 1))
        for sentence in sentences:
            sentence = [int(w) for w in sentence]
            if any(not 0 <= w < W for w in sentence):
                raise CTCInputError(f"word indices must be in [0, {W}); got {sentence}")
            prev = W
            for w in [*sentence, W]:
                counts[prev, w] += 1
                prev = w
        self.num_words_ = W
        self.table_ = np.log((counts + self.k) / (counts.sum(1, keepdims=True) + self.k * (W + 1)))
        return self

    def log_prob(self, words: Sequence[int]) -> float:
        """``ln P(words)`` including the start and end transitions."""
        W = self.num_words_
        seq = [W, *words, W]
        return float(sum(self.table_[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True)))
