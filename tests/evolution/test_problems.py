"""Pole problems: numba evaluation equals rnnai.envs.fitness; success and generalization."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.envs.control import lqr_gain
from rnnai.envs.fitness import (
    balance_steps_batch,
    batch_from_factory,
    damping_fitness_batch,
    generalization_test,
)
from rnnai.envs.pole import DOUBLE_POLE, initial_state, observation_scale
from rnnai.evolution import (
    DoublePoleMarkov,
    DoublePoleNonMarkov,
    RecurrentNet,
    SinglePoleMarkov,
    make_problem,
)
from rnnai.evolution.networks import trajectory
from rnnai.runtime.errors import RnnaiError


def _genomes(p, n: int, seed: int, scale: float = 3.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=scale, size=(n, p.dim))


def _factory_policy(p, genomes: np.ndarray):
    nets = [RecurrentNet(p.spec, g) for g in genomes]
    it = iter(nets)
    return batch_from_factory(lambda: next(it), len(nets))


@pytest.mark.parametrize("cls", [SinglePoleMarkov, DoublePoleMarkov])
def test_standard_fitness_equals_envs_balance_steps(cls) -> None:
    p = cls(n_neurons=2, success_steps=300)
    g = _genomes(p, 8, 0)
    ours = p.evaluate(g)
    ref = balance_steps_batch(_factory_policy(p, g), p.config, 8, max_steps=300)
    np.testing.assert_array_equal(ours, ref.astype(float))
    assert ours.max() > ours.min()


def test_damping_fitness_equals_envs_damping_fitness() -> None:
    p = DoublePoleNonMarkov(n_neurons=3)
    g = _genomes(p, 8, 1)
    ours = p.evaluate(g)
    ref = damping_fitness_batch(_factory_policy(p, g), p.config, 8)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_generalization_equals_envs_generalization_test() -> None:
    p = DoublePoleNonMarkov(n_neurons=2)
    g = _genomes(p, 1, 2)[0]
    ours = p.generalization(g, steps=30, threshold=10)
    ref = generalization_test(
        _factory_policy(p, np.repeat(g[None], 625, 0)), p.config, steps=30, threshold=10
    )
    np.testing.assert_array_equal(ours.steps, ref.steps)
    assert ours.n_success == ref.n_success and ours.passed == ref.passed


def test_a_linear_controller_as_one_tanh_neuron_solves_the_markov_double_pole() -> None:
    # u = tanh(w . o) with w the LQR feedback -K z / F written on the scaled observations o
    p = DoublePoleMarkov(activation="tanh", success_steps=2000)
    scale = observation_scale(p.config)
    gains = -lqr_gain(DOUBLE_POLE) * scale / p.config.force_mag
    genome = np.concatenate([gains, [0.0, 0.0]])
    assert p.solved(genome)
    assert not p.solved(np.zeros(p.dim))


def test_solved_and_target_fitness_agree_for_markov_tasks() -> None:
    p = SinglePoleMarkov(success_steps=500)
    g = _genomes(p, 30, 3)
    f = p.evaluate(g)
    for genome, fit in zip(g, f, strict=True):
        assert p.solved(genome) == (fit >= p.target_fitness)


def test_nonmarkov_damping_task_has_no_target_fitness() -> None:
    assert DoublePoleNonMarkov().target_fitness is None
    assert DoublePoleNonMarkov(fitness="steps").target_fitness == 100_000


def test_trajectory_matches_the_rollout_steps() -> None:
    p = DoublePoleMarkov(n_neurons=2, success_steps=400)
    g = _genomes(p, 5, 4)
    steps = p.evaluate(g)
    for genome, n in zip(g, steps, strict=True):
        states, actions = trajectory(p.spec, genome, p.config, initial_state(p.config), 400)
        assert len(actions) == min(int(n) + 1, 400)
        assert states.shape == (len(actions) + 1, 6)


def test_unknown_problem_and_bad_arguments_are_named() -> None:
    with pytest.raises(RnnaiError, match="unknown pole problem"):
        make_problem("triple_pole")
    with pytest.raises(RnnaiError, match="fitness"):
        DoublePoleNonMarkov(fitness="speed")
    with pytest.raises(RnnaiError, match="activation"):
        SinglePoleMarkov(activation="relu")
    with pytest.raises(RnnaiError, match="success_steps"):
        SinglePoleMarkov(success_steps=0)
