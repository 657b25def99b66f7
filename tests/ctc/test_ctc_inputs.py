"""rnnai.ctc input validation: one clear error per kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.ctc import (
    CTCInputError,
    beam_search,
    best_path,
    exact_decode,
    prefix_search,
    spot_keywords,
    token_passing,
)
from rnnai.runtime.errors import RnnaiError


def uniform(T: int = 4, C: int = 3, B: int | None = None) -> np.ndarray:
    shape = (T, C) if B is None else (B, T, C)
    return np.full(shape, -np.log(C))


def test_input_errors_are_rnnai_errors():
    assert issubclass(CTCInputError, RnnaiError)


def test_wrong_rank_is_rejected():
    with pytest.raises(CTCInputError, match="shape \\(T, C\\) or \\(B, T, C\\); got rank 1"):
        best_path(np.zeros(5))


def test_lengths_longer_than_t_are_rejected():
    with pytest.raises(CTCInputError, match="lengths\\[1\\] = 9 is longer than T = 4"):
        beam_search(uniform(B=2), lengths=[4, 9])


def test_lengths_of_the_wrong_shape_are_rejected():
    with pytest.raises(CTCInputError, match="lengths must have shape"):
        best_path(uniform(B=2), lengths=np.array([1, 2, 3]))


def test_nan_is_rejected():
    y = uniform()
    y[2, 1] = np.nan
    with pytest.raises(CTCInputError, match="NaN \\(first at b=0, t=2\\)"):
        prefix_search(y)


def test_probabilities_instead_of_log_probabilities_are_rejected():
    probs = torch.softmax(torch.randn(5, 4), -1)
    with pytest.raises(CTCInputError, match="look like probabilities"):
        beam_search(probs)


def test_unnormalised_scores_are_rejected():
    with pytest.raises(CTCInputError, match="unnormalised scores"):
        best_path(np.random.default_rng(0).normal(size=(5, 4)))


def test_padding_beyond_lengths_is_not_checked():
    y = uniform(B=2)
    y[1, 2:] = np.nan
    assert len(best_path(y, lengths=[4, 2])) == 2


def test_blank_out_of_range_is_rejected():
    with pytest.raises(
        CTCInputError, match="blank index must be in \\[0, C\\) = \\[0, 3\\); got 3"
    ):
        best_path(uniform(), blank=3)


def test_beam_below_one_is_rejected():
    with pytest.raises(CTCInputError, match="beam must be >= 1; got 0"):
        beam_search(uniform(), beam=0)


def test_non_array_input_is_a_type_error():
    with pytest.raises(TypeError, match="numpy array or a torch tensor; got list"):
        best_path([[0.0]])


def test_empty_keyword_is_rejected():
    with pytest.raises(CTCInputError, match="keywords must be non-empty"):
        spot_keywords(uniform(), [[]])


# --- every decoder rejects every kind of bad input with the same clear error ------------------

ALL_DECODERS = {
    "best_path": lambda y, **kw: best_path(y, **kw),
    "prefix_search": lambda y, **kw: prefix_search(y, **kw),
    "beam_search": lambda y, **kw: beam_search(y, beam=4, **kw),
    "exact_decode": lambda y, **kw: exact_decode(y, **kw),
    "token_passing": lambda y, **kw: token_passing(y, [[1], [2, 1]], **kw),
    "spot_keywords": lambda y, **kw: spot_keywords(y, [[1, 2]], **kw),
}


@pytest.mark.parametrize("name", ALL_DECODERS)
@pytest.mark.parametrize("shape", [(5,), (2, 2, 4, 3), ()])
def test_every_decoder_rejects_the_wrong_rank(name, shape):
    with pytest.raises(CTCInputError, match="shape \\(T, C\\) or \\(B, T, C\\); got rank"):
        ALL_DECODERS[name](np.zeros(shape))


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_lengths_longer_than_t(name):
    with pytest.raises(CTCInputError, match="lengths\\[0\\] = 5 is longer than T = 4"):
        ALL_DECODERS[name](uniform(B=2), lengths=[5, 4])


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_negative_lengths(name):
    with pytest.raises(CTCInputError, match="lengths must be >= 0"):
        ALL_DECODERS[name](uniform(B=2), lengths=[-1, 4])


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_nan(name):
    y = uniform(B=2)
    y[1, 3, 0] = np.nan
    with pytest.raises(CTCInputError, match="NaN \\(first at b=1, t=3\\)"):
        ALL_DECODERS[name](y)


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_positive_infinity(name):
    y = uniform()
    y[0, 2] = np.inf
    with pytest.raises(CTCInputError, match="\\+inf \\(first at b=0, t=0\\)"):
        ALL_DECODERS[name](y)


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_probabilities_instead_of_log_probabilities(name):
    probs = np.full((4, 3), 1 / 3)
    with pytest.raises(CTCInputError, match="look like probabilities: pass their log"):
        ALL_DECODERS[name](probs)


@pytest.mark.parametrize("name", ALL_DECODERS)
def test_every_decoder_rejects_a_row_of_zero_probability(name):
    y = uniform()
    y[1] = -np.inf
    with pytest.raises(CTCInputError, match="row b=0, t=1"):
        ALL_DECODERS[name](y)


def test_positive_beam_prune_logp_is_rejected():
    with pytest.raises(CTCInputError, match="beam_prune_logp a number <= 0"):
        beam_search(uniform(), beam_prune_logp=1.0)


def test_nan_token_min_logp_is_rejected():
    with pytest.raises(CTCInputError, match="token_min_logp must be a number"):
        beam_search(uniform(), token_min_logp=float("nan"))


def test_nbest_below_one_is_rejected():
    with pytest.raises(CTCInputError, match="nbest must be >= 1"):
        beam_search(uniform(), nbest=0)


def test_non_integer_beam_is_a_type_error():
    with pytest.raises(TypeError, match="beam must be an int; got float"):
        beam_search(uniform(), beam=2.5)
