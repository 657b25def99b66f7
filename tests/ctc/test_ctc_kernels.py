"""rnnai.ctc._kernels: every numba kernel equals its plain-Python twin."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnai.ctc import CharNgramLM, Lexicon, WordBigramLM
from rnnai.ctc import _kernels as K

SETTINGS = settings(max_examples=25, deadline=None)


def random_log_probs(rng: np.random.Generator, T: int, C: int) -> np.ndarray:
    x = rng.normal(size=(T, C)) * 2.0
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(
            np.asarray(u, dtype=float), np.asarray(v, dtype=float), rtol=1e-12
        )


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1), T=st.integers(0, 8), C=st.integers(2, 5), L=st.integers(0, 4)
)
def test_ctc_forward_kernel_equals_twin(seed, T, C, L):
    rng = np.random.default_rng(seed)
    y = random_log_probs(rng, T, C)
    lab = rng.integers(1, C, size=L).astype(np.int64)
    a, b = K.ctc_forward(y, lab, 0), K.ctc_forward_py(y, lab, 0)
    assert a == b or abs(a - b) <= 1e-12 * abs(b)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(0, 7), C=st.integers(2, 4))
def test_prefix_search_kernel_equals_twin(seed, T, C):
    y = random_log_probs(np.random.default_rng(seed), T, C)
    assert_same(K.prefix_search(y, 0, 200), K.prefix_search_py(y, 0, 200))


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    T=st.integers(0, 10),
    C=st.integers(2, 5),
    beam=st.integers(1, 8),
    use_lm=st.booleans(),
    use_lexicon=st.booleans(),
    prune=st.booleans(),
)
def test_prefix_beam_search_kernel_equals_twin(seed, T, C, beam, use_lm, use_lexicon, prune):
    rng = np.random.default_rng(seed)
    y = random_log_probs(rng, T, C)
    if use_lm:
        lm = CharNgramLM(order=2, k=0.5).fit([rng.integers(1, C, 5) for _ in range(4)], C)
        table, ctx0, alpha = lm.table_, lm.start_context(C, 0), 0.7
    else:
        table, ctx0, alpha = np.zeros((1, C)), 0, 0.0
    sep = C - 1
    if use_lexicon and C >= 3:
        words = [rng.integers(1, sep, rng.integers(1, 4)) for _ in range(3)]
        lex = Lexicon(words, C, separator=sep)
        children, is_word = lex.children_, lex.is_word_
    else:
        use_lexicon = False
        children, is_word = np.full((1, C), -1, np.int64), np.zeros(1, np.bool_)
    tmin, bprune = (-1.5, -3.0) if prune else (-np.inf, -np.inf)
    args = (y, 0, beam, tmin, bprune, table, ctx0, alpha, 0.3, use_lexicon, children, is_word,
            sep)  # fmt: skip
    assert_same(K.prefix_beam_search(*args), K.prefix_beam_search_py(*args))


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    T=st.integers(0, 8),
    C=st.integers(2, 4),
    W=st.integers(1, 4),
    use_lm=st.booleans(),
    sep=st.booleans(),
)
def test_token_passing_kernel_equals_twin(seed, T, C, W, use_lm, sep):
    rng = np.random.default_rng(seed)
    y = random_log_probs(rng, T, C)
    words = [
        list(rng.integers(1, C, rng.integers(1, 3))) + ([C - 1] if sep else []) for _ in range(W)
    ]
    wl = np.array([k for w in words for k in w], dtype=np.int64)
    wo = np.cumsum([0] + [len(w) for w in words]).astype(np.int64)
    if use_lm:
        table = WordBigramLM(k=0.3).fit([rng.integers(0, W, 3) for _ in range(3)], W).table_
    else:
        table = np.zeros((W + 1, W + 1))
    args = (y, 0, wl, wo, table, 0.8, -0.2, sep)
    assert_same(K.token_passing(*args), K.token_passing_py(*args))


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1), T=st.integers(0, 8), C=st.integers(2, 4), L=st.integers(1, 3)
)
def test_keyword_kernel_equals_twin(seed, T, C, L):
    rng = np.random.default_rng(seed)
    y = random_log_probs(rng, T, C)
    kw = rng.integers(1, C, size=L).astype(np.int64)
    assert_same(K.keyword_segment(y, 0, kw), K.keyword_segment_py(y, 0, kw))


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    T=st.integers(1, 10),
    C=st.integers(2, 5),
    beam=st.integers(1, 8),
    uniform=st.booleans(),
    prune=st.booleans(),
)
def test_prefix_beam_search_kernel_equals_twin_when_scores_tie(seed, T, C, beam, uniform, prune):
    # uniform rows, or one label at 0.9 and the rest sharing 0.1 evenly: many candidates have
    # exactly equal scores, so the kernel must break ties as the twin does (earlier one first)
    rng = np.random.default_rng(seed)
    if uniform:
        y = np.full((T, C), -np.log(C))
    else:
        y = np.full((T, C), np.log(0.1 / (C - 1)))
        y[np.arange(T), rng.integers(0, C, T)] = np.log(0.9)
    tmin, bprune = (-2.0, -3.0) if prune else (-np.inf, -np.inf)
    args = (y, 0, beam, tmin, bprune, np.zeros((1, C)), 0, 0.0, 0.0, False,
            np.full((1, C), -1, np.int64), np.zeros(1, np.bool_), -1)  # fmt: skip
    assert_same(K.prefix_beam_search(*args), K.prefix_beam_search_py(*args))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), beam=st.integers(1, 4), prune=st.booleans())
def test_prefix_beam_search_kernel_equals_twin_on_long_inputs_that_grow_its_tables(
    seed, beam, prune
):
    # the kernel starts with room for 16 * beam prefixes and doubles its arrays and its hash
    # table as T * beam grows past that
    y = random_log_probs(np.random.default_rng(seed), 60, 4)
    tmin, bprune = (-2.0, -4.0) if prune else (-np.inf, -np.inf)
    args = (y, 0, beam, tmin, bprune, np.zeros((1, 4)), 0, 0.0, 0.0, False,
            np.full((1, 4), -1, np.int64), np.zeros(1, np.bool_), -1)  # fmt: skip
    assert_same(K.prefix_beam_search(*args), K.prefix_beam_search_py(*args))
