"""Vocabularies and the word-sequence source shared by the speech and text-line generators.

Texts are word sequences drawn from a fixed vocabulary, either i.i.d. uniform (connected digits,
as in TIDIGITS) or from a word-bigram Markov chain, so that a bigram word language model fitted
on held-out text helps decoding (A. Graves, M. Liwicki, S. Fernandez, R. Bertolami, H. Bunke and
J. Schmidhuber, A novel connectionist system for unconstrained handwriting recognition, IEEE
TPAMI 31(5):855-868, 2009, decode with a dictionary and a bigram word grammar).

The chain: every word v (and the start state ``<s>``) gets ``successors`` preferred next words,
drawn without replacement from the vocabulary, with weights from a flat Dirichlet; with
probability ``smoothing`` the next word is instead uniform over the whole vocabulary::

    P(w | v) = (1 - eps) * pi_v(w) + eps / V,     pi_v ~ Dirichlet(1, ..., 1) on S_v, |S_v| = k

The table depends only on (vocabulary, k, eps, grammar_seed), never on the data seed, so the
same "language" underlies every split drawn from one config. A line has a word count uniform in
``min_words..max_words``; its words are joined by single spaces.

Examples:
    >>> from rnnai.data import KEYWORDS, TEXT_LINES, text_corpus, vocabulary
    >>> lines = text_corpus(TEXT_LINES, 2, seed=0)
    >>> lines == text_corpus(TEXT_LINES, 2, seed=0), all(
    ...     w in vocabulary(TEXT_LINES) for line in lines for w in line.split())
    (True, True)
    >>> "stop" in KEYWORDS
    True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed

__all__ = [
    "DIGIT_WORDS",
    "KEYWORDS",
    "SPOKEN_WORDS",
    "TEXT_WORDS",
    "TextSource",
    "check_count",
    "check_range",
    "check_text_fields",
    "check_seed",
    "check_vocabulary",
    "item_rng",
    "item_words",
    "sample_words",
    "text_corpus",
    "transition_matrix",
    "vocabulary",
]

DIGIT_WORDS: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "oh",
)
"""The eleven TIDIGITS words: zero..nine and "oh"."""

SPOKEN_WORDS: tuple[str, ...] = (
    # commands
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
    "open", "close", "start", "turn", "move", "play", "please", "wait",
    # colours and things
    "red", "green", "blue", "yellow", "black", "white",
    "house", "garden", "window", "water", "music", "light", "door", "table",
    "cat", "dog", "bird", "horse",
    # time and manner
    "today", "tomorrow", "morning", "evening", "quickly", "slowly", "again",
    # small numbers and function words
    "one", "two", "three", "four", "five", "the", "a", "and", "to",
)  # fmt: skip
"""A 52-word spoken vocabulary: commands, colours, objects, time words, numbers, function words."""

KEYWORDS: tuple[str, ...] = ("stop", "music", "window", "yellow", "tomorrow", "garden")
"""Keyword candidates in `SPOKEN_WORDS`: two or more syllables or a distinctive sound each."""

TEXT_WORDS: tuple[str, ...] = tuple(
    """
    a about above across after again against air all almost along also always am among an and
    animal another answer any are around as ask at away back be because been before began begin
    behind being below best better between big bird black blue boat body book both box boy bring
    brother build but by call came can car carry cat change child children city close cold come
    could country cut dark day deep did different do does dog done door down draw dream drink
    during each early earth east eat end enough even evening ever every eye face fall family far
    farm fast father feel few field find fire first fish five floor follow food foot for forest
    form found four free friend from front full game garden gave get girl give glass go gold good
    got great green ground group grow had half hand happy hard has have he head hear heart heavy
    help her here high hill him his hold home horse hot hour house how idea if in into is island
    it just keep kind king know land large last late laugh learn leave left less let letter life
    light like line list listen little live long look love low made make man many map may me mean
    men might mile milk mind miss money moon more morning most mother mountain move much music
    must my name near need never new next night no north not nothing now number of off often old
    on once one only open or other our out over own page paper part past people picture place
    plant play point poor port quick quiet rain read ready red rest right river road rock room
    round run said same saw say school sea second see seem sentence set she ship short should show
    side simple sing sister sit six sky sleep slow small snow so some something song soon sound
    south space speak spring stand star start stay still stone stop story street strong study such
    summer sun table take talk tall tell ten than that the their them then there these they thing
    think this those three through time to today together told too took top toward town tree true
    try turn two under until up us use very voice walk wall want warm was watch water way we week
    well went were west what wheel when where which while white who why wide wild will wind window
    winter with without woman wood word work world would write year yellow yes you young
    """.split()
)
"""A 421-word lexicon of common English words (lowercase a-z) for rendered text lines."""


def check_vocabulary(
    vocabulary: Sequence[str], allowed: str, what: str, *, unique: bool = True
) -> tuple[str, ...]:
    """Check that a vocabulary is a non-empty sequence of distinct words over ``allowed``.

    Args:
        vocabulary: The words.
        allowed: The characters a word may contain (a space is never allowed inside a word).
        what: The name used in error messages (e.g. ``"SpeechConfig.vocabulary"``).
        unique: Whether repeated words are an error.

    Returns:
        The vocabulary as a tuple.

    Raises:
        RnnaiError: If it is empty, not a sequence of strings, holds an empty word, a word with a
            character outside ``allowed`` or (``unique``) a repeated word.
    """
    if isinstance(vocabulary, str) or not isinstance(vocabulary, Sequence):
        raise RnnaiError(f"{what} must be a tuple of words, got {type(vocabulary).__name__}")
    words = tuple(vocabulary)
    if not words:
        raise RnnaiError(f"{what} is empty; give at least one word")
    for w in words:
        if not isinstance(w, str) or not w:
            raise RnnaiError(f"{what} must hold non-empty strings, got {w!r}")
        bad = sorted({c for c in w if c not in allowed or c.isspace()})
        if bad:
            raise RnnaiError(
                f"{what}: word {w!r} has characters {''.join(bad)!r} outside the allowed set "
                f"{allowed!r}"
            )
    if unique and len(set(words)) != len(words):
        repeated = sorted({w for w in words if words.count(w) > 1})
        raise RnnaiError(f"{what} repeats words {repeated}")
    return words


@functools.lru_cache(maxsize=16)
def transition_matrix(
    vocabulary: tuple[str, ...], successors: int | None, smoothing: float, grammar_seed: int
) -> np.ndarray:
    """Return the bigram chain's transition table (see the module docstring).

    Args:
        vocabulary: The V words.
        successors: k, the preferred successors per word; None gives i.i.d. uniform words.
        smoothing: eps in [0, 1], the probability of a uniform draw instead.
        grammar_seed: The seed of the table (independent of any data seed).

    Returns:
        (V + 1, V) float64: row 0 is P(first word), row ``1 + v`` is P(w | v); rows sum to 1.
        The array is shared between calls: do not modify it.

    Raises:
        RnnaiError: If ``successors`` is not in 1..V or ``smoothing`` not in [0, 1].
    """
    V = len(vocabulary)
    if successors is None:
        P = np.full((V + 1, V), 1.0 / V)
    else:
        if isinstance(successors, bool) or not isinstance(successors, int):
            raise RnnaiError(f"successors must be an int or None, got {successors!r}")
        if not 1 <= successors <= V:
            raise RnnaiError(
                f"successors must be in 1..{V} (the vocabulary size), got {successors}"
            )
        if not 0.0 <= smoothing <= 1.0:
            raise RnnaiError(f"bigram smoothing must be in [0, 1], got {smoothing}")
        rng = np.random.default_rng(np.random.SeedSequence([int(grammar_seed), V, successors]))
        P = np.full((V + 1, V), smoothing / V)
        for row in range(V + 1):
            S = rng.choice(V, size=successors, replace=False)  # S_v
            pi = rng.dirichlet(np.ones(successors))  # pi_v on S_v
            P[row, S] += (1.0 - smoothing) * pi
        P /= P.sum(axis=1, keepdims=True)
    P.setflags(write=False)
    return P


def sample_words(
    rng: np.random.Generator,
    vocabulary: tuple[str, ...],
    min_words: int,
    max_words: int,
    successors: int | None,
    smoothing: float,
    grammar_seed: int,
) -> list[str]:
    """Draw one word sequence from the chain.

    Args:
        rng: The item's generator.
        vocabulary: The V words.
        min_words: The fewest words (>= 1).
        max_words: The most words (>= min_words).
        successors: k of the chain (None: i.i.d. uniform words).
        smoothing: eps of the chain.
        grammar_seed: The chain's seed.

    Returns:
        The words.
    """
    cdf = _cumulative(vocabulary, successors, smoothing, grammar_seed)  # (V + 1, V)
    V = len(vocabulary)
    n = int(rng.integers(min_words, max_words + 1))
    out: list[str] = []
    row = 0
    for u in rng.random(n):  # inverse-CDF sampling: w = min{w : F(w) > u}
        w = min(int(np.searchsorted(cdf[row], u, side="right")), V - 1)
        out.append(vocabulary[w])
        row = 1 + w
    return out


@functools.lru_cache(maxsize=16)
def _cumulative(
    vocabulary: tuple[str, ...], successors: int | None, smoothing: float, grammar_seed: int
) -> np.ndarray:
    cdf = np.cumsum(transition_matrix(vocabulary, successors, smoothing, grammar_seed), axis=1)
    cdf.setflags(write=False)
    return cdf


class TextSource(Protocol):
    """The text fields shared by `SpeechConfig` and `TextLineConfig` (see their docstrings)."""

    @property
    def vocabulary(self) -> tuple[str, ...]: ...

    @property
    def min_words(self) -> int: ...

    @property
    def max_words(self) -> int: ...

    @property
    def successors(self) -> int | None: ...

    @property
    def bigram_smoothing(self) -> float: ...

    @property
    def grammar_seed(self) -> int: ...


def check_seed(seed: int) -> int:
    """Check that a data seed is a non-negative int.

    Args:
        seed: The seed.

    Returns:
        It, as a Python int.

    Raises:
        RnnaiError: If it is not an int or negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise RnnaiError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise RnnaiError(f"seed must be >= 0, got {seed}")
    return int(seed)


def check_count(n: int, what: str = "n") -> int:
    """Check that an item count is an int >= 1.

    Args:
        n: The count.
        what: Its name in the error message.

    Returns:
        It, as a Python int.

    Raises:
        RnnaiError: If it is not an int or below 1.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise RnnaiError(f"{what} must be an int, got {type(n).__name__}")
    if n < 1:
        raise RnnaiError(f"{what} must be >= 1, got {n}")
    return int(n)


def vocabulary(config: TextSource) -> tuple[str, ...]:
    """Return the lexicon of a speech or text-line config (for dictionary decoding).

    Args:
        config: A `SpeechConfig` or `TextLineConfig`.

    Returns:
        Its words, in the config's order.
    """
    return tuple(config.vocabulary)


@functools.lru_cache(maxsize=64)
def _stream_seed(seed: int, stream: str) -> int:
    return derive_seed(seed, stream)


def item_rng(seed: int, stream: str, i: int) -> np.random.Generator:
    """Return the generator of item ``i`` in a named stream of a data seed.

    The generator is seeded with the entropy ``[derive_seed(seed, stream), i]`` (a
    ``numpy.random.SeedSequence``), so every item has its own stream, independent of n, and the
    streams ``"text"``, ``"speech"`` and ``"text_lines"`` of one seed are independent.

    Args:
        seed: The data seed (>= 0).
        stream: The stream's name.
        i: The item index (>= 0).

    Returns:
        A fresh PCG64 generator.
    """
    return np.random.default_rng([_stream_seed(seed, stream), i])


def item_words(config: TextSource, seed: int, i: int) -> list[str]:
    """Return the words of item ``i`` of the data set drawn with ``seed``.

    Each item has its own stream, ``item_rng(seed, "text", i)``, so item i does not depend
    on how many items are drawn, and the speech and text-line generators draw the same texts
    for the same config text fields and seed.

    Args:
        config: A `SpeechConfig` or `TextLineConfig`.
        seed: The data seed.
        i: The item index.

    Returns:
        The item's words.
    """
    rng = item_rng(seed, "text", i)
    return sample_words(
        rng,
        tuple(config.vocabulary),
        config.min_words,
        config.max_words,
        config.successors,
        config.bigram_smoothing,
        config.grammar_seed,
    )


def text_corpus(config: TextSource, n_lines: int, seed: int) -> list[str]:
    """Return the texts alone, without synthesizing or rendering anything.

    ``text_corpus(config, n, seed)`` equals ``make_speech(config, n, seed).texts`` (or
    ``make_text_lines``): to fit a language model on text the recognizer never saw, use a seed
    that no data split uses.

    Args:
        config: A `SpeechConfig` or `TextLineConfig`.
        n_lines: How many texts (>= 1).
        seed: The data seed (>= 0).

    Returns:
        The texts: words joined by single spaces.

    Raises:
        RnnaiError: If ``n_lines`` < 1 or ``seed`` < 0.
    """
    n_lines = check_count(n_lines, "n_lines")
    seed = check_seed(seed)
    return [" ".join(item_words(config, seed, i)) for i in range(n_lines)]


def check_range(
    value: tuple[float, float],
    what: str,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
) -> tuple[float, float]:
    """Check a ``(lo, hi)`` range field: two numbers, ``lo <= hi``, within ``[low, high]``.

    Args:
        value: The range.
        what: The field's name in error messages.
        low: The smallest allowed value (None: unbounded).
        high: The largest allowed value (None: unbounded).
        integer: Whether both ends must be ints.

    Returns:
        The range as a tuple.

    Raises:
        RnnaiError: If it is not a pair of (integer) numbers in order and within bounds.
    """
    kinds = int | np.integer if integer else int | float | np.integer | np.floating
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, kinds) for v in value)
    ):
        kind = "ints" if integer else "numbers"
        raise RnnaiError(f"{what} must be a pair (lo, hi) of {kind}, got {value!r}")
    lo, hi = value
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise RnnaiError(f"{what} must be finite with lo <= hi, got {value!r}")
    if (low is not None and lo < low) or (high is not None and hi > high):
        raise RnnaiError(f"{what} must lie within [{low}, {high}], got {value!r}")
    return (lo, hi)


def check_text_fields(config: TextSource, allowed: str, what: str) -> None:
    """Check the text fields of a config (vocabulary, word counts, chain parameters).

    Args:
        config: A `SpeechConfig` or `TextLineConfig`.
        allowed: The characters a word may contain.
        what: The config's class name, for error messages.

    Raises:
        RnnaiError: If a field is invalid (the message names it).
    """
    words = check_vocabulary(config.vocabulary, allowed, f"{what}.vocabulary")
    for name in ("min_words", "max_words"):
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise RnnaiError(f"{what}.{name} must be an int >= 1, got {v!r}")
    if config.min_words > config.max_words:
        raise RnnaiError(
            f"{what}: min_words ({config.min_words}) exceeds max_words ({config.max_words})"
        )
    if config.successors is not None and (
        isinstance(config.successors, bool)
        or not isinstance(config.successors, int)
        or not 1 <= config.successors <= len(words)
    ):
        raise RnnaiError(
            f"{what}.successors must be None or an int in 1..{len(words)} (the vocabulary "
            f"size), got {config.successors!r}"
        )
    if not 0.0 <= config.bigram_smoothing <= 1.0:
        raise RnnaiError(
            f"{what}.bigram_smoothing must be in [0, 1], got {config.bigram_smoothing}"
        )
    if isinstance(config.grammar_seed, bool) or not isinstance(config.grammar_seed, int):
        raise RnnaiError(f"{what}.grammar_seed must be an int, got {config.grammar_seed!r}")
    if config.grammar_seed < 0:
        raise RnnaiError(f"{what}.grammar_seed must be >= 0, got {config.grammar_seed}")
