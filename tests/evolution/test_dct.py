"""DCT coding of weight arrays: ordering, round trips, compression, torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.evolution import CompressedProblem, DCTCoding, DoublePoleMarkov, frequency_order
from rnnai.runtime.errors import RnnaiError


def test_frequency_order_runs_along_anti_diagonals() -> None:
    order = frequency_order((3, 3))
    pairs = [divmod(int(i), 3) for i in order]
    assert pairs == [(0, 0), (0, 1), (1, 0), (0, 2), (1, 1), (2, 0), (1, 2), (2, 1), (2, 2)]
    sums = [sum(np.unravel_index(i, (2, 3, 4))) for i in frequency_order((2, 3, 4))]
    assert sums == sorted(sums)


def test_full_coding_round_trips_both_ways() -> None:
    rng = np.random.default_rng(0)
    shapes = [(4, 6), (5,), (2, 3, 2)]
    coding = DCTCoding(shapes, coefficients=1000)  # capped at each size
    arrays = [rng.normal(size=s) for s in shapes]
    back = coding.decode(coding.encode(arrays))
    for a, b in zip(arrays, back, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    g = rng.normal(size=coding.dim)
    np.testing.assert_allclose(coding.encode(coding.decode(g)), g, atol=1e-12)


def test_truncated_coding_round_trips_coefficients_and_compresses() -> None:
    coding = DCTCoding([(20, 30), (30,)], coefficients=[6, 3])
    assert coding.dim == 9 and coding.n_weights == 630
    assert coding.compression == pytest.approx(70.0)
    g = np.random.default_rng(1).normal(size=9)
    np.testing.assert_allclose(coding.encode(coding.decode(g)), g, atol=1e-12)


def test_single_dc_coefficient_gives_a_constant_matrix() -> None:
    (w,) = DCTCoding([(4, 5)], 1).decode(np.array([2.0]))
    np.testing.assert_allclose(w, np.full((4, 5), 2.0 / np.sqrt(20)))


def test_low_frequencies_give_smoother_weights_than_high_ones() -> None:
    full = DCTCoding([(16, 16)], 256)
    low, high = np.zeros(256), np.zeros(256)
    low[1], high[200] = 1.0, 1.0
    rough = [np.abs(np.diff(full.decode(g)[0], axis=1)).sum() for g in (low, high)]
    assert rough[0] < rough[1]


def test_coding_writes_a_torch_modules_parameters() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    coding = DCTCoding.from_module(net, 4)
    assert coding.shapes == [(6, 8), (6,), (2, 6), (2,)] and coding.dim == 14
    g = np.random.default_rng(2).normal(size=coding.dim)
    coding.to_module(net, g)
    np.testing.assert_allclose(net[0].weight.detach().numpy(), coding.decode(g)[0], rtol=1e-6)
    with pytest.raises(RnnaiError, match="shapes"):
        coding.to_module(torch.nn.Linear(3, 3), g)


def test_compressed_problem_evaluates_decoded_weights() -> None:
    inner = DoublePoleMarkov(n_neurons=2)
    coding = DCTCoding([(2, inner.spec.neuron_dim)], 5)
    p = CompressedProblem(inner, coding)
    g = np.random.default_rng(3).normal(size=(4, 5))
    np.testing.assert_array_equal(p.evaluate(g), inner.evaluate(coding.decode_flat(g)))
    with pytest.raises(RnnaiError, match="weights"):
        CompressedProblem(inner, DCTCoding([(3, 3)], 2))


def test_bad_genome_length_is_named() -> None:
    with pytest.raises(RnnaiError, match=r"shape \(3,\)"):
        DCTCoding([(3, 3)], 3).decode(np.zeros(4))
