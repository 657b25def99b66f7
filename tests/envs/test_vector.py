"""gym.make_vec on the numba twins: step for step what N single environments give."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, VectorEnv

from rnnai.envs import (
    ENV_IDS,
    OCTOPUS_ENV_IDS,
    POLE3D_ENV_IDS,
    TMAZE_ENV_IDS,
    OctopusArmVectorEnv,
    Pole3DVectorEnv,
    PoleBalancingVectorEnv,
    TMazeVectorEnv,
)
from rnnai.runtime.errors import RnnaiError

VECTOR_IDS = sorted(ENV_IDS) + sorted(POLE3D_ENV_IDS) + sorted(TMAZE_ENV_IDS)
VECTOR_IDS += sorted(OCTOPUS_ENV_IDS)
ALL_IDS = VECTOR_IDS


def _actions(env_id: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if env_id in TMAZE_ENV_IDS:  # biased towards east: junctions and arms are reached often
        return rng.choice(4, size=n, p=[0.15, 0.55, 0.15, 0.15]).astype(np.int64)
    if env_id in POLE3D_ENV_IDS:
        return rng.uniform(-1.0, 1.0, size=(n, 2))
    if env_id in OCTOPUS_ENV_IDS:  # transverse muscles on: the arm lengthens towards the food
        a = rng.uniform(0.0, 0.3, size=(n, 32))
        a[:, 1:30:3] = 1.0
        return a
    return rng.uniform(-1.0, 1.0, size=(n, 1))


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_make_vec_matches_single_envs_step_for_step(env_id: str) -> None:
    """N single envs (seeds s + i) and make_vec (seed s) on the same actions, autoresets too."""
    # short episodes: truncations happen as well as failures
    n, seed, kwargs = 5, 11, {"max_steps": 40 if env_id == "rnnai/CartPoleWieland-v0" else 10}
    if env_id in TMAZE_ENV_IDS:
        kwargs = {"max_steps": 8, "corridor_length": 3}
    if env_id in OCTOPUS_ENV_IDS:  # a near, jittered food: touches and truncations both happen
        kwargs = {"max_steps": 12, "food_x": 10.6, "food_y": 0.0, "food_jitter": 0.8}
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    singles = [gym.make(env_id, **kwargs) for _ in range(n)]
    obs, _ = vec.reset(seed=seed)
    for i, env in enumerate(singles):
        single_obs, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs[i], single_obs)
    rng = np.random.default_rng(3)
    done = np.zeros(n, dtype=bool)
    ends = {"terminated": 0, "truncated": 0, "autoreset": 0}
    for _ in range(150):
        actions = _actions(env_id, rng, n)
        obs, rewards, terminated, truncated, _ = vec.step(actions)
        assert obs.dtype == np.float32 and rewards.shape == (n,)
        for i, env in enumerate(singles):
            if done[i]:  # NEXT_STEP autoreset: the action is ignored, the episode restarts
                single_obs, _ = env.reset()
                single = (single_obs, 0.0, False, False)
                ends["autoreset"] += 1
            else:
                single_obs, r, term, trunc, _ = env.step(actions[i])
                single = (single_obs, r, term, trunc)
            np.testing.assert_array_equal(obs[i], single[0])
            assert (rewards[i], terminated[i], truncated[i]) == single[1:]
        ends["terminated"] += int(terminated.sum())
        ends["truncated"] += int(truncated.sum())
        done = terminated | truncated
    assert min(ends.values()) > 0, ends  # every path was exercised


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_make_vec_builds_the_twin_with_batched_float32_spaces(env_id: str) -> None:
    vec = gym.make_vec(env_id, num_envs=3)  # the vector entry point is the default
    assert isinstance(
        vec, PoleBalancingVectorEnv | Pole3DVectorEnv | TMazeVectorEnv | OctopusArmVectorEnv
    )
    assert isinstance(vec, VectorEnv) and vec.num_envs == 3
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    single = gym.make(env_id)
    assert vec.single_observation_space == single.observation_space
    assert vec.single_action_space == single.action_space
    assert vec.observation_space.shape == (3, *single.observation_space.shape)
    assert vec.observation_space.dtype == np.float32
    obs, _ = vec.reset(seed=0)
    assert obs in vec.observation_space
    assert vec.action_space.sample().shape[0] == 3


def test_make_vec_passes_config_fields_to_the_twin() -> None:
    vec = gym.make_vec(
        "rnnai/DoublePole-v0", num_envs=2, vectorization_mode="vector_entry_point", markov=False
    )
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (2, 3) and not vec.unwrapped.config.markov


def test_vector_reset_takes_one_state_per_episode() -> None:
    vec = PoleBalancingVectorEnv(2, n_poles=1, failure_angle_deg=12.0)
    states = np.array([[0.0, 0.0, 0.1, 0.0], [1.2, 0.0, 0.0, 0.0]])
    obs, info = vec.reset(options={"state": states})
    np.testing.assert_array_equal(info["state"][:, :4], states)
    assert obs[1, 0] == np.float32(0.5)
    with pytest.raises(RnnaiError, match="rows"):
        vec.reset(options={"state": np.zeros((3, 4))})


def test_tmaze_vector_seeds_each_maze_like_sync_vector_env() -> None:
    vec = TMazeVectorEnv(4)
    _, info = vec.reset(seed=[5, 6, 7, 8])
    _, again = TMazeVectorEnv(4).reset(seed=5)
    np.testing.assert_array_equal(info["goal"], again["goal"])
    _, given = vec.reset(options={"goal": ["north", "south", 0, 1]})
    assert given["goal"].tolist() == [0, 1, 0, 1]
    with pytest.raises(RnnaiError, match="list of 4"):
        vec.reset(seed=[1, 2])


@pytest.mark.parametrize(
    ("make", "bad", "message"),
    [
        (lambda: PoleBalancingVectorEnv(2), np.array([[0.0], [1.5]]), "episode 1"),
        (lambda: PoleBalancingVectorEnv(2), np.array([[np.nan], [0.0]]), "episode 0"),
        (lambda: PoleBalancingVectorEnv(2), np.zeros((3, 1)), r"shape \(2, 1\)"),
        (lambda: Pole3DVectorEnv(2), np.array([[0.0, 0.0], [0.0, -2.0]]), "episode 1"),
        (lambda: Pole3DVectorEnv(2), np.zeros(2), r"shape \(2, 2\)"),
        (lambda: TMazeVectorEnv(2), np.array([1, 4]), "maze 1"),
        (lambda: TMazeVectorEnv(2), np.array([1.0, 1.0]), "integers"),
        (lambda: OctopusArmVectorEnv(2), np.full((2, 32), 0.5) + [[0], [1]], "arm 1"),
        (lambda: OctopusArmVectorEnv(2), np.zeros((2, 31)), r"shape \(2, 32\)"),
    ],
)
def test_vector_envs_refuse_bad_actions_naming_the_episode(make, bad, message) -> None:
    vec = make()
    vec.reset(seed=0)
    with pytest.raises(RnnaiError, match=message):
        vec.step(bad)


@pytest.mark.parametrize(
    "cls", [PoleBalancingVectorEnv, Pole3DVectorEnv, TMazeVectorEnv, OctopusArmVectorEnv]
)
def test_vector_envs_refuse_bad_sizes_render_modes_and_stepping_before_reset(cls) -> None:
    with pytest.raises(RnnaiError, match="num_envs"):
        cls(0)
    with pytest.raises(RnnaiError, match="render_mode"):
        cls(2, render_mode="rgb_array")
    vec = cls(2)
    with pytest.raises(RnnaiError, match="reset"):
        vec.step(vec.action_space.sample())


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_every_env_hands_out_float32_observations_and_passes_check_env(
    env_id: str, monkeypatch
) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # check_env also tries render_mode="human"
    env = gym.make(env_id, render_mode="rgb_array")
    assert env.observation_space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32
    obs, *_ = env.step(env.action_space.sample())
    assert obs.dtype == np.float32
    check_env(env.unwrapped, skip_render_check=False)


def _info_state(info: dict[str, Any]) -> np.ndarray:
    return np.asarray(info["state"])


def test_vector_info_holds_the_float64_raw_states() -> None:
    vec = Pole3DVectorEnv(2)
    _, info = vec.reset(seed=0)
    assert _info_state(info).dtype == np.float64 and _info_state(info).shape == (2, 16)
