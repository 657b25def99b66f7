"""Rendered text lines: readable ink, widths, labels, the bigram text source, caching, errors."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rnnai.data import (
    TEXT_LINES,
    TextLineConfig,
    installed_fonts,
    make_text_lines,
    render_line,
    text_corpus,
    text_lines_alphabet,
    vocabulary,
)
from rnnai.data import text_lines as text_lines_module
from rnnai.data.text_lines import DEJAVU_DIR
from rnnai.data.words import transition_matrix
from rnnai.runtime.errors import RnnaiError

needs_dejavu = pytest.mark.skipif(
    "DejaVuSans" not in installed_fonts(DEJAVU_DIR), reason="needs the DejaVu fonts"
)

# No randomness in the rendering: one font, one size, no slant, distortion, blur or noise.
CLEAN = dataclasses.replace(
    TEXT_LINES,
    fonts=("DejaVuSans",),
    font_size=(32, 32),
    slant=(0.0, 0.0),
    blur_sigma=(0.0, 0.0),
    noise_std=(0.0, 0.0),
    ink=(1.0, 1.0),
    elastic_alpha=(0.0, 0.0),
)


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@needs_dejavu
def test_render_line_gives_a_unit_range_image_of_the_configured_height() -> None:
    img = render_line("quick brown fox", TEXT_LINES, rng())
    assert img.dtype == np.float32 and img.shape[0] == TEXT_LINES.height
    assert img.min() >= 0.0 and img.max() <= 1.0 and img.max() > 0.5


@needs_dejavu
@pytest.mark.parametrize("font", TEXT_LINES.fonts)
def test_every_character_of_the_charset_leaves_ink_in_every_font(font: str) -> None:
    cfg = dataclasses.replace(CLEAN, fonts=(font,))
    for c in cfg.charset.replace(" ", ""):
        img = render_line(c, cfg, rng())
        assert (img > 0.5).sum() >= 4, f"{c!r} in {font} left no ink"


@needs_dejavu
def test_width_grows_with_text_length() -> None:
    widths = [render_line("ab " * k + "ab", CLEAN, rng()).shape[1] for k in range(4)]
    assert all(b > a + 30 for a, b in zip(widths, widths[1:], strict=False))
    assert widths[0] >= 2 * 10  # two letters of about 16 columns each at height 32


@needs_dejavu
def test_the_gap_between_words_is_blank_and_each_word_span_holds_ink() -> None:
    data = make_text_lines(dataclasses.replace(CLEAN, min_words=3), 3, seed=0, cache=False)
    for x, spans in zip(data.features, data.word_spans, strict=True):
        ink = x.max(axis=1)  # (W,) the brightest pixel of each column
        for _, a, e in spans:
            assert ink[a:e].max() > 0.5
        for (_, _, e), (_, a, _) in zip(spans, spans[1:], strict=False):
            assert a > e and ink[e + 1 : a - 1].max() < 0.5  # the space is blank


@needs_dejavu
def test_distortions_change_the_image_but_keep_it_readable() -> None:
    clean = render_line("garden window", CLEAN, rng())
    noisy = render_line("garden window", TEXT_LINES, np.random.default_rng(3))
    assert clean.shape != noisy.shape or not np.array_equal(clean, noisy)
    assert (noisy > 0.5).sum() > 0.3 * (clean > 0.5).sum()


@needs_dejavu
def test_text_lines_are_sane_with_character_labels() -> None:
    data = make_text_lines(TEXT_LINES, 4, seed=0, cache=False)
    assert data.alphabet == text_lines_alphabet(TEXT_LINES) == ("<blank>", *TEXT_LINES.charset)
    for i in range(len(data)):
        x, y = data.features[i], data.labels[i]
        assert x.dtype == np.float32 and x.shape[1] == TEXT_LINES.height
        assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
        assert y.dtype == np.int64 and y.min() >= 1 and y.max() < len(data.alphabet)
        assert data.decode_labels(y) == data.texts[i] and len(y) == len(data.texts[i])
        assert x.shape[0] >= len(y)  # CTC needs at least one column per label
        assert [w for w, _, _ in data.word_spans[i]] == data.texts[i].split(" ")


@needs_dejavu
def test_text_lines_are_deterministic_and_item_i_does_not_depend_on_n() -> None:
    a = make_text_lines(TEXT_LINES, 3, seed=2, cache=False)
    b = make_text_lines(TEXT_LINES, 2, seed=2, cache=False)
    for i in range(2):
        np.testing.assert_array_equal(a.features[i], b.features[i])
    assert a.texts[:2] == b.texts and a.word_spans[:2] == b.word_spans
    c = make_text_lines(TEXT_LINES, 2, seed=3, cache=False)
    assert c.texts != b.texts


@needs_dejavu
def test_text_lines_are_read_back_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_text_lines(TEXT_LINES, 2, seed=0, cache_dir=tmp_path)

    def refuse(*args: object) -> None:
        raise AssertionError("rendered although cached")

    monkeypatch.setattr(text_lines_module, "_render", refuse)
    back = make_text_lines(TEXT_LINES, 2, seed=0, cache_dir=tmp_path)
    for x, y in zip(made.features, back.features, strict=True):
        np.testing.assert_array_equal(x, y)
    assert back.texts == made.texts and back.meta["fonts"] == made.meta["fonts"]


def test_text_corpus_equals_the_texts_of_the_data_set_and_uses_the_lexicon() -> None:
    corpus = text_corpus(TEXT_LINES, 50, seed=4)
    lexicon = set(vocabulary(TEXT_LINES))
    assert all(set(line.split(" ")) <= lexicon for line in corpus)
    assert all(1 <= len(line.split(" ")) <= TEXT_LINES.max_words for line in corpus)
    if "DejaVuSans" in installed_fonts(DEJAVU_DIR):
        assert make_text_lines(TEXT_LINES, 3, seed=4, cache=False).texts == corpus[:3]


def test_a_bigram_model_fitted_on_other_text_predicts_held_out_text_much_better() -> None:
    cfg = dataclasses.replace(TEXT_LINES, min_words=4, max_words=6)
    V = len(cfg.vocabulary)

    def pairs(lines: list[str]) -> list[tuple[str, str]]:
        out = []
        for line in lines:
            words = line.split()
            out += list(zip(["<s>", *words[:-1]], words, strict=True))
        return out

    train, test = pairs(text_corpus(cfg, 3000, seed=1)), pairs(text_corpus(cfg, 300, seed=2))
    bigrams, contexts = Counter(train), Counter(a for a, _ in train)
    unigrams = Counter(b for _, b in train)

    def perplexity(p: object) -> float:
        return math.exp(-np.mean([math.log(p(a, b)) for a, b in test]))  # type: ignore[operator]

    bigram = perplexity(lambda a, b: (bigrams[(a, b)] + 0.1) / (contexts[a] + 0.1 * V))
    unigram = perplexity(lambda a, b: (unigrams[b] + 0.1) / (len(train) + 0.1 * V))
    assert bigram < 0.25 * unigram  # the chain is far from i.i.d. words


@pytest.mark.parametrize("successors", [None, 4])
def test_transition_rows_are_distributions_concentrated_on_k_successors(
    successors: int | None,
) -> None:
    V = len(TEXT_LINES.vocabulary)
    P = transition_matrix(TEXT_LINES.vocabulary, successors, 0.05, 0)
    assert P.shape == (V + 1, V) and not P.flags.writeable
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    top = np.sort(P, axis=1)[:, ::-1]
    if successors is None:
        np.testing.assert_allclose(P, 1.0 / V)
    else:  # the k preferred successors carry 1 - eps (+ their share of eps) of the mass
        np.testing.assert_allclose(top[:, :successors].sum(axis=1), 0.95 + 0.05 * 4 / V)
        np.testing.assert_allclose(top[:, successors:], 0.05 / V)


def test_unknown_font_lists_the_installed_ones() -> None:
    cfg = dataclasses.replace(TEXT_LINES, fonts=("ComicSans",))
    installed = installed_fonts(DEJAVU_DIR)
    expected = "DejaVuSans" if installed else "apt-get install fonts-dejavu"
    with pytest.raises(RnnaiError, match=f"ComicSans.*{expected}"):
        render_line("a", cfg, rng())


def test_an_empty_font_folder_says_how_to_install_dejavu(tmp_path: Path) -> None:
    cfg = dataclasses.replace(TEXT_LINES, font_dir=str(tmp_path))
    with pytest.raises(RnnaiError, match="sudo apt-get install fonts-dejavu-core"):
        make_text_lines(cfg, 1, seed=0, cache=False)


@needs_dejavu
@pytest.mark.parametrize(("text", "message"), [("Hello", "'H'"), ("a_b", "'_'"), ("  ", "empty")])
def test_render_line_names_characters_outside_the_charset(text: str, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        render_line(text, TEXT_LINES, rng())


def test_render_line_requires_a_generator() -> None:
    with pytest.raises(TypeError, match="Generator"):
        render_line("a", TEXT_LINES, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "seed", "message"), [(0, 0, "n must be >= 1"), (2, -3, "seed")])
def test_make_text_lines_rejects_bad_counts_and_seeds(n: int, seed: int, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        make_text_lines(TEXT_LINES, n, seed, cache=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vocabulary": ()}, "vocabulary is empty"),
        ({"vocabulary": ("naïve",)}, "'ï'"),
        ({"charset": "abc"}, "space"),
        ({"charset": " aab"}, "repeats"),
        ({"height": 4}, "height"),
        ({"font_size": (40, 20)}, "font_size"),
        ({"slant": (-2.0, 0.0)}, "slant"),
        ({"noise_std": (0.0, 2.0)}, "noise_std"),
        ({"elastic_sigma": 0.0}, "elastic_sigma"),
        ({"fonts": ()}, "fonts"),
        ({"max_words": 0}, "max_words"),
    ],
)
def test_text_line_config_rejects_bad_fields_by_name(change: dict, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        dataclasses.replace(TEXT_LINES, **change)


def test_text_line_config_accepts_a_larger_charset() -> None:
    cfg = TextLineConfig(
        vocabulary=("Hello", "world!"), charset=" abcdefghijklmnopqrstuvwxyzH!", successors=None
    )
    assert text_lines_alphabet(cfg)[1] == " " and len(text_lines_alphabet(cfg)) == 30
