"""The T-maze: gymnasium conformance, the task's rules, and the numba twin held step by step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnai.envs  # noqa: F401  (registers the ids)
from rnnai.envs import _kernels
from rnnai.envs.tmaze import (
    EAST,
    NORTH,
    OBS_CODES,
    OUTCOME_GOAL,
    OUTCOME_TRUNCATED,
    OUTCOME_WRONG,
    SOUTH,
    WEST,
    TMazeBatch,
    TMazeConfig,
    TMazeEnv,
)
from rnnai.runtime.errors import RnnaiError


def _walk_to_junction(env: gym.Env, n: int) -> None:
    for _ in range(n):
        env.step(EAST)


@pytest.mark.parametrize("n", [1, 10, 70])
def test_check_env_passes(n: int) -> None:
    env = gym.make("rnnai/TMaze-v0", corridor_length=n)
    check_env(env.unwrapped, skip_render_check=True)


def test_registered_id_defaults_to_bakkers_length_ten() -> None:
    env = gym.make("rnnai/TMaze-v0")
    assert env.unwrapped.config.corridor_length == 10
    assert env.action_space.n == 4 and env.observation_space.shape == (3,)


def test_observations_are_the_road_sign_then_corridor_then_junction() -> None:
    env = TMazeEnv(corridor_length=3)
    obs, info = env.reset(seed=0, options={"goal": "north"})
    np.testing.assert_array_equal(obs, [0, 1, 1])
    obs, *_ = env.step(EAST)
    np.testing.assert_array_equal(obs, [1, 0, 1])
    obs, *_ = env.step(EAST)
    np.testing.assert_array_equal(obs, [1, 0, 1])
    obs, *_ = env.step(EAST)
    np.testing.assert_array_equal(obs, [0, 1, 0])
    obs, _ = env.reset(options={"goal": 1})
    np.testing.assert_array_equal(obs, [1, 1, 0])


@pytest.mark.parametrize(("goal", "arm", "reward", "outcome"), [
    (0, NORTH, 4.0, OUTCOME_GOAL),
    (0, SOUTH, -0.1, OUTCOME_WRONG),
    (1, SOUTH, 4.0, OUTCOME_GOAL),
    (1, NORTH, -0.1, OUTCOME_WRONG),
])  # fmt: skip
def test_entering_an_arm_ends_the_episode_with_bakkers_rewards(goal, arm, reward, outcome) -> None:
    env = TMazeEnv(corridor_length=4)
    env.reset(seed=0, options={"goal": goal})
    _walk_to_junction(env, 4)
    _, r, term, trunc, info = env.step(arm)
    assert (r, term, trunc, info["outcome"]) == (reward, True, False, outcome)
    with pytest.raises(RnnaiError, match="episode is over"):
        env.step(EAST)


def test_walls_cost_the_standing_still_penalty_and_moves_cost_nothing() -> None:
    env = TMazeEnv(corridor_length=2)
    env.reset(seed=0)
    assert env.step(WEST)[1] == -0.1 and env.step(NORTH)[1] == -0.1 and env.step(SOUTH)[1] == -0.1
    _, r, _, _, info = env.step(EAST)
    assert r == 0.0 and info["position"] == 1
    env.step(EAST)
    _, r, term, _, info = env.step(EAST)  # east wall at the junction
    assert r == -0.1 and not term and info["position"] == 2
    _, r, _, _, info = env.step(WEST)
    assert r == 0.0 and info["position"] == 1


def test_road_sign_is_shown_again_when_walking_back_to_the_start() -> None:
    env = TMazeEnv(corridor_length=3)
    env.reset(seed=0, options={"goal": "south"})
    env.step(EAST)
    obs, *_ = env.step(WEST)
    np.testing.assert_array_equal(obs, [1, 1, 0])


def test_episode_is_truncated_after_max_steps() -> None:
    env = TMazeEnv(corridor_length=5, max_steps=3)
    env.reset(seed=0)
    flags = [env.step(WEST)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_reset_is_deterministic_under_seed_and_draws_both_goals() -> None:
    goals = []
    for _ in range(2):
        env = TMazeEnv()
        goals.append([env.reset(seed=s)[1]["goal"] for s in range(40)])
    assert goals[0] == goals[1] and set(goals[0]) == {0, 1}


@pytest.mark.parametrize("action", [4, -1, 1.0, True, "east", np.array([1])])
def test_bad_actions_raise_a_clear_error(action) -> None:
    env = TMazeEnv()
    env.reset(seed=0)
    with pytest.raises(RnnaiError, match="action"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"corridor_length": 0}, "corridor_length"),
        ({"corridor_length": 2.5}, "corridor_length"),
        ({"max_steps": 0}, "max_steps"),
        ({"goal_reward": float("nan")}, "goal_reward"),
        ({"lenght": 3}, "unknown TMazeConfig field"),
        ({"render_mode": "rgb"}, "render_mode"),
    ],
)
def test_bad_config_is_refused_with_the_field_named(kwargs, match) -> None:
    with pytest.raises(RnnaiError, match=match):
        TMazeEnv(**kwargs)


def test_bad_goal_option_is_refused() -> None:
    with pytest.raises(RnnaiError, match="goal"):
        TMazeEnv().reset(options={"goal": "east"})


def test_ansi_render_marks_agent_and_goal() -> None:
    env = TMazeEnv(corridor_length=3, render_mode="ansi")
    env.reset(seed=0, options={"goal": 1})
    assert env.render() == "   #\nA...\n   G\n"


# ------------------------------------------------------------------------ the numba twin


def _kernel_args(c: TMazeConfig) -> tuple:
    return (
        c.corridor_length,
        c.goal_reward,
        c.wrong_reward,
        c.still_penalty,
        c.step_reward,
        c.max_steps,
    )


@pytest.mark.parametrize("n", [1, 4, 12])
def test_numba_kernel_python_twin_and_env_agree_step_by_step(n: int) -> None:
    """P mazes on the kernel, P on the Python twin and P gym envs, on random action sequences."""
    c = TMazeConfig(corridor_length=n, max_steps=3 * n + 4)  # short: truncations happen too
    P = 6
    rng = np.random.default_rng(n)
    envs = [TMazeEnv(c) for _ in range(P)]
    k = {name: np.zeros(P, dtype=np.int64) for name in ("pos", "goal", "steps", "out")}
    t = {name: np.zeros(P, dtype=np.int64) for name in ("pos", "goal", "steps", "out")}
    k_alive, t_alive = np.zeros(P, dtype=np.bool_), np.zeros(P, dtype=np.bool_)
    k_rew, t_rew = np.zeros(P), np.zeros(P)
    k_obs, t_obs = np.zeros((P, 3)), np.zeros((P, 3))
    episodes, endings = 0, set()
    for _ in range(400):
        for i, env in enumerate(envs):
            if not k_alive[i]:
                _, info = env.reset(seed=episodes)
                episodes += 1
                for d in (k, t):
                    d["pos"][i], d["goal"][i], d["steps"][i], d["out"][i] = 0, info["goal"], 0, 0
                k_alive[i] = t_alive[i] = True
        # biased towards east so that junctions and arms are reached often
        actions = rng.choice(4, size=P, p=[0.15, 0.55, 0.15, 0.15]).astype(np.int64)
        alive_before = k_alive.copy()
        nk = _kernels.tmaze_step_batch(
            k["pos"], k["goal"], actions, k_alive, k["steps"], k_rew, k["out"], *_kernel_args(c)
        )
        nt = _kernels.tmaze_step_batch_py(
            t["pos"], t["goal"], actions, t_alive, t["steps"], t_rew, t["out"], *_kernel_args(c)
        )
        _kernels.tmaze_observe_batch(k["pos"], k["goal"], n, OBS_CODES, k_obs)
        _kernels.tmaze_observe_batch_py(t["pos"], t["goal"], n, OBS_CODES, t_obs)
        assert nk == nt == int(k_alive.sum())
        for name in k:
            np.testing.assert_array_equal(k[name], t[name])
        np.testing.assert_array_equal(k_alive, t_alive)
        np.testing.assert_array_equal(k_rew, t_rew)
        np.testing.assert_array_equal(k_obs, t_obs)
        for i, env in enumerate(envs):
            if not alive_before[i]:
                continue
            obs, r, term, trunc, info = env.step(actions[i])
            np.testing.assert_array_equal(obs, k_obs[i])
            assert r == k_rew[i] and info["position"] == k["pos"][i]
            assert (term or trunc) == (not k_alive[i]) and info["steps"] == k["steps"][i]
            if term or trunc:
                assert info["outcome"] == k["out"][i]
                endings.add(int(info["outcome"]))
    assert endings == {OUTCOME_GOAL, OUTCOME_WRONG, OUTCOME_TRUNCATED}  # every ending was covered


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 6),
    pos=st.integers(0, 6),
    goal=st.integers(0, 1),
    action=st.integers(0, 3),
)
def test_one_step_kernel_equals_python_twin_anywhere(n, pos, goal, action) -> None:
    pos = min(pos, n)
    c = TMazeConfig(corridor_length=n, max_steps=5)
    arrays = [
        [np.array([pos]), np.array([goal]), np.array([action]), np.ones(1, np.bool_)]
        + [np.zeros(1, np.int64), np.zeros(1), np.zeros(1, np.int64)]
        for _ in range(2)
    ]
    a, b = arrays
    _kernels.tmaze_step_batch(*a, *_kernel_args(c))
    _kernels.tmaze_step_batch_py(*b, *_kernel_args(c))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_finished_mazes_stay_frozen_with_zero_reward() -> None:
    batch = TMazeBatch(TMazeConfig(corridor_length=1), 2)
    batch.reset(goals=np.array([0, 1]))
    batch.step(np.array([EAST, EAST]))
    _, r, term, trunc = batch.step(np.array([NORTH, WEST]))
    assert list(r) == [4.0, 0.0] and list(term) == [True, False] and not trunc.any()
    _, r, term, _ = batch.step(np.array([SOUTH, EAST]))
    assert list(r) == [0.0, 0.0] and list(batch.position) == [1, 1] and not term.any()
    assert list(batch.outcome) == [OUTCOME_GOAL, 0] and list(batch.alive) == [False, True]


def test_batch_refuses_bad_actions_naming_the_maze() -> None:
    batch = TMazeBatch(TMazeConfig(), 3)
    batch.reset(goals=np.array([0, 1, 0]))
    with pytest.raises(RnnaiError, match="action 7 of maze 2"):
        batch.step(np.array([1, 1, 7]))
    with pytest.raises(RnnaiError, match="integers"):
        batch.step(np.array([1.0, 1.0, 1.0]))
    with pytest.raises(RnnaiError, match=r"\(3,\)"):
        batch.step(np.array([1, 1]))
    with pytest.raises(RnnaiError, match="goals"):
        batch.reset(goals=np.array([0, 2, 1]))


def test_first_bad_action_kernel_matches_twin_and_skips_finished_mazes() -> None:
    alive = np.array([True, False, True, True])
    for fn in (_kernels.tmaze_first_bad_action, _kernels.tmaze_first_bad_action_py):
        assert fn(np.array([0, 9, 3, 1]), alive) == -1
        assert fn(np.array([0, 9, -1, 1]), alive) == 2
        assert fn(np.array([0, 0, 0, 4]), alive) == 3
