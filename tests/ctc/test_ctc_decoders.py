"""rnnai.ctc decoders on hand-made cases and against the exact reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnai.ctc import (
    beam_search,
    best_path,
    collapse,
    ctc_log_likelihood,
    exact_decode,
    prefix_search,
)


def frames(path: list[int], C: int, p: float = 0.9) -> np.ndarray:
    """Log-probabilities (T, C) with mass p on path[t] at frame t, the rest spread evenly."""
    y = np.full((len(path), C), (1 - p) / (C - 1))
    y[np.arange(len(path)), path] = p
    return np.log(y)


def random_log_probs(seed: int, T: int, C: int, scale: float = 2.0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(T, C)) * scale
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def test_collapse_merges_repeats_then_removes_blanks():
    assert collapse(np.array([0, 1, 1, 0, 1, 2, 2, 0])) == [1, 1, 2]


def test_best_path_of_all_blank_input_is_empty():
    h = best_path(frames([0, 0, 0], 4))
    assert h.labels == []
    assert h.score == pytest.approx(3 * np.log(0.9))


def test_best_path_needs_a_blank_between_repeated_labels():
    assert best_path(frames([1, 1, 0, 1], 3)).labels == [1, 1]
    assert best_path(frames([1, 1, 1], 3)).labels == [1]


def test_best_path_of_length_one():
    assert best_path(frames([2], 3)).labels == [2]


def test_empty_input_gives_empty_labelling_with_probability_one():
    y = np.zeros((0, 3))
    for decode in (best_path, prefix_search, beam_search, exact_decode):
        h = decode(y)
        assert h.labels == [] and h.log_prob == 0.0


def test_batch_with_lengths_decodes_each_utterance_on_its_valid_frames():
    a, b = frames([1, 0, 2, 2], 3), frames([2, 0, 0, 0], 3)
    b[1:] = np.log(np.array([0.05, 0.9, 0.05]))  # padding that would decode to label 1
    hyps = beam_search(torch.tensor(np.stack([a, b])), lengths=torch.tensor([4, 1]), beam=4)
    assert [h.labels for h in hyps] == [[1, 2], [2]]


def test_blank_index_is_configurable():
    y = frames([2, 2, 0, 1], 3)  # blank = 2 here
    assert best_path(y, blank=2).labels == [0, 1]
    assert beam_search(y, blank=2, beam=4).labels == [0, 1]
    assert prefix_search(y, blank=2).labels == [0, 1]


def test_beam_one_equals_best_path_on_peaky_input():
    rng = np.random.default_rng(0)
    for _ in range(10):
        path = rng.integers(0, 6, size=30).tolist()
        y = frames(path, 6, p=0.97)
        assert beam_search(y, beam=1).labels == best_path(y).labels


def test_prefix_search_beats_best_path_when_paths_split_the_mass():
    # Graves et al. 2006, Fig. 2: best path says blank, but "1" owns more total mass.
    y = np.log(np.array([[0.55, 0.45], [0.55, 0.45]]))
    assert best_path(y).labels == []
    assert prefix_search(y, blank_threshold=None).labels == [1]  # 1 - .55^2 = .6975 > .3025


def test_ctc_log_likelihood_matches_torch_ctc_loss():
    rng = np.random.default_rng(1)
    for seed in range(5):
        T, C = 12, 5
        y = random_log_probs(seed, T, C)
        labels = rng.integers(1, C, size=4).tolist()
        ref = torch.nn.functional.ctc_loss(
            torch.tensor(y)[:, None], torch.tensor([labels]), torch.tensor([T]),
            torch.tensor([len(labels)]), reduction="none",
        )  # fmt: skip
        assert ctc_log_likelihood(y, labels) == pytest.approx(-float(ref[0]), rel=1e-9)


def test_exact_decode_probabilities_sum_to_one_over_all_labellings():
    import itertools

    y = random_log_probs(3, 4, 3)
    total = sum(
        np.exp(ctc_log_likelihood(y, list(lab)))
        for m in range(5)
        for lab in itertools.product([1, 2], repeat=m)
    )
    assert total == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 6), C=st.integers(2, 4))
def test_prefix_search_finds_the_exact_most_probable_labelling(seed, T, C):
    y = random_log_probs(seed, T, C)
    ref = exact_decode(y)
    got = prefix_search(y, blank_threshold=None)
    assert got.log_prob == pytest.approx(ref.log_prob, abs=1e-9)
    assert ctc_log_likelihood(y, got.labels) == pytest.approx(ref.log_prob, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 6), C=st.integers(2, 4))
def test_beam_search_with_a_wide_beam_finds_the_exact_most_probable_labelling(seed, T, C):
    y = random_log_probs(seed, T, C)
    ref = exact_decode(y)
    got = beam_search(y, beam=2000)
    assert got.log_prob == pytest.approx(ref.log_prob, abs=1e-9)
    assert ctc_log_likelihood(y, got.labels) == pytest.approx(ref.log_prob, abs=1e-9)


def test_beam_search_agrees_with_the_reference_more_often_as_the_beam_grows():
    hits = {1: 0, 3: 0, 400: 0}
    for seed in range(30):
        y = random_log_probs(seed, 6, 4, scale=1.0)
        ref = exact_decode(y)
        for beam in hits:
            hits[beam] += beam_search(y, beam=beam).log_prob >= ref.log_prob - 1e-9
    assert hits[1] <= hits[3] <= hits[400] == 30


def test_beam_search_nbest_is_sorted_best_first():
    hyps = beam_search(random_log_probs(0, 8, 4), beam=10, nbest=5)
    scores = [h.score for h in hyps]
    assert len(hyps) == 5 and scores == sorted(scores, reverse=True)


def test_prefix_search_split_at_blanks_matches_unsplit_on_peaky_input():
    y = frames([1, 0, 0, 2, 2, 0, 0, 1, 0, 3], 4, p=0.9995)
    assert prefix_search(y).labels == prefix_search(y, blank_threshold=None).labels == [1, 2, 1, 3]


# --- hand-made edge cases, for every labelling decoder ----------------------------------------

DECODERS = {
    "best_path": best_path,
    "prefix_search": lambda y, **kw: prefix_search(y, blank_threshold=None, **kw),
    "prefix_search_split": prefix_search,
    "beam_1": lambda y, **kw: beam_search(y, beam=1, **kw),
    "beam_8": lambda y, **kw: beam_search(y, beam=8, **kw),
    "beam_8_pruned": lambda y, **kw: beam_search(
        y, beam=8, token_min_logp=-5.0, beam_prune_logp=-10.0, **kw
    ),
    "exact": exact_decode,
}


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_gives_the_empty_labelling_on_all_blank_input(name):
    y = frames([0, 0, 0, 0], 4, p=0.97)
    h = DECODERS[name](y)
    assert h.labels == []
    if name != "best_path":  # the others return ln p(empty | x) = sum_t ln y^t_blank
        assert h.log_prob == pytest.approx(4 * np.log(0.97), abs=1e-9)


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_keeps_repeats_split_by_a_blank_and_merges_adjacent_ones(name):
    decode = DECODERS[name]
    assert decode(frames([1, 1, 0, 1, 2, 2], 3, p=0.97)).labels == [1, 1, 2]
    assert decode(frames([2, 2, 2], 3, p=0.97)).labels == [2]


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_of_a_single_frame_returns_its_most_probable_label(name):
    y = np.log(np.array([[0.2, 0.5, 0.3]]))
    assert DECODERS[name](y).labels == [1]
    assert DECODERS[name](np.log(np.array([[0.6, 0.1, 0.3]]))).labels == []


@pytest.mark.parametrize("name", DECODERS)
def test_every_decoder_handles_a_zero_length_utterance_in_a_batch(name):
    y = np.stack([frames([1, 0, 2], 3, p=0.97), frames([2, 2, 2], 3, p=0.97)])
    a, b = DECODERS[name](y, lengths=[0, 3])
    assert a.labels == [] and a.log_prob == 0.0
    assert b.labels == [2]


def test_beam_one_keeps_a_single_hypothesis():
    hyps = beam_search(random_log_probs(2, 10, 4), beam=1, nbest=5)
    assert len(hyps) == 1


def test_beam_search_in_float32_and_float64_torch_and_numpy_agree():
    y = random_log_probs(4, 12, 5)
    ref = beam_search(y, beam=6)
    for x in (y.astype(np.float32), torch.tensor(y), torch.tensor(y, dtype=torch.float32)):
        assert beam_search(x, beam=6).labels == ref.labels


# --- the pruning options (pyctcdecode's token_min_logp and beam_prune_logp) --------------------


def test_pruned_beam_search_equals_exact_on_peaky_input():
    rng = np.random.default_rng(5)
    for _ in range(10):
        path = rng.integers(0, 6, size=40).tolist()
        y = frames(path, 6, p=0.95)
        exact = beam_search(y, beam=16)
        pruned = beam_search(y, beam=16, token_min_logp=-5.0, beam_prune_logp=-10.0)
        assert pruned.labels == exact.labels
        assert pruned.log_prob == pytest.approx(exact.log_prob, abs=1e-6)


def test_token_min_logp_never_skips_the_frames_most_probable_label():
    y = np.log(np.array([[0.3, 0.4, 0.3]]))  # every ln y^t_c is below -0.5
    hyps = beam_search(y, beam=4, token_min_logp=-0.5, nbest=4)
    assert hyps[0].labels == [1]
    assert [h.labels for h in hyps] == [[1], []]  # label 2 is skipped, the argmax is not


def test_beam_prune_logp_drops_hypotheses_far_below_the_best():
    y = random_log_probs(7, 10, 5, scale=2.0)
    full = beam_search(y, beam=20, nbest=20)
    assert full[-1].score < full[0].score - 1.0  # without pruning, far ones stay
    pruned = beam_search(y, beam=20, nbest=20, beam_prune_logp=-1.0)
    assert len(pruned) < len(full)
    assert all(h.score >= pruned[0].score - 1.0 for h in pruned)
    assert pruned[0].labels == full[0].labels


def test_exact_beam_search_finds_the_reference_once_the_beam_is_wide_on_peaky_input():
    rng = np.random.default_rng(8)
    for _ in range(5):
        path = rng.integers(0, 3, size=7).tolist()
        y = frames(path, 3, p=0.6)  # ambiguous enough that best path is not always right
        ref = exact_decode(y)
        assert beam_search(y, beam=64).log_prob == pytest.approx(ref.log_prob, abs=1e-9)
        assert prefix_search(y, blank_threshold=None).log_prob == pytest.approx(ref.log_prob)
