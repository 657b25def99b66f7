"""render_mode="rgb_array" frames and the "human" window of the pole, octopus and T-maze envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rnnai.envs  # noqa: F401  (registers the ids)
from rnnai.envs.pole import SINGLE_POLE, draw_frame
from rnnai.envs.pole3d import DOUBLE_POLE_3D, draw_frame3d, initial_state3d
from rnnai.envs.tmaze import draw_maze

ACTIONS = {
    "rnnai/CartPoleWieland-v0": np.array([1.0]),
    "rnnai/DoublePole-v0": np.array([1.0]),
    "rnnai/Pole3D-v0": np.array([1.0, -1.0]),
    "rnnai/DoublePole3D-v0": np.array([1.0, 1.0]),
    "rnnai/OctopusArm-v0": np.ones(32),
    "rnnai/TMaze-v0": 1,  # east
}


def _is_frame(frame: object) -> bool:
    return (
        isinstance(frame, np.ndarray)
        and frame.dtype == np.uint8
        and frame.ndim == 3
        and frame.shape[2] == 3
        and min(frame.shape[:2]) > 0
    )


@pytest.mark.parametrize("env_id", sorted(ACTIONS))
def test_rgb_array_frames_change_as_the_state_changes(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert _is_frame(first)
    for _ in range(4):
        env.step(ACTIONS[env_id])
    later = env.render()
    assert _is_frame(later) and later.shape == first.shape
    assert np.count_nonzero(np.any(first != later, axis=2)) > 10  # more than a few pixels
    env.reset(seed=0)
    np.testing.assert_array_equal(env.render(), first)  # the same state, the same picture
    env.close()


def test_pole_frame_shows_the_cart_position_and_the_pole_angle() -> None:
    upright = draw_frame(np.zeros(6), SINGLE_POLE)
    moved = draw_frame(np.array([1.0, 0, 0, 0, 0, 0]), SINGLE_POLE)
    leaning = draw_frame(np.array([0.0, 0, 0.2, 0, 0, 0]), SINGLE_POLE)
    assert upright.shape == (400, 600, 3)
    assert not np.array_equal(upright, moved) and not np.array_equal(upright, leaning)
    # leaning towards +x moves pole pixels to the right half of the picture's upper part
    pole = np.array([202, 152, 101])

    def pole_columns(frame: np.ndarray) -> np.ndarray:
        return np.nonzero(np.all(frame[:250] == pole, axis=2))[1]

    assert pole_columns(leaning).mean() > pole_columns(upright).mean() + 5


def test_pole3d_frame_shows_the_tilt_in_both_side_views() -> None:
    s = initial_state3d(DOUBLE_POLE_3D)
    tilted = s.copy()
    tilted[4:7] = (np.sin(0.3), 0.0, np.cos(0.3))  # pole 1 tilted towards +x only
    a, b = draw_frame3d(s, DOUBLE_POLE_3D), draw_frame3d(tilted, DOUBLE_POLE_3D)
    assert a.shape == (400, 800, 3)
    assert not np.array_equal(a[:200, 400:], b[:200, 400:])  # the x-z view changed


def test_maze_picture_marks_the_agent_and_the_goal_arm() -> None:
    north = draw_maze(0, 0, 4, cell=10)
    south = draw_maze(0, 1, 4, cell=10)
    moved = draw_maze(2, 0, 4, cell=10)
    assert north.shape == (30, 50, 3)
    assert not np.array_equal(north, south) and not np.array_equal(north, moved)
    green = np.array([70, 170, 70])
    assert np.all(north[5, 45] == green) and np.all(south[25, 45] == green)


@pytest.mark.parametrize(
    "env_id", ["rnnai/CartPoleWieland-v0", "rnnai/Pole3D-v0", "rnnai/TMaze-v0"]
)
def test_human_mode_opens_a_window_and_closes_it(env_id: str, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # this test only: no real display here
    env = gym.make(env_id, render_mode="human")
    env.reset(seed=0)
    env.step(ACTIONS[env_id])
    assert env.render() is None
    assert env.unwrapped._window is not None and env.unwrapped._window._screen is not None
    env.close()
    assert env.unwrapped._window is None


def test_render_without_a_mode_warns_and_returns_none() -> None:
    env = gym.make("rnnai/DoublePole-v0")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.unwrapped.render() is None
