"""`LabelledSequences`: a data set of feature sequences with CTC label sequences.

Every generator in `rnnai.data` returns one. Item ``i`` is a feature sequence
``features[i]`` of shape (T_i, F) (T: speech frames or image columns), its target labelling
``labels[i]`` (L_i,) over the alphabet ``alphabet`` (label 0 is the CTC blank and never occurs in a
labelling), its transcript ``texts[i]`` and, when the generator knows them, the word boundaries
``word_spans[i]`` in frames. ``decode_labels`` maps labels back to text, so
``decode_labels(labels[i]) == texts[i]`` holds for every item.

The label unit is the alphabet's: one-character symbols (plus a space symbol) give character
labellings, multi-character symbols (word tokens, as in connected digits) give word labellings,
whose text joins the words with single spaces.

Examples:
    >>> import numpy as np
    >>> from rnnai.data import LabelledSequences
    >>> data = LabelledSequences(
    ...     features=[np.zeros((5, 3), np.float32)], labels=[np.array([1, 2])], texts=["ab"],
    ...     alphabet=("<blank>", "a", "b"), word_spans=None, meta={})
    >>> data.decode_labels(data.labels[0]), data.feature_dim, data.lengths.tolist()
    ('ab', 3, [5])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = ["BLANK", "LabelledSequences"]

BLANK = "<blank>"
"""The symbol of label 0, the CTC blank."""


def _is_word_alphabet(alphabet: Sequence[str]) -> bool:
    return any(len(s) != 1 for s in alphabet[1:])


@dataclass(frozen=True, eq=False)
class LabelledSequences:
    """Feature sequences with CTC labellings and transcripts (see the module docstring).

    The constructor checks that all per-item lists have the same length, that features are
    finite 2-D float32 arrays with the same feature size and that labels are 1-D int64 arrays in
    ``1..len(alphabet)-1``; a `RnnaiError` names the offending item otherwise.
    """

    features: list[np.ndarray]
    """Per item, (T_i, F) float32; T is the time axis (speech frames or image columns)."""
    labels: list[np.ndarray]
    """Per item, (L_i,) int64 in ``1..len(alphabet)-1`` (0 is the CTC blank)."""
    texts: list[str]
    """Per item, the transcript."""
    alphabet: tuple[str, ...]
    """``alphabet[0] == "<blank>"``; ``alphabet[k]`` is label k's symbol (a character, or a word
    token for word labels)."""
    word_spans: list[list[tuple[str, int, int]]] | None
    """Per item, ``(word, first_frame, end_frame)`` for each word (end exclusive, in feature
    frames), or None when the generator does not know word boundaries."""
    meta: dict[str, Any]
    """JSON-able provenance: kind, config, seed, n, data-format version, tool versions."""

    def __post_init__(self) -> None:
        n = len(self.features)
        for name in ("labels", "texts"):
            if len(getattr(self, name)) != n:
                raise RnnaiError(
                    f"LabelledSequences: {len(getattr(self, name))} {name} for {n} feature arrays"
                )
        if self.word_spans is not None and len(self.word_spans) != n:
            raise RnnaiError(
                f"LabelledSequences: {len(self.word_spans)} word_spans for {n} feature arrays"
            )
        if len(self.alphabet) < 2 or self.alphabet[0] != BLANK:
            raise RnnaiError(
                f"LabelledSequences: alphabet must start with {BLANK!r} and hold at least one "
                f"symbol, got {self.alphabet[:5]!r}"
            )
        if len(set(self.alphabet)) != len(self.alphabet):
            raise RnnaiError("LabelledSequences: the alphabet's symbols must be distinct")
        C = len(self.alphabet)
        F = None
        for i, (x, y) in enumerate(zip(self.features, self.labels, strict=True)):
            if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
                raise RnnaiError(
                    f"LabelledSequences: features[{i}] must be a 2-D float32 array, got "
                    f"{getattr(x, 'dtype', type(x).__name__)} of shape {getattr(x, 'shape', '?')}"
                )
            if F is None:
                F = x.shape[1]
            elif x.shape[1] != F:
                raise RnnaiError(
                    f"LabelledSequences: features[{i}] has {x.shape[1]} features, items before "
                    f"it {F}"
                )
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.ndim != 1:
                raise RnnaiError(
                    f"LabelledSequences: labels[{i}] must be a 1-D int64 array, got "
                    f"{getattr(y, 'dtype', type(y).__name__)} of shape {getattr(y, 'shape', '?')}"
                )
            if y.size and (y.min() < 1 or y.max() >= C):
                raise RnnaiError(
                    f"LabelledSequences: labels[{i}] must lie in 1..{C - 1}, got "
                    f"{int(y.min())}..{int(y.max())}"
                )

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self.features)

    def __repr__(self) -> str:
        kind = self.meta.get("kind", "?")
        dim = self.feature_dim if len(self) else "?"
        return (
            f"LabelledSequences(kind={kind!r}, n={len(self)}, feature_dim={dim}, "
            f"alphabet={len(self.alphabet)} symbols, "
            f"word_spans={'yes' if self.word_spans is not None else 'no'})"
        )

    @property
    def feature_dim(self) -> int:
        """F, the size of one feature frame."""
        if not self.features:
            raise RnnaiError("LabelledSequences: an empty data set has no feature size")
        return int(self.features[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """(n,) int64: T_i, the number of frames of each item."""
        return np.array([x.shape[0] for x in self.features], dtype=np.int64)

    @property
    def label_lengths(self) -> np.ndarray:
        """(n,) int64: L_i, the length of each labelling."""
        return np.array([y.shape[0] for y in self.labels], dtype=np.int64)

    @property
    def word_labels(self) -> bool:
        """Whether labels are word tokens (True) or characters (False)."""
        return _is_word_alphabet(self.alphabet)

    def subset(self, idx: Sequence[int]) -> LabelledSequences:
        """Return the items ``idx`` (in that order) as a new data set.

        Args:
            idx: Item indices in ``0..n-1`` (repeats allowed).

        Returns:
            The selected items; ``meta`` is copied with ``n`` set to the new size and the
            indices recorded under ``"subset"``.

        Raises:
            RnnaiError: If an index is not an integer or out of range.
        """
        n = len(self)
        picked: list[int] = []
        for k in idx:
            if isinstance(k, bool) or not isinstance(k, int | np.integer):
                raise RnnaiError(f"subset: indices must be integers, got {type(k).__name__}")
            if not 0 <= k < n:
                raise RnnaiError(f"subset: index {int(k)} is out of range for {n} items")
            picked.append(int(k))
        meta = dict(self.meta)
        meta["subset"] = picked
        meta["n"] = len(picked)
        return LabelledSequences(
            features=[self.features[k] for k in picked],
            labels=[self.labels[k] for k in picked],
            texts=[self.texts[k] for k in picked],
            alphabet=self.alphabet,
            word_spans=None if self.word_spans is None else [self.word_spans[k] for k in picked],
            meta=meta,
        )

    def decode_labels(self, labels: Sequence[int]) -> str:
        """Map a labelling back to text.

        Word tokens are joined with single spaces, characters directly.

        Args:
            labels: Labels in ``1..len(alphabet)-1`` (a list, tuple or 1-D integer array).

        Returns:
            The text.

        Raises:
            RnnaiError: If a label is the blank or out of range.
        """
        C = len(self.alphabet)
        symbols = []
        for k in np.asarray(labels).reshape(-1).tolist():
            if not isinstance(k, int) or not 1 <= k < C:
                raise RnnaiError(f"decode_labels: label {k!r} is not in 1..{C - 1}")
            symbols.append(self.alphabet[k])
        return (" " if self.word_labels else "").join(symbols)

    def encode_text(self, text: str) -> np.ndarray:
        """Map a text to its labelling (the inverse of `decode_labels`).

        Args:
            text: Words separated by single spaces (word alphabets) or characters of the alphabet.

        Returns:
            (L,) int64 labels.

        Raises:
            RnnaiError: If a word or character is not in the alphabet.
        """
        index = {s: k for k, s in enumerate(self.alphabet) if k > 0}
        units = text.split() if self.word_labels else list(text)
        missing = [u for u in units if u not in index]
        if missing:
            raise RnnaiError(
                f"encode_text: {missing[0]!r} of {text!r} is not in the alphabet "
                f"({len(self.alphabet) - 1} symbols)"
            )
        return np.array([index[u] for u in units], dtype=np.int64)
