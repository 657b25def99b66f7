"""Standard fitness, Gruau's damping fitness and the 625-start generalization test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnai.envs import fitness
from rnnai.envs.control import lqr_batch_policy
from rnnai.envs.pole import (
    DOUBLE_POLE,
    DOUBLE_POLE_NONMARKOV,
    SINGLE_POLE,
    PoleBalancingEnv,
    observe,
)
from rnnai.runtime.errors import RnnaiError


def _zero(obs: np.ndarray) -> float:
    return 0.0


def _env_trajectory(policy, config, max_steps: int, start=None) -> np.ndarray:
    """Raw states after every balanced step, run through the gymnasium env.

    The policy sees the float64 observation of the raw state, as in `rnnai.envs.fitness` (the
    env's own observations are rounded to float32).
    """
    env = PoleBalancingEnv(config, max_steps=max_steps)
    _, info = env.reset(options=None if start is None else {"state": start})
    states = []
    while True:
        obs = observe(info["state"], env.config)
        _, _, term, trunc, info = env.step(np.array([policy(obs)]))
        if term:
            break
        states.append(info["state"])
        if trunc:
            break
    return np.array(states).reshape(-1, 6)


def test_damping_fitness_value_on_hand_computed_cases() -> None:
    assert fitness.damping_fitness_value(50, 123.0) == pytest.approx(0.1 * 0.05)  # f2 = 0
    assert fitness.damping_fitness_value(99, 1.0) == pytest.approx(0.1 * 0.099)
    # t = 1000, sum = 7.5: f = 0.1 * 1 + 0.9 * 0.75 / 7.5 = 0.19
    assert fitness.damping_fitness_value(1000, 7.5) == pytest.approx(0.19)
    assert fitness.damping_fitness_value(100, 0.0) == math.inf


def test_damping_fitness_from_states_sums_only_the_last_100_states() -> None:
    states = np.zeros((150, 6))
    states[:50, :4] = 1e6  # older than the window: ignored
    states[50:, :4] = [0.01, -0.02, 0.03, -0.04]  # |.| sums to 0.1 per state
    states[:, 4:] = 1e6  # the short pole does not enter f2
    # f = 0.1 * 150/1000 + 0.9 * 0.75 / (100 * 0.1) = 0.015 + 0.0675
    assert fitness.damping_fitness_from_states(states) == pytest.approx(0.0825)
    assert fitness.damping_fitness_from_states(states[:80]) == pytest.approx(0.1 * 0.08)


def test_damping_fitness_matches_the_env_trajectory() -> None:
    lqr = lqr_batch_policy(DOUBLE_POLE)

    def single(obs: np.ndarray) -> float:
        return float(lqr(obs[None, :])[0])

    states = _env_trajectory(single, DOUBLE_POLE, 1000)
    assert states.shape[0] == 1000
    expected = fitness.damping_fitness_from_states(states)
    assert fitness.damping_fitness(single, DOUBLE_POLE) == pytest.approx(expected, rel=1e-12)
    # a controller that lets the poles fall scores t / 10000 with t < 100
    t = _env_trajectory(_zero, DOUBLE_POLE_NONMARKOV, 1000).shape[0]
    assert 0 < t < 100
    assert fitness.damping_fitness(_zero) == pytest.approx(0.1 * t / 1000)


def test_damping_fitness_batch_equals_single_runs() -> None:
    lqr = lqr_batch_policy(DOUBLE_POLE)

    def mixed(obs: np.ndarray) -> np.ndarray:  # row 0 balances, row 1 does nothing
        return np.array([lqr(obs[:1])[0], 0.0])

    batch = fitness.damping_fitness_batch(mixed, DOUBLE_POLE, 2)
    assert batch[0] == pytest.approx(
        fitness.damping_fitness(lambda o: lqr(o[None])[0], DOUBLE_POLE)
    )
    assert batch[1] == pytest.approx(fitness.damping_fitness(_zero, DOUBLE_POLE))


def test_balance_steps_counts_steps_as_the_env_does() -> None:
    t_env = _env_trajectory(_zero, DOUBLE_POLE, 1000).shape[0]
    assert fitness.balance_steps(_zero) == t_env
    start = np.array([0.5, -0.3, 0.02, 0.1, -0.01, 0.0])
    t_env = _env_trajectory(_zero, SINGLE_POLE, 1000, start=start[:4]).shape[0]
    assert fitness.balance_steps(_zero, SINGLE_POLE, initial_state=start[:4]) == t_env


@pytest.mark.parametrize("config", [SINGLE_POLE, DOUBLE_POLE])
def test_lqr_controller_balances_to_the_step_limit(config) -> None:
    steps = fitness.balance_steps_batch(lqr_batch_policy(config), config, 3, max_steps=2000)
    np.testing.assert_array_equal(steps, [2000, 2000, 2000])


def test_generalization_starts_grid() -> None:
    starts = fitness.generalization_starts()
    assert starts.shape == (625, 6)
    d36, d86 = math.radians(3.6), math.radians(8.6)
    # first start: every variable at 0.05 of its range; x outermost, theta1' innermost
    np.testing.assert_allclose(starts[0], [-1.944, -1.215, -0.9 * d36, -0.9 * d86, 0, 0])
    np.testing.assert_allclose(starts[1, 3], -0.5 * d86)  # 0.25 of the range
    np.testing.assert_allclose(starts[5, 2], -0.5 * d36)
    np.testing.assert_allclose(starts[125, 0], -1.08)
    np.testing.assert_allclose(starts[312], np.zeros(6), atol=1e-15)  # the centre
    np.testing.assert_allclose(starts[-1], -starts[0])
    assert np.unique(starts, axis=0).shape[0] == 625
    np.testing.assert_allclose(starts.mean(axis=0), 0.0, atol=1e-15)


def test_generalization_test_with_a_falling_and_a_balancing_controller() -> None:
    res = fitness.generalization_test(lambda obs: np.zeros(obs.shape[0]))
    # doing nothing only survives the 5 starts at rest and upright (x at its 5 values)
    at_rest = np.all(fitness.generalization_starts()[:, 1:] == 0.0, axis=1)
    assert at_rest.sum() == 5 and np.all(res.steps[at_rest] == 1000)
    assert res.n_success == 5 and not res.passed and res.steps.shape == (625,)
    lqr = fitness.generalization_test(lqr_batch_policy(DOUBLE_POLE), DOUBLE_POLE)
    assert lqr.passed and lqr.n_success == int(np.sum(lqr.steps == 1000))
    # spot-check a few starts against single runs through the gymnasium env
    single = lqr_batch_policy(DOUBLE_POLE)
    starts = fitness.generalization_starts()
    for i in (0, 312, 401, 624):
        t = _env_trajectory(lambda o: single(o[None])[0], DOUBLE_POLE, 1000, starts[i]).shape[0]
        assert lqr.steps[i] == t


def test_batch_from_factory_keeps_independent_state() -> None:
    def factory():
        calls = [0]

        def policy(obs: np.ndarray) -> float:
            calls[0] += 1
            return 1.0 if calls[0] % 2 else -1.0

        return policy

    batched = fitness.batch_from_factory(factory, 3)
    np.testing.assert_array_equal(batched(np.zeros((3, 3))), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(batched(np.zeros((3, 3))), [-1.0, -1.0, -1.0])


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (np.array([np.nan, 0.0]), "finite"),
        (np.array([0.0, 2.0]), r"\[-1, 1\]"),
        (np.zeros(3), r"shape \(2,\)"),
        ("x", "numbers"),
    ],
)
def test_bad_policy_output_raises(output, message) -> None:
    with pytest.raises(RnnaiError, match=message):
        fitness.balance_steps_batch(lambda obs: output, DOUBLE_POLE, 2, max_steps=5)


def test_bad_single_policy_output_raises() -> None:
    with pytest.raises(RnnaiError, match="shape"):
        fitness.balance_steps(lambda obs: np.zeros(2), max_steps=5)
    with pytest.raises(RnnaiError, match="initial_states"):
        fitness.balance_steps_batch(lambda obs: np.zeros(1), DOUBLE_POLE, np.zeros((1, 5)))
