"""Make the splits of a data set (training, validation, test, ...) in one call.

A split is a generator config (`rnnai.data.speech.SpeechConfig` or
`rnnai.data.text_lines.TextLineConfig`), a size and a data seed (`Split`); `make_splits` makes
(or loads from the cache) every split in order, with one progress bar per split, and returns them
by name. Each split depends only on its own (config, n, seed): giving the test split its own seed
(and, for speech, its own voices) keeps it apart from the training data.

Examples:
    >>> import tempfile
    >>> from dataclasses import replace
    >>> from rnnai.data import TEXT_LINES, Split, make_splits
    >>> lines = replace(TEXT_LINES, max_words=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     splits = {"train": Split(config=lines, n=3, seed=1),
    ...               "test": Split(config=lines, n=2, seed=2)}
    ...     data = make_splits(splits, cache_dir=tmp)
    >>> {name: len(d) for name, d in data.items()}
    {'train': 3, 'test': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnai.data.sequences import LabelledSequences
from rnnai.data.speech import SpeechConfig, make_speech
from rnnai.data.text_lines import TextLineConfig, make_text_lines
from rnnai.runtime.errors import RnnaiError

if TYPE_CHECKING:
    from rnnai.train.hooks import Hooks

__all__ = ["Split", "make_splits"]


@dataclass(frozen=True, kw_only=True)
class Split:
    """One split of a data set: what to generate, how many items, from which data seed."""

    config: SpeechConfig | TextLineConfig
    """The generator's config: speech (`rnnai.data.make_speech`) or text lines
    (`rnnai.data.make_text_lines`)."""
    n: int
    """Items in the split (>= 1)."""
    seed: int
    """The split's data seed (>= 0); item i depends only on (config, seed, i)."""


def make_splits(
    splits: Mapping[str, Split],
    *,
    cache_dir: str | Path | None = None,
    hooks: Hooks | None = None,
) -> dict[str, LabelledSequences]:
    """Make (or load from the cache) every split, in the mapping's order.

    Args:
        splits: Split name (e.g. "train", "valid", "test") -> `Split`.
        cache_dir: The cache folder (None: `rnnai.data.default_cache_dir`).
        hooks: Shows one progress bar per split (an `rnnai.train.hooks.Hooks`, e.g. an
            experiment's run context); None: no progress shown.

    Returns:
        Split name -> the data set, in the order given.

    Raises:
        RnnaiError: If a split's config is neither a `SpeechConfig` nor a `TextLineConfig`, or
            the generator rejects it (a missing voice or font, n < 1, seed < 0).
    """
    out: dict[str, LabelledSequences] = {}
    for name, split in splits.items():
        if not isinstance(split, Split):
            raise RnnaiError(f"split {name!r} must be a Split, got {type(split).__name__}")
        cfg = split.config
        if isinstance(cfg, SpeechConfig):
            what = f"synthesizing {name} utterances"
        elif isinstance(cfg, TextLineConfig):
            what = f"rendering {name} lines"
        else:
            raise RnnaiError(
                f"split {name!r}: config must be a SpeechConfig or a TextLineConfig, got "
                f"{type(cfg).__name__}"
            )
        if hooks is None:
            out[name] = _make(split, cache_dir, None)
        else:
            with hooks.progress(split.n, what) as bar:
                out[name] = _make(split, cache_dir, bar)
    return out


def _make(split: Split, cache_dir: str | Path | None, bar: Any) -> LabelledSequences:
    """Run the split's generator; ``bar`` (a progress handle or None) advances per item."""
    if isinstance(split.config, SpeechConfig):
        return make_speech(split.config, split.n, split.seed, cache_dir=cache_dir, progress=bar)
    return make_text_lines(split.config, split.n, split.seed, cache_dir=cache_dir, progress=bar)
