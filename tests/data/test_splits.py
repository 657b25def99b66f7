"""rnnai.data.splits: every split of a data set made in one call."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnnai.data import TEXT_LINES, Split, make_splits, make_text_lines
from rnnai.data.text_lines import DEJAVU_DIR, installed_fonts
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import SilentHooks

needs_dejavu = pytest.mark.skipif(
    "DejaVuSans" not in installed_fonts(DEJAVU_DIR), reason="needs the DejaVu fonts"
)
LINES = replace(TEXT_LINES, max_words=1)


class _Recording(SilentHooks):
    def __init__(self) -> None:
        super().__init__()
        self.bars: list[tuple[object, str]] = []

    def progress(self, total, description):  # type: ignore[no-untyped-def]
        self.bars.append((total, description))
        return super().progress(total, description)


@needs_dejavu
def test_each_split_equals_its_generator_call_in_the_given_order(tmp_path: Path) -> None:
    hooks = _Recording()
    splits = {"train": Split(config=LINES, n=3, seed=1), "test": Split(config=LINES, n=2, seed=2)}
    data = make_splits(splits, cache_dir=tmp_path, hooks=hooks)
    assert list(data) == ["train", "test"]
    direct = make_text_lines(LINES, 2, 2, cache=False)
    assert data["test"].texts == direct.texts
    pairs = zip(data["test"].features, direct.features, strict=True)
    assert all(np.array_equal(a, b) for a, b in pairs)
    assert hooks.bars == [(3, "rendering train lines"), (2, "rendering test lines")]


def test_bad_splits_are_named() -> None:
    with pytest.raises(RnnaiError, match="'train' must be a Split"):
        make_splits({"train": (LINES, 3, 1)})  # type: ignore[dict-item]
    with pytest.raises(RnnaiError, match="'test': config must be"):
        make_splits({"test": Split(config="lines", n=1, seed=0)})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Split(LINES, 3, 1)  # type: ignore[misc]  # keyword-only
