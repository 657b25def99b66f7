"""The gymnasium pole-balancing environments: registration, API conformance, errors."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rnnai.envs
from rnnai.envs import ENV_IDS, PoleBalancingEnv, PoleConfig
from rnnai.runtime.errors import RnnaiError


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_check_env_passes(env_id: str) -> None:
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "obs_dim"),
    [
        ("rnnai/CartPoleWieland-v0", {}, 4),
        ("rnnai/CartPoleWieland-v0", {"markov": False}, 2),
        ("rnnai/DoublePole-v0", {}, 6),
        ("rnnai/DoublePole-v0", {"markov": False}, 3),
        ("rnnai/DoublePoleNonMarkov-v0", {}, 3),
    ],
)
def test_registered_ids_build_the_documented_variants(env_id, kwargs, obs_dim) -> None:
    env = gym.make(env_id, **kwargs)
    obs, info = env.reset(seed=0)
    assert obs.shape == (obs_dim,) and env.observation_space.shape == (obs_dim,)
    assert env.action_space.shape == (1,)
    assert info["state"][2] == pytest.approx(math.radians(4.0))


def test_register_envs_is_idempotent() -> None:
    rnnai.envs.register_envs()
    assert "rnnai/DoublePole-v0" in gym.registry


def test_reset_is_deterministic_under_seed() -> None:
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(40, 1))
    runs = []
    for _ in range(2):
        env = gym.make("rnnai/DoublePole-v0")
        obs, _ = env.reset(seed=123)
        trace = [obs]
        for a in actions:
            obs, _, term, trunc, _ = env.step(a)
            trace.append(obs)
            if term or trunc:
                break
        runs.append(np.array(trace))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_initial_observation_is_scaled_as_in_esp() -> None:
    env = PoleBalancingEnv(initial_angle_deg=1.0)
    obs, _ = env.reset()
    np.testing.assert_allclose(obs, [0, 0, 1.0 / 36.0, 0, 0, 0], atol=1e-15)
    single = PoleBalancingEnv(n_poles=1, failure_angle_deg=12.0, markov=False)
    obs, _ = single.reset(options={"state": [1.2, 0.5, math.radians(6.0), 0.1]})
    np.testing.assert_allclose(obs, [0.5, 0.5], rtol=1e-12)


def test_upright_start_at_rest_is_an_equilibrium_and_truncates_at_max_steps() -> None:
    env = PoleBalancingEnv(max_steps=5)
    env.reset(options={"state": np.zeros(6)})
    rewards = []
    for _ in range(5):
        obs, reward, term, trunc, info = env.step(np.array([0.0]))
        rewards.append(reward)
    assert not term and trunc and info["steps"] == 5 and rewards == [1.0] * 5
    np.testing.assert_array_equal(obs, np.zeros(6))


def test_leaving_the_track_terminates_with_zero_reward() -> None:
    env = PoleBalancingEnv()
    env.reset(options={"state": [2.39, 1.0, 0.0, 0.0, 0.0, 0.0]})
    _, reward, term, trunc, info = env.step(np.array([1.0]))
    assert term and not trunc and reward == 0.0 and info["steps"] == 0
    with pytest.raises(RnnaiError, match="reset"):
        env.step(np.array([0.0]))


@pytest.mark.parametrize(("n_poles", "limit"), [(1, 12.0), (2, 36.0)])
def test_failure_angle_is_12_degrees_single_and_36_double(n_poles, limit) -> None:
    env = gym.make("rnnai/CartPoleWieland-v0" if n_poles == 1 else "rnnai/DoublePole-v0")
    # a pole falling outwards from just inside the limit crosses it within a few steps
    _, info = env.reset(options={"state": [0, 0, math.radians(limit - 0.3), 0.1, 0, 0]})
    for _ in range(50):
        previous = info["state"]
        _, _, term, _, info = env.step(np.array([0.0]))
        if term:
            break
    lean = np.degrees(np.abs(info["state"][[2, 4]]))
    before = np.degrees(np.abs(previous[[2, 4]]))
    assert term and lean[:n_poles].max() > limit and before[:n_poles].max() <= limit
    assert abs(info["state"][0]) < 2.4


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.array([np.nan]), "finite"),
        (np.array([np.inf]), "finite"),
        (np.array([1.5]), r"\[-1, 1\]"),
        (-1.0001, r"\[-1, 1\]"),
        (np.array([0.1, 0.2]), r"shape \(1,\)"),
        (np.zeros((1, 1)), r"shape \(1,\)"),
        ("left", "number"),
    ],
)
def test_bad_actions_raise_a_clear_error(action, message) -> None:
    env = PoleBalancingEnv()
    env.reset(seed=0)
    with pytest.raises(RnnaiError, match=message):
        env.step(action)


def test_scalar_and_float32_actions_are_accepted() -> None:
    env = PoleBalancingEnv()
    env.reset()
    env.step(0.5)
    env.step(np.float32(-1.0))
    env.step(np.array([1.0], dtype=np.float32))


def test_stepping_before_reset_raises() -> None:
    with pytest.raises(RnnaiError, match="reset"):
        PoleBalancingEnv().step(np.array([0.0]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_poles": 3}, "n_poles"),
        ({"tau": 0.0}, "tau"),
        ({"max_steps": 0}, "max_steps"),
        ({"initial_angle_deg": 40.0}, "failure angle"),
        ({"mu_c": -1.0}, "mu_c"),
        ({"poles": 2}, "unknown PoleConfig field"),
        ({"render_mode": "ansi"}, "render_mode"),
    ],
)
def test_bad_configuration_raises(kwargs, message) -> None:
    with pytest.raises(RnnaiError, match=message):
        PoleBalancingEnv(**kwargs)


def test_bad_reset_state_raises() -> None:
    env = PoleBalancingEnv()
    with pytest.raises(RnnaiError, match="6 values"):
        env.reset(options={"state": [0.0, 0.0, 0.1, 0.0]})
    with pytest.raises(RnnaiError, match="finite"):
        env.reset(options={"state": [np.nan] * 6})


def test_config_overrides_keep_the_base_config() -> None:
    base = PoleConfig(n_poles=1, failure_angle_deg=12.0)
    env = PoleBalancingEnv(base, markov=False)
    assert env.config.n_poles == 1 and env.config.failure_angle_deg == 12.0
    assert not env.config.markov
