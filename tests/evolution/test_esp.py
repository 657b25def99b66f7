"""ESP: neuron subpopulations, credit by averaged trials, recombination, burst mutation."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.evolution import ESP, ESPConfig
from rnnai.runtime.errors import RnnaiError


def test_every_neuron_takes_part_in_exactly_trials_networks() -> None:
    s = ESP(12, 3, ESPConfig(subpopulation=8, trials=4), rng=np.random.default_rng(0))
    g = s.ask().reshape(32, 3, 4)
    for i in range(3):
        rows = [tuple(r) for r in g[:, i]]
        for neuron in s.subpops[i]:
            assert rows.count(tuple(neuron)) == 4


def test_neurons_are_credited_with_their_average_fitness() -> None:
    cfg = ESPConfig(subpopulation=4, trials=3, mutation_rate=0.0)
    s = ESP(2, 1, cfg, rng=np.random.default_rng(1))
    s.subpops[0] = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    g = s.ask()
    s.tell(g[:, 0])  # fitness = the neuron's first weight, so the ranking is known
    # best first: the top neuron (3) stays, the bottom half holds the offspring
    np.testing.assert_array_equal(s.subpops[0][:2], [[3.0, 0.0], [2.0, 0.0]])


def test_burst_mutation_rebuilds_subpopulations_around_the_best_network() -> None:
    cfg = ESPConfig(subpopulation=6, trials=2, stagnation=2)
    s = ESP(6, 2, cfg, rng=np.random.default_rng(2))
    for _ in range(4):  # constant fitness: no improvement after the first generation
        g = s.ask()
        s.tell(np.zeros(g.shape[0]))
    assert s.bursts >= 1
    best = s.best_genome.reshape(2, 3)
    np.testing.assert_array_equal(s.subpops[:, 0], best)


def test_dim_must_split_into_neurons() -> None:
    with pytest.raises(RnnaiError, match="multiple"):
        ESP(7, 2, rng=np.random.default_rng(0))
    with pytest.raises(RnnaiError, match="subpopulation"):
        ESPConfig(subpopulation=2)
