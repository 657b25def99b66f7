"""The pure scalar functions the environments and their numba twins share, on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnai.envs import octopus, pole, pole3d, tmaze
from rnnai.runtime.errors import RnnaiError


def test_pole_failure_checks_the_track_and_only_the_poles_present() -> None:
    limit, angle = 2.4, math.radians(12.0)
    assert not pole.is_failure(2.39, 0.2, 0.0, 1, limit, angle)
    assert pole.is_failure(-2.41, 0.0, 0.0, 1, limit, angle)
    assert pole.is_failure(0.0, -0.22, 0.0, 1, limit, angle)
    assert not pole.is_failure(0.0, 0.0, 1.0, 1, limit, angle)  # no second pole: ignored
    assert pole.is_failure(0.0, 0.0, 1.0, 2, limit, angle)


def test_pole_check_action_accepts_numbers_and_refuses_the_rest() -> None:
    assert pole.check_action(np.float32(0.25)) == 0.25
    assert pole.check_action(np.array([-1.0])) == -1.0
    for bad, message in ((np.array([2.0]), r"\[-1, 1\]"), ([0.1, 0.2], "shape"), (None, "finite")):
        with pytest.raises(RnnaiError, match=message):
            pole.check_action(bad)


def test_rk4_step_at_rest_upright_stays_put_and_a_force_accelerates_the_cart() -> None:
    p = pole.physics_params(pole.DOUBLE_POLE)
    np.testing.assert_array_equal(pole.rk4_step(np.zeros(6), 0.0, 0.01, 2, p), np.zeros(6))
    pushed = pole.rk4_step(np.zeros(6), 10.0, 0.01, 2, p)
    assert pushed[1] > 0 and pushed[3] < 0  # the cart moves +x, the poles lean back


def test_pole3d_failure_and_action_checks() -> None:
    s = pole3d.initial_state3d(pole3d.SINGLE_POLE_3D)
    cos12 = math.cos(math.radians(12.0))
    assert not pole3d.is_failure3d(s, 1, 2.4, cos12)
    s[1] = -2.5
    assert pole3d.is_failure3d(s, 1, 2.4, cos12)
    assert pole3d.check_action3d([0.5, -1.0]) == (0.5, -1.0)
    with pytest.raises(RnnaiError, match=r"\[-1, 1\]"):
        pole3d.check_action3d([0.5, 1.5])
    with pytest.raises(RnnaiError, match="shape"):
        pole3d.check_action3d([0.5])


def test_pole3d_rk4_in_the_x_z_plane_equals_the_planar_step() -> None:
    c2, c3 = pole.SINGLE_POLE, pole3d.SINGLE_POLE_3D
    theta = 0.05
    planar = np.array([0.1, 0.2, theta, 0.3, 0.0, 0.0])
    s = np.zeros(pole3d.STATE_SIZE)
    s[0], s[2] = 0.1, 0.2
    s[4:7] = (math.sin(theta), 0.0, math.cos(theta))
    s[7:10] = (0.3 * math.cos(theta), 0.0, -0.3 * math.sin(theta))
    s[10:13] = (0.0, 0.0, 1.0)
    out2 = pole.rk4_step(planar, 3.0, 0.01, 1, pole.physics_params(c2))
    out3 = pole3d.rk4_step3d(s, 3.0, 0.0, 0.01, 1, pole3d.physics_params3d(c3))
    assert out3[0] == pytest.approx(out2[0], abs=1e-12)
    assert math.atan2(out3[4], out3[6]) == pytest.approx(out2[2], abs=1e-9)
    obs = np.zeros(4)
    pole3d.observe3d_into(s, 1, False, 2.4, math.radians(12.0), obs)
    assert obs[2] == pytest.approx(theta / math.radians(12.0)) and obs[3] == 0.0


@pytest.mark.parametrize(
    ("position", "goal", "action", "expected"),
    [
        (0, 0, tmaze.WEST, (0, -0.1, 0)),  # the wall at S
        (0, 0, tmaze.EAST, (1, 0.0, 0)),
        (2, 0, tmaze.NORTH, (2, -0.1, 0)),  # a corridor wall
        (3, 0, tmaze.NORTH, (3, 4.0, 1)),  # the goal arm
        (3, 0, tmaze.SOUTH, (3, -0.1, -1)),  # the wrong arm
        (3, 1, tmaze.EAST, (3, -0.1, 0)),  # the junction's east wall
    ],
)
def test_tmaze_transition_on_every_kind_of_move(position, goal, action, expected) -> None:
    assert tmaze.transition(position, goal, action, 3, 4.0, -0.1, -0.1, 0.0) == expected


def test_tmaze_observation_index_and_action_check() -> None:
    assert [tmaze.observation_index(x, 1, 3) for x in range(4)] == [1, 2, 2, 3]
    assert tmaze.observation_index(0, 0, 3) == 0
    assert tmaze.check_tmaze_action(np.int64(2)) == 2
    with pytest.raises(RnnaiError, match="int"):
        tmaze.check_tmaze_action(1.0)
    with pytest.raises(RnnaiError, match="in"):
        tmaze.check_tmaze_action(4)


def test_octopus_gap_and_action_check() -> None:
    pos = np.zeros((4, 2))
    pos[2:] = [[3.0, 4.0], [6.0, 8.0]]  # free nodes at distances 5 and 10 from the origin
    assert octopus.closest_gap(pos, 0.0, 0.0, 1.0) == pytest.approx(4.0)
    assert octopus.closest_gap(pos, 3.0, 4.5, 1.0) == pytest.approx(-0.5)
    np.testing.assert_array_equal(octopus.check_action([0.0, 1.0], 2), [0.0, 1.0])
    with pytest.raises(RnnaiError, match="outside"):
        octopus.check_action([0.0, 1.1], 2)
