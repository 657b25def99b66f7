"""The pycma wrapper: determinism without global state, replayed checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.evolution import CMAES, CMAESConfig
from rnnai.runtime.errors import RnnaiError


def test_cmaes_leaves_numpy_global_random_state_alone() -> None:
    before = np.random.get_state()[1].copy()
    s = CMAES(4, CMAESConfig(popsize=6), rng=np.random.default_rng(0))
    for _ in range(3):
        g = s.ask()
        s.tell(-np.sum(g**2, axis=1))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_cmaes_uses_the_configured_population_size() -> None:
    s = CMAES(5, CMAESConfig(popsize=9), rng=np.random.default_rng(0))
    assert s.ask().shape == (9, 5) and s.popsize == 9


def test_replay_that_diverges_is_refused() -> None:
    s = CMAES(3, rng=np.random.default_rng(0))
    g = s.ask()
    s.tell(-np.sum(g**2, axis=1))
    state = s.state_dict()
    state["last_digest"] = "0" * 64
    with pytest.raises(RnnaiError, match="replaying"):
        CMAES(3, rng=np.random.default_rng(5)).load_state_dict(state)


def test_infinite_fitness_is_accepted() -> None:
    s = CMAES(3, rng=np.random.default_rng(0))
    g = s.ask()
    f = np.zeros(g.shape[0])
    f[0] = np.inf
    s.tell(f)
    assert np.array_equal(s.best_genome, g[0])
