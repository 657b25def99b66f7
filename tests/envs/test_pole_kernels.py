"""The numba twin against the gymnasium environment and against its plain-Python twin."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnai.envs import _kernels
from rnnai.envs.pole import (
    DOUBLE_POLE,
    PoleConfig,
    observation_indices,
    observation_scale,
    observe,
    physics_params,
)


def _kernel_args(c: PoleConfig) -> tuple:
    return (
        c.n_poles,
        physics_params(c),
        c.force_mag,
        c.min_force,
        c.tau,
        c.substeps,
        c.track_limit,
        c.failure_angle,
    )


def _random_start(rng: np.random.Generator, n_poles: int) -> np.ndarray:
    s = rng.uniform([-1, -1, -0.1, -0.5, -0.1, -0.5], [1, 1, 0.1, 0.5, 0.1, 0.5])
    if n_poles == 1:
        s[4:] = 0.0
    return s


@pytest.mark.parametrize(
    ("env_id", "kwargs", "total_steps"),
    [
        ("rnnai/DoublePole-v0", {}, 2000),
        ("rnnai/DoublePoleNonMarkov-v0", {"min_force": 10 / 256}, 500),
        ("rnnai/CartPoleWieland-v0", {}, 1000),
    ],
)
def test_numba_twin_matches_env_step_by_step(env_id, kwargs, total_steps) -> None:
    env = gym.make(env_id, **kwargs)
    c = env.unwrapped.config
    args = _kernel_args(c)
    index = np.asarray(observation_indices(c.n_poles, c.markov), dtype=np.int64)
    scale = observation_scale(c)
    rng = np.random.default_rng(7)
    done, episodes = True, 0
    state = np.zeros((1, 6))
    alive = np.ones(1, dtype=np.bool_)
    steps = np.zeros(1, dtype=np.int64)
    obs_k = np.zeros((1, index.shape[0]))
    for _ in range(total_steps):
        if done:
            obs, info = env.reset(seed=episodes, options={"state": _random_start(rng, c.n_poles)})
            state[0] = info["state"]
            alive[0], steps[0], episodes = True, 0, episodes + 1
        action = rng.uniform(-1.0, 1.0, size=1)
        obs, reward, term, trunc, info = env.step(action)
        n_alive = _kernels.step_batch(state, action, alive, steps, *args)
        _kernels.observe_batch(state, index, scale, obs_k)
        np.testing.assert_allclose(state[0], info["state"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(obs_k[0].astype(np.float32), obs)  # float64, rounded
        assert bool(alive[0]) == (not term) and n_alive == int(not term)
        assert steps[0] == info["steps"]
        done = term or trunc
    assert episodes > 5  # random actions fail often: many starts were covered


def test_step_batch_matches_python_twin_on_a_population() -> None:
    c = DOUBLE_POLE.with_overrides(min_force=10 / 256)
    rng = np.random.default_rng(3)
    n = 40
    state = np.array([_random_start(rng, 2) for _ in range(n)])
    twin = state.copy()
    alive, alive_py = np.ones(n, dtype=np.bool_), np.ones(n, dtype=np.bool_)
    steps, steps_py = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for _ in range(60):
        action = rng.uniform(-1, 1, size=n)
        k = _kernels.step_batch(state, action, alive, steps, *_kernel_args(c))
        p = _kernels.step_batch_py(twin, action, alive_py, steps_py, *_kernel_args(c))
        assert k == p
        np.testing.assert_allclose(state, twin, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(alive, alive_py)
        np.testing.assert_array_equal(steps, steps_py)
    assert 0 < alive.sum() < n or not alive.any()


@settings(max_examples=60, deadline=None)
@given(
    s=st.lists(st.floats(-1.0, 1.0), min_size=6, max_size=6),
    a=st.floats(-1.0, 1.0),
    n_poles=st.sampled_from([1, 2]),
)
def test_one_step_kernel_equals_python_twin_for_any_state(s, a, n_poles) -> None:
    c = DOUBLE_POLE.with_overrides(n_poles=n_poles)
    state = np.array([s], dtype=np.float64)
    if n_poles == 1:
        state[:, 4:] = 0.0
    twin = state.copy()
    action = np.array([a])
    flags = [np.ones(1, dtype=np.bool_), np.ones(1, dtype=np.bool_)]
    counts = [np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)]
    _kernels.step_batch(state, action, flags[0], counts[0], *_kernel_args(c))
    _kernels.step_batch_py(twin, action, flags[1], counts[1], *_kernel_args(c))
    np.testing.assert_allclose(state, twin, rtol=0, atol=1e-12)
    assert flags[0][0] == flags[1][0] and counts[0][0] == counts[1][0]


def test_dead_episodes_stay_frozen() -> None:
    state = np.array([[0.0, 0.0, 0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 0.1, 0.0, 0.0, 0.0]])
    alive = np.array([True, False])
    steps = np.zeros(2, dtype=np.int64)
    _kernels.step_batch(state, np.zeros(2), alive, steps, *_kernel_args(DOUBLE_POLE))
    np.testing.assert_array_equal(state[1], [0.0, 0.0, 0.1, 0.0, 0.0, 0.0])
    assert state[0, 2] != 0.1 and list(steps) == [1, 0]


@pytest.mark.parametrize(("n_poles", "markov"), [(1, True), (1, False), (2, True), (2, False)])
def test_observe_batch_matches_twin_and_env_observation(n_poles, markov) -> None:
    c = PoleConfig(n_poles=n_poles, markov=markov, failure_angle_deg=12.0 * n_poles)
    rng = np.random.default_rng(1)
    state = rng.normal(size=(5, 6))
    index = np.asarray(observation_indices(n_poles, markov), dtype=np.int64)
    out, out_py = np.zeros((5, len(index))), np.zeros((5, len(index)))
    _kernels.observe_batch(state, index, observation_scale(c), out)
    _kernels.observe_batch_py(state, index, observation_scale(c), out_py)
    np.testing.assert_array_equal(out, out_py)
    np.testing.assert_array_equal(out[3], observe(state[3], c))


def test_first_bad_action_skips_dead_episodes_and_catches_nan() -> None:
    alive = np.array([True, False, True, True])
    for fn in (_kernels.first_bad_action, _kernels.first_bad_action_py):
        assert fn(np.array([0.0, 5.0, 1.0, -1.0]), alive) == -1
        assert fn(np.array([0.0, 5.0, math.nan, -1.0]), alive) == 2
        assert fn(np.array([0.0, 0.0, 0.0, -1.5]), alive) == 3
