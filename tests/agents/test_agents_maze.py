"""rnnai.agents.maze: the four-room noisy-TV maze, the tabular world model and the Q-learner."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rnnai.agents.maze import (
    DOWN,
    LEFT,
    MOVES,
    RIGHT,
    UP,
    NoisyTVMazeEnv,
    QLearner,
    TabularWorldModel,
    maze_layout,
)
from rnnai.runtime.errors import RnnaiError


def _reachable(walls: np.ndarray, start: tuple[int, int]) -> set[tuple[int, int]]:
    seen, todo = {start}, deque([start])
    while todo:
        r, c = todo.popleft()
        for dr, dc in MOVES:
            n = (int(r + dr), int(c + dc))
            if not walls[n] and n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def test_layout_has_four_rooms_joined_by_four_doors_and_a_tv_in_the_start_room() -> None:
    walls, tv = maze_layout(7, 2)
    assert walls.shape == (17, 17) and int((~walls).sum()) == 4 * 49 + 4
    assert walls[0].all() and walls[:, 0].all() and walls[-1].all() and walls[:, -1].all()
    assert int((~walls[8]).sum()) == 2 and int((~walls[:, 8]).sum()) == 2  # the doors
    assert len(_reachable(walls, (1, 1))) == 200  # every free cell reachable from the start
    assert int(tv.sum()) == 4 and not (tv & walls).any() and tv[1:3, 6:8].all()
    for room, size in ((1, 1), (8, 2), (7, 7), (7, 0)):
        with pytest.raises(RnnaiError):
            maze_layout(room, size)


def test_the_env_passes_gymnasiums_checker() -> None:
    check_env(NoisyTVMazeEnv(max_steps=50), skip_render_check=True)


def test_moves_walls_and_observation_layout() -> None:
    env = NoisyTVMazeEnv(screen=4)
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs) and obs.shape == (14,)
    # at (1, 1): walls up-left, up, up-right, left, down-left; free right, down, down-right
    np.testing.assert_array_equal(obs[2:10], [1, 1, 1, 1, 0, 1, 0, 0])
    assert obs[0] == obs[1] == 1 / 16 and not obs[10:].any()
    assert env.step(LEFT)[4]["cell"] == 18  # blocked
    assert env.step(DOWN)[4]["cell"] == 35 and env.step(RIGHT)[4]["cell"] == 36
    with pytest.raises(RnnaiError):
        env.step(4)
    with pytest.raises(RnnaiError):
        NoisyTVMazeEnv(screen=0)


def _to_tv(env: NoisyTVMazeEnv) -> None:
    for _ in range(5):
        env.step(RIGHT)  # (1, 1) -> (1, 6), the TV's left column


def test_the_same_seed_gives_the_same_run_and_only_the_tv_depends_on_it() -> None:
    def trace(seed: int) -> np.ndarray:
        env = NoisyTVMazeEnv(max_steps=100)
        env.reset(seed=seed)
        _to_tv(env)
        return np.array([env.step(a % 4)[0] for a in range(20)])

    a, b, c = trace(3), trace(3), trace(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:, 10:], c[:, 10:])  # the noise depends on the seed
    np.testing.assert_array_equal(a[:, :10], c[:, :10])  # where the agent is does not


def test_the_noisy_tv_is_unpredictable() -> None:
    env = NoisyTVMazeEnv(screen=16)
    env.reset(seed=0)
    _to_tv(env)
    screens = []
    for _ in range(4000):
        obs, _, _, _, info = env.step(UP)  # into the wall: stays on the TV
        assert info["tv"]
        screens.append(obs[10:])
    y = np.array(screens)
    train, test = y[:2000], y[2000:]
    # the best predictor learned from the past (the mean) leaves the full variance 1/12 per value
    err = 0.5 * np.sum((test - train.mean(0)) ** 2, axis=1).mean()
    assert abs(err - 16 / 24) < 0.03
    # no value predicts the next one: lag-1 correlations are all near zero
    lag = [np.corrcoef(y[:-1, j], y[1:, j])[0, 1] for j in range(16)]
    assert max(map(abs, lag)) < 0.1
    # and the tabular model's error on it never falls while its progress averages about zero
    model = TabularWorldModel(n_cells=env.n_cells, n_actions=4, n_out=26, lr=0.5, history=8)
    env.reset(seed=1)
    _to_tv(env)
    steps = [model.observe(23, UP, env.step(UP)[0]) for _ in range(3000)]
    late = steps[1000:]
    assert np.mean([s.error for s in late]) > 16 / 24
    assert abs(np.mean([s.progress for s in late])) < 0.05


def _direct_progress(
    targets: list[np.ndarray], lr: float, history: int
) -> list[tuple[float, float]]:
    """Independent transcription: raw error and progress of each delta-rule step, one (s, a)."""
    pred = np.zeros_like(targets[0])
    out = []
    for t, y in enumerate(targets):
        kept = targets[max(0, t + 1 - history) : t + 1]
        new = pred + lr * (y - pred)
        before = sum(0.5 * float(np.sum((k - pred) ** 2)) for k in kept) / len(kept)
        after = sum(0.5 * float(np.sum((k - new) ** 2)) for k in kept) / len(kept)
        out.append((0.5 * float(np.sum((y - pred) ** 2)), before - after))
        pred = new
    return out


def test_tabular_model_matches_a_direct_transcription() -> None:
    rng = np.random.default_rng(0)
    targets = [rng.standard_normal(3) for _ in range(12)]
    model = TabularWorldModel(n_cells=5, n_actions=2, n_out=3, lr=0.3, history=4)
    got = []
    for y in targets:
        model.observe(4, 0, rng.standard_normal(3))  # another pair: must not interfere
        step = model.observe(2, 1, y)
        got.append((step.error, step.progress))
    np.testing.assert_allclose(got, _direct_progress(targets, 0.3, 4), rtol=0, atol=1e-12)


def test_a_deterministic_transition_is_learned_and_then_boring() -> None:
    model = TabularWorldModel(n_cells=1, n_actions=1, n_out=2, lr=0.5, history=8)
    y = np.array([1.0, 1.0])
    steps = [model.observe(0, 0, y) for _ in range(12)]
    errors = [s.error for s in steps]
    np.testing.assert_allclose(errors, [0.25**k for k in range(12)], rtol=1e-12)  # (1 - lr)^2
    assert steps[0].progress == pytest.approx(0.75)  # 1 - (1 - lr)^2 of the first error
    assert all(s.progress > 0 for s in steps) and steps[-1].progress < 1e-6
    with pytest.raises(RnnaiError):
        TabularWorldModel(n_cells=1, n_actions=1, n_out=1, lr=1.5, history=8)


def test_q_learning_update_and_epsilon_greedy_choice() -> None:
    q = QLearner(n_states=3, n_actions=2, alpha=0.5, gamma=0.9, epsilon=0.0,
                 rng=np.random.default_rng(0))  # fmt: skip
    q.Q[2] = [1.0, 3.0]
    q.update(0, 1, 2.0, 2)
    assert q.Q[0, 1] == pytest.approx(0.5 * (2.0 + 0.9 * 3.0))
    assert all(q.act(0) == 1 for _ in range(20))  # greedy
    assert {q.act(1) for _ in range(50)} == {0, 1}  # ties at random
    q.epsilon = 1.0
    q.Q[0] = [0.0, 100.0]
    assert {q.act(0) for _ in range(50)} == {0, 1}  # fully random
    with pytest.raises(RnnaiError):
        QLearner(n_states=1, n_actions=1, alpha=0.5, gamma=1.0, epsilon=0.1,
                 rng=np.random.default_rng(0))  # fmt: skip
