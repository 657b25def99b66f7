"""The keys world: the PettingZoo API test, its rules on scripted scenes, and the numba twin held
to the environment step for step."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod import _kernels as K
from rnnai.selfmod import keys_world as kw
from rnnai.selfmod.keys_world import AGENTS, KeysWorldConfig, KeysWorldEnv


def test_the_env_passes_the_pettingzoo_parallel_api_test() -> None:
    parallel_api_test(KeysWorldEnv(), num_cycles=300)
    parallel_api_test(KeysWorldEnv(KeysWorldConfig(max_steps=20)), num_cycles=100)


def test_reset_places_agents_near_the_north_west_corner_reproducibly() -> None:
    env = KeysWorldEnv()
    env.reset(seed=3)
    s1 = env.state()
    env.reset(seed=3)
    np.testing.assert_array_equal(s1, env.state())
    for seed in range(20):
        env.reset(seed=seed)
        pos = env.state_arrays["pos"]
        assert np.all((pos >= kw.START_LO) & (pos <= kw.START_HI))
        assert not env.state_arrays["has_key"].any() and not env.state_arrays["door_open"].any()


def test_walls_and_closed_doors_block_and_open_doors_do_not() -> None:
    door_a = (500.0, 200.0)  # the centre of door A
    assert kw.blocked(*door_a, kw.RADIUS, 0, 0)
    assert not kw.blocked(*door_a, kw.RADIUS, 1, 0)
    assert kw.blocked(400.0, 100.0, kw.RADIUS, 1, 1)  # room A's west wall
    assert kw.blocked(590.0, 250.0, kw.RADIUS, 0, 0)  # the east border
    assert not kw.blocked(300.0, 150.0, kw.RADIUS, 0, 0)


def _env_at(pos: list[list[float]], heading: list[int], has_key=(0, 0), door_open=(0, 0)):
    env = KeysWorldEnv()
    env.reset(seed=0)
    s = env.state_arrays
    s["pos"][:] = pos
    s["heading"][:] = heading
    s["has_key"][:] = has_key
    s["door_open"][:] = door_open
    return env


def test_agent_a_takes_its_key_and_opens_its_door() -> None:
    env = _env_at([[550.0, 430.0], [60.0, 60.0]], [2, 0])  # A just north of key A, facing south
    obs, rew, *_ = env.step({"agent_a": 0, "agent_b": 8})
    assert env.state_arrays["has_key"].tolist() == [1, 0] and obs["agent_a"][4] == 1.0
    assert rew == {"agent_a": -0.0001, "agent_b": 0.0}
    env = _env_at([[500.0, 240.0], [60.0, 60.0]], [6, 0], has_key=(1, 0))  # below door A
    obs, *_ = env.step({"agent_a": 8, "agent_b": 8})
    assert env.state_arrays["door_open"].tolist() == [1, 0]


def test_agent_b_cannot_use_key_a_or_door_a() -> None:
    env = _env_at([[60.0, 60.0], [550.0, 430.0]], [0, 2])
    env.step({"agent_a": 8, "agent_b": 0})
    assert env.state_arrays["has_key"].tolist() == [0, 0]


def test_the_goal_pays_5_to_the_finder_and_3_to_the_other_and_ends_the_trial() -> None:
    env = _env_at([[60.0, 60.0], [60.0, 415.0]], [0, 2], door_open=(1, 1))
    obs, rew, terms, truncs, infos = env.step({"agent_a": 8, "agent_b": 0})
    assert rew == {"agent_a": 3.0, "agent_b": 5.0 - 0.0001}
    assert all(terms.values()) and not any(truncs.values()) and env.agents == []
    assert infos["agent_a"]["winner"] == "agent_b"
    with pytest.raises(RnnaiError, match="reset"):
        env.step({"agent_a": 8, "agent_b": 8})


def test_sight_shows_the_goal_ahead_only() -> None:
    env = _env_at([[60.0, 400.0], [300.0, 60.0]], [2, 0])
    obs, *_ = env.step({"agent_a": 8, "agent_b": 8})
    assert obs["agent_a"][3] == 1.0 and obs["agent_b"][3] == 0.0


def test_bad_actions_and_configs_are_refused() -> None:
    env = KeysWorldEnv()
    env.reset(seed=0)
    with pytest.raises(RnnaiError, match="action"):
        env.step({"agent_a": 9, "agent_b": 0})
    with pytest.raises(RnnaiError, match="max_steps"):
        KeysWorldEnv(KeysWorldConfig(max_steps=0))


def _compare(env: KeysWorldEnv, actions: np.ndarray) -> int:
    s = {k: v.copy() for k, v in env.state_arrays.items()}
    rewards = np.zeros((len(actions), 2))
    observations = np.zeros((len(actions), 2, kw.N_OBS))
    steps = K.twin_rollout(s["pos"], s["heading"], s["has_key"], s["door_open"], actions,
                           rewards, observations)  # fmt: skip
    for k in range(steps):
        obs, rew, terms, *_ = env.step({a: int(actions[k, i]) for i, a in enumerate(AGENTS)})
        for i, a in enumerate(AGENTS):
            assert rew[a] == rewards[k, i]
            np.testing.assert_array_equal(obs[a], observations[k, i].astype(np.float32))
        assert terms["agent_a"] == bool(rewards[k].max() >= kw.HELPER_REWARD - 1e-3)
    for key in ("pos", "heading", "has_key", "door_open"):
        np.testing.assert_array_equal(s[key], env.state_arrays[key], err_msg=key)
    return steps


@pytest.mark.parametrize("seed", range(4))
def test_the_twin_follows_the_env_step_for_step_on_random_actions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    env = KeysWorldEnv()
    env.reset(seed=seed)
    actions = rng.integers(0, kw.N_ACTIONS, size=(1500, 2))
    actions[rng.random(1500) < 0.5, :] = 0  # many forward moves, so the agents travel
    assert _compare(env, actions) == 1500


def test_the_twin_follows_the_env_through_keys_doors_and_the_goal() -> None:
    rng = np.random.default_rng(11)
    # A below door A holding key A; B east of door B holding key B, facing west
    env = _env_at([[500.0, 240.0], [240.0, 400.0]], [6, 4], has_key=(1, 1))
    actions = np.zeros((200, 2), dtype=np.int64)
    actions[::7, 0] = rng.integers(1, 8, size=len(actions[::7, 0]))
    actions[14, 1] = 7  # after 14 moves west, turn to the south-west and walk to the goal
    steps = _compare(env, actions)
    assert steps < 200 and env.agents == []  # agent B opened door B and reached the goal
    assert env.state_arrays["door_open"].tolist() == [1, 1]
