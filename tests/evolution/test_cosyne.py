"""CoSyNE: Eq. 1's marking probability, permutation within subpopulations, replacement."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.evolution import CoSyNE, CoSyNEConfig, marking_probability
from rnnai.runtime.errors import RnnaiError


def test_marking_probability_is_one_minus_nth_root_of_normalized_fitness() -> None:
    f = np.array([10.0, 0.0, 5.0, 2.5])
    n = 4
    expected = 1.0 - np.array([1.0, 0.0, 0.5, 0.25]) ** (1 / n)
    np.testing.assert_allclose(marking_probability(f, n), expected)
    # the chance that a network keeps all n weights equals its normalized fitness
    np.testing.assert_allclose((1 - marking_probability(f, n)) ** n, [1.0, 0.0, 0.5, 0.25])


def test_marking_probability_marks_all_on_flat_fitness_and_clips_infinity() -> None:
    np.testing.assert_array_equal(marking_probability(np.full(3, 7.0), 5), np.ones(3))
    p = marking_probability(np.array([np.inf, 1.0, 0.0, 0.5]), 2)
    np.testing.assert_allclose(p, [0.0, 0.0, 1.0, 1.0 - 0.5**0.5])  # inf counts as the best


def test_best_network_survives_a_generation_intact() -> None:
    s = CoSyNE(6, CoSyNEConfig(population=12), rng=np.random.default_rng(0))
    g = s.ask()
    f = np.arange(12, dtype=float)
    s.tell(f)
    assert any(np.array_equal(row, g[11]) for row in s.population)


def test_permutation_only_moves_survivor_weights_within_their_subpopulation() -> None:
    cfg = CoSyNEConfig(population=16, permute_all=True, mutation_rate=0.0)
    s = CoSyNE(5, cfg, rng=np.random.default_rng(1))
    g = s.ask()
    f = np.linspace(0, 1, 16)
    s.tell(f)
    survivors = g[np.argsort(-f)][: 16 - cfg.n_offspring]
    new = s.population[: 16 - cfg.n_offspring]
    for i in range(5):  # each column holds the same survivor weights, reordered
        np.testing.assert_array_equal(np.sort(new[:, i]), np.sort(survivors[:, i]))
    assert not np.array_equal(new, survivors)


def test_offspring_replace_the_worst_and_come_from_top_quarter_weights() -> None:
    cfg = CoSyNEConfig(population=8, mutation_rate=0.0)
    s = CoSyNE(4, cfg, rng=np.random.default_rng(2))
    g = s.ask()
    f = np.arange(8, dtype=float)
    s.tell(f)
    parents = g[np.argsort(-f)][: cfg.n_parents]
    for child in s.population[8 - cfg.n_offspring :]:
        for i in range(4):
            assert child[i] in parents[:, i]


def test_bad_config_is_rejected() -> None:
    with pytest.raises(RnnaiError, match="population"):
        CoSyNEConfig(population=2)
    with pytest.raises(RnnaiError, match="offspring"):
        CoSyNEConfig(population=8, offspring=8)
