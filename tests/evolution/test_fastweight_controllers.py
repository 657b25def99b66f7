"""Modular fast-weight controllers: Eqs. 1-3 on hand-checkable cases and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.evolution.fastweights import FastWeightNet, FastWeightNetConfig
from rnnai.runtime.errors import RnnaiError


def test_genome_size_counts_gate_recurrence_and_modules() -> None:
    c = FastWeightNetConfig(n_inputs=3, n_outputs=2, n_modules=2, recurrent_gate=True)
    assert c.genome_size == 2 * 4 + 2 * 2 + 2 * 2 * 4
    c = FastWeightNetConfig(n_inputs=3, n_outputs=2, n_modules=2, recurrent_gate=False)
    assert c.genome_size == 2 * 4 + 2 * 2 * 4


def test_one_module_is_a_squashed_linear_controller() -> None:
    c = FastWeightNetConfig(n_inputs=3, n_outputs=2, n_modules=1, recurrent_gate=False)
    rng = np.random.default_rng(0)
    genome = rng.normal(size=c.genome_size)
    m = genome[4:].reshape(2, 4)  # after the gate's 1 x 4 weights
    net = FastWeightNet(c, genome)
    x = rng.normal(size=3)
    np.testing.assert_allclose(net(x), np.tanh(m @ np.append(x, 1.0)), rtol=1e-14)


def test_gate_mixes_modules_by_softmax_weights() -> None:
    c = FastWeightNetConfig(n_inputs=2, n_outputs=1, n_modules=2, recurrent_gate=False)
    rng = np.random.default_rng(1)
    genome = rng.normal(size=c.genome_size)
    gw = genome[:6].reshape(2, 3)
    mods = genome[6:].reshape(2, 1, 3)
    x = rng.normal(size=2)
    xt = np.append(x, 1.0)
    z = gw @ xt
    g = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    expected = np.tanh(sum(g[k] * (mods[k] @ xt) for k in range(2)))
    net = FastWeightNet(c, genome)
    np.testing.assert_allclose(net(x), expected, rtol=1e-14)
    np.testing.assert_allclose(net.gate, g, rtol=1e-14)


def test_recurrent_gate_remembers_and_reset_forgets() -> None:
    c = FastWeightNetConfig(n_inputs=1, n_outputs=1, n_modules=2, recurrent_gate=True)
    genome = np.zeros(c.genome_size)
    genome[0] = 5.0  # gate 0 follows the input
    genome[4:8] = [3.0, 0.0, 0.0, 0.0]  # U: gate 0 feeds itself
    genome[8:10] = [0.0, 1.0]  # module 0 outputs tanh(1)
    genome[10:12] = [0.0, -1.0]  # module 1 outputs tanh(-1)
    net = FastWeightNet(c, genome)
    net(np.array([1.0]))  # drives the gate to module 0
    after_pulse = net(np.array([0.0]))[0]
    net.reset()
    fresh = net(np.array([0.0]))[0]
    assert after_pulse > fresh  # the memory of the pulse keeps module 0 ahead


def test_huge_gate_inputs_do_not_overflow() -> None:
    c = FastWeightNetConfig(n_inputs=1, n_outputs=1, n_modules=3, recurrent_gate=False)
    genome = np.full(c.genome_size, 1e3)
    out = FastWeightNet(c, genome)(np.array([1e3]))
    assert np.all(np.isfinite(out))


def test_bad_shapes_and_values_are_rejected() -> None:
    c = FastWeightNetConfig(n_inputs=2, n_outputs=1)
    with pytest.raises(RnnaiError, match="genome must have"):
        FastWeightNet(c, np.zeros(3))
    with pytest.raises(RnnaiError, match="NaN"):
        FastWeightNet(c, np.full(c.genome_size, np.nan))
    with pytest.raises(RnnaiError, match="observation"):
        FastWeightNet(c, np.zeros(c.genome_size))(np.zeros(5))
    with pytest.raises(RnnaiError, match="n_modules"):
        FastWeightNetConfig(n_inputs=2, n_outputs=1, n_modules=0)
