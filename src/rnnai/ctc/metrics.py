"""Label and word error rates by edit distance.

A. Graves, S. Fernandez, F. Gomez & J. Schmidhuber, "Connectionist Temporal Classification",
ICML 2006, Sec. 2.1: the label error rate of a classifier h on a test set S' is

    LER(h, S') = (1 / Z) sum_{(x, z) in S'} ED(h(x), z),

with ED the edit (Levenshtein) distance and Z the total number of target labels in S'. The word
error rate is the same over words. The distance itself is `rapidfuzz.distance.Levenshtein`
(unit costs for insertion, deletion and substitution), which accepts strings and sequences of
hashables alike. `error_counts` gives the per-item edit distances and reference lengths behind a
rate (for paired comparisons of two decoders on the same items), `error_rate_interval` a bootstrap
interval of the rate over the test items.

Examples:
    >>> from rnnai.ctc.metrics import error_counts, label_error_rate, word_error_rate
    >>> label_error_rate([[1, 2, 3], [4]], [[1, 3], [4]])
    0.25
    >>> word_error_rate(["the cat sat"], ["the hat sat"])
    0.3333333333333333
    >>> errors, lengths = error_counts([[1, 2, 3], [4]], [[1, 3], [4]])
    >>> errors.tolist(), lengths.tolist()
    ([1, 0], [3, 1])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from rnnai.ctc._common import CTCInputError

__all__ = [
    "edit_distance",
    "error_counts",
    "error_rate_interval",
    "label_error_rate",
    "word_error_rate",
    "words",
]


def edit_distance(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions, each cost 1).

    Args:
        reference: A string or a sequence of hashable items (labels, words).
        hypothesis: The same kind of thing.

    Returns:
        The minimal number of edits turning ``hypothesis`` into ``reference``.
    """
    return int(Levenshtein.distance(list(reference), list(hypothesis)))


def _rate(
    references: Sequence[Sequence[Hashable]], hypotheses: Sequence[Sequence[Hashable]]
) -> float:
    if len(references) != len(hypotheses):
        raise CTCInputError(
            f"references and hypotheses must have the same length; got {len(references)} and "
            f"{len(hypotheses)}"
        )
    Z = sum(len(r) for r in references)
    if Z == 0:
        raise CTCInputError("the references hold no labels: the error rate is undefined")
    return sum(edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True)) / Z


def error_counts(
    references: Sequence[Sequence[Hashable]], hypotheses: Sequence[Sequence[Hashable]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per item the edit distance and the reference length (their sums' ratio is the rate).

    Args:
        references: Target labellings, strings, or word lists (`words`).
        hypotheses: Decoded ones, one per reference.

    Returns:
        ``(errors, lengths)``: (N,) int64 edit distances ED(h(x), z) and (N,) int64 |z|.

    Raises:
        CTCInputError: different numbers of references and hypotheses.
    """
    if len(references) != len(hypotheses):
        raise CTCInputError(
            f"references and hypotheses must have the same length; got {len(references)} and "
            f"{len(hypotheses)}"
        )
    errors = [edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True)]
    return np.asarray(errors, dtype=np.int64), np.asarray(
        [len(r) for r in references], dtype=np.int64
    )


def error_rate_interval(
    errors: Sequence[int] | np.ndarray, lengths: Sequence[int] | np.ndarray
) -> tuple[float, float]:
    """95% percentile bootstrap interval of sum(errors) / sum(lengths), items resampled.

    Uses `rnnai.runtime.verdict.bootstrap_interval` (a fixed generator: the same counts always
    give the same interval). A resample without reference labels counts as rate 0.

    Args:
        errors: Per item edit distance (`error_counts`).
        lengths: Per item reference length.

    Returns:
        (low, high) of the label (or word) error rate.

    Raises:
        CTCInputError: If the arrays are empty or differ in length.
    """
    from rnnai.runtime.verdict import bootstrap_interval

    e, n = np.asarray(errors, np.float64), np.asarray(lengths, np.float64)
    if e.shape != n.shape or e.ndim != 1 or not len(e):
        raise CTCInputError(
            f"errors and lengths must be equal, non-empty 1-D arrays; got {e.shape}, {n.shape}"
        )

    def rate(s: np.ndarray) -> np.ndarray:  # (R, N, 2) -> (R,)
        den = s[..., 1].sum(-1)
        return np.where(den > 0, s[..., 0].sum(-1) / np.maximum(den, 1), 0.0)

    return bootstrap_interval(np.stack([e, n], axis=1), rate)


def label_error_rate(
    references: Sequence[Sequence[Hashable]], hypotheses: Sequence[Sequence[Hashable]]
) -> float:
    """LER = total edit distance / total reference length (Graves et al. 2006, Sec. 2.1).

    Args:
        references: Target labellings (label lists or strings, for a character error rate).
        hypotheses: Decoded labellings, one per reference.

    Returns:
        The label error rate (may exceed 1 with many insertions).

    Raises:
        CTCInputError: different numbers of references and hypotheses, or no reference labels.
    """
    return _rate(references, hypotheses)


def words(labels: Sequence[int] | str, separator: int | str | None = None) -> list:
    """Split a labelling at separator labels (or a string at whitespace) into words.

    Args:
        labels: A label sequence, or a string.
        separator: The separator label; for strings None splits at any whitespace.

    Returns:
        The words: tuples of labels, or strings; empty words are dropped.
    """
    if isinstance(labels, str):
        return labels.split(separator if isinstance(separator, str) else None)
    if separator is None:
        raise CTCInputError("splitting labels into words needs the separator label")
    out: list[tuple[int, ...]] = []
    cur: list[int] = []
    for k in labels:
        if k == separator:
            if cur:
                out.append(tuple(cur))
            cur = []
        else:
            cur.append(k)
    if cur:
        out.append(tuple(cur))
    return out


def word_error_rate(
    references: Sequence[Sequence[int] | str],
    hypotheses: Sequence[Sequence[int] | str],
    separator: int | str | None = None,
) -> float:
    """WER = total word edit distance / total reference words.

    Args:
        references: Target labellings or strings.
        hypotheses: Decoded labellings or strings, one per reference.
        separator: The word separator label (needed for labellings; strings split at whitespace
            unless a separator string is given).

    Returns:
        The word error rate.

    Raises:
        CTCInputError: different lengths, no reference words, or no separator for labellings.
    """
    return _rate(
        [words(r, separator) for r in references], [words(h, separator) for h in hypotheses]
    )
