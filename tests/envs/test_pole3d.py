"""The 3D cart-pole: reduction to Wieland's planar equations, conservation, the gym contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rnnai.envs import pole, pole3d
from rnnai.envs.pole3d import DOUBLE_POLE_3D, SINGLE_POLE_3D, Pole3DEnv
from rnnai.runtime.errors import RnnaiError


def _planar_state(x: float, xd: float, poles: list[tuple[float, float]]) -> np.ndarray:
    s = np.zeros(pole3d.STATE_SIZE)
    s[0], s[2] = x, xd
    s[10:13] = (0.0, 0.0, 1.0)
    for i, (th, dth) in enumerate(poles):
        o = 4 + 6 * i
        s[o : o + 3] = (math.sin(th), 0.0, math.cos(th))
        s[o + 3 : o + 6] = (dth * math.cos(th), 0.0, -dth * math.sin(th))
    return s


def test_derivatives_reduce_to_wieland_planar_equations_in_the_xz_plane() -> None:
    rng = np.random.default_rng(1)
    p2 = pole.physics_params(pole.DOUBLE_POLE)
    p3 = pole3d.physics_params3d(DOUBLE_POLE_3D)
    for _ in range(100):
        x, xd, t1, t1d, t2, t2d = rng.normal(size=6) * [1, 1, 0.5, 1, 0.5, 1]
        force = rng.uniform(-10, 10)
        d2 = pole.derivatives(xd, t1, t1d, t2, t2d, force, 2, *p2)
        d3 = pole3d.derivatives3d(_planar_state(x, xd, [(t1, t1d), (t2, t2d)]), force, 0.0, 2, p3)
        assert d3[2] == pytest.approx(d2[1], abs=1e-12)
        assert d3[3] == 0.0
        for i, (th, dth, ddth) in enumerate([(t1, t1d, d2[3]), (t2, t2d, d2[5])]):
            o = 4 + 6 * i
            # u'' = theta'' (cos, 0, -sin) - theta'^2 u
            assert d3[o + 3] == pytest.approx(
                ddth * math.cos(th) - dth**2 * math.sin(th), abs=1e-12
            )
            assert d3[o + 4] == pytest.approx(0.0, abs=1e-15)
            assert d3[o + 5] == pytest.approx(
                -ddth * math.sin(th) - dth**2 * math.cos(th), abs=1e-12
            )


def test_planar_trajectory_follows_the_planar_environment() -> None:
    c3 = DOUBLE_POLE_3D.with_overrides(initial_azimuth_deg=0.0)
    s2 = pole.initial_state(pole.DOUBLE_POLE)
    s3 = pole3d.initial_state3d(c3)
    for t in range(200):
        a = 0.3 * math.sin(t / 7)
        s2 = pole.advance(s2, a, pole.DOUBLE_POLE)
        s3 = pole3d.advance3d(s3, (a, 0.0), c3)
        if max(abs(s2[2]), abs(s2[4])) > math.radians(36):  # past failure: chaos amplifies
            assert t > 5
            break
        # Same equations, different coordinates: RK4's truncation errors differ at O(tau^5)
        # and the falling system amplifies them (about 1e-7 by the failure angle).
        assert s3[0] == pytest.approx(s2[0], abs=1e-5)
        assert math.atan2(s3[4], s3[6]) == pytest.approx(s2[2], abs=1e-5)
        assert math.atan2(s3[10], s3[12]) == pytest.approx(s2[4], abs=1e-5)
        assert s3[1] == 0.0


def test_energy_is_conserved_without_force_and_friction() -> None:
    c = DOUBLE_POLE_3D.with_overrides(mu_c=0.0, mu_p=0.0, initial_tilt_deg=20.0)
    s = pole3d.initial_state3d(c)
    s[2], s[3], s[11] = 0.3, -0.2, 0.5  # cart moving, short pole swinging out of plane
    pole3d.renormalize3d(s, 2)
    e0 = pole3d.energy3d(s, c)
    for _ in range(200):
        s = pole3d.advance3d(s, (0.0, 0.0), c)
    assert abs(pole3d.energy3d(s, c) - e0) < 1e-5 * abs(e0)


def test_horizontal_momentum_is_conserved_without_force_and_friction() -> None:
    c = DOUBLE_POLE_3D.with_overrides(mu_c=0.0, mu_p=0.0, initial_tilt_deg=10.0)
    p = pole3d.physics_params3d(c)

    def momentum(s: np.ndarray) -> np.ndarray:
        total = p[1] * s[2:4].copy()
        for i in range(2):
            m, el, o = p[2 + 2 * i], p[3 + 2 * i], 4 + 6 * i
            total += m * (s[2:4] + el * s[o + 3 : o + 5])
        return total

    s = pole3d.initial_state3d(c)
    s[11] = 0.4
    pole3d.renormalize3d(s, 2)
    m0 = momentum(s)
    for _ in range(200):
        s = pole3d.advance3d(s, (0.0, 0.0), c)
    # RK4 and the projection back onto |u| = 1 conserve it up to their truncation error.
    np.testing.assert_allclose(momentum(s), m0, atol=2e-6)


def test_unit_vectors_stay_on_the_constraint() -> None:
    env = Pole3DEnv()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        _, _, term, _, info = env.step(rng.uniform(-0.2, 0.2, size=2))
        s = info["state"]
        for o in (4, 10):
            assert np.linalg.norm(s[o : o + 3]) == pytest.approx(1.0, abs=1e-14)
            assert abs(s[o : o + 3] @ s[o + 3 : o + 6]) < 1e-14
        if term:
            break


def test_env_passes_gymnasium_check_env() -> None:
    check_env(Pole3DEnv(), skip_render_check=True)
    check_env(Pole3DEnv(SINGLE_POLE_3D, markov=False), skip_render_check=True)


def test_uncontrolled_pole_falls_towards_its_initial_azimuth() -> None:
    env = Pole3DEnv(SINGLE_POLE_3D)
    env.reset()
    steps = 0
    while True:
        _, reward, term, trunc, info = env.step(np.zeros(2))
        steps += int(reward)
        if term or trunc:
            break
    u = info["state"][4:7]
    assert term and 10 < steps < 200
    assert math.degrees(math.atan2(u[1], u[0])) == pytest.approx(45.0, abs=1e-6)


def test_observation_layout_and_scaling() -> None:
    env = Pole3DEnv(DOUBLE_POLE_3D)
    obs, _ = env.reset()
    assert obs.shape == (12,)
    tilt = math.radians(4.0)
    theta_x = math.atan2(math.sin(tilt) * math.cos(math.pi / 4), math.cos(tilt))
    assert obs[4] == pytest.approx(theta_x / math.radians(36.0))
    assert obs[5] == pytest.approx(obs[4])
    obs_nm, _ = Pole3DEnv(DOUBLE_POLE_3D, markov=False).reset()
    assert obs_nm.shape == (6,)


def test_same_actions_give_identical_trajectories() -> None:
    def run() -> np.ndarray:
        env = Pole3DEnv()
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        for _ in range(30):
            _, _, term, _, _ = env.step(rng.uniform(-0.1, 0.1, size=2))
            if term:
                break
        return env.state

    np.testing.assert_array_equal(run(), run())


@pytest.mark.parametrize("action", [[0.5], [0.1, 2.0], [float("nan"), 0.0], "left", [[0.1, 0.1]]])
def test_bad_actions_are_rejected_with_a_clear_error(action: object) -> None:
    env = Pole3DEnv()
    env.reset()
    with pytest.raises(RnnaiError, match="action"):
        env.step(action)


def test_bad_config_and_state_are_rejected() -> None:
    with pytest.raises(RnnaiError, match="n_poles"):
        pole3d.Pole3DConfig(n_poles=3)
    with pytest.raises(RnnaiError, match="initial_tilt_deg"):
        pole3d.Pole3DConfig(initial_tilt_deg=40.0)
    with pytest.raises(RnnaiError, match="unknown"):
        Pole3DEnv(wobble=1)
    env = Pole3DEnv()
    with pytest.raises(RnnaiError, match="16"):
        env.reset(options={"state": np.zeros(6)})
    with pytest.raises(RnnaiError, match="call reset"):
        env.step(np.zeros(2))


def _batch_args(config: pole3d.Pole3DConfig) -> tuple:
    return (
        config.n_poles,
        pole3d.physics_params3d(config),
        config.force_mag,
        config.tau,
        config.substeps,
        config.arena_limit,
        math.cos(config.failure_angle),
    )


@pytest.mark.parametrize("config", [SINGLE_POLE_3D, DOUBLE_POLE_3D])
def test_batch_kernel_twin_and_env_agree_step_by_step(config: pole3d.Pole3DConfig) -> None:
    from rnnai.envs import _kernels

    rng = np.random.default_rng(7)
    p = 5
    start = np.repeat(pole3d.initial_state3d(config)[None], p, axis=0)
    start[:, 2:4] = rng.normal(scale=0.1, size=(p, 2))
    for row in start:
        pole3d.renormalize3d(row, 2)  # as Pole3DEnv.reset does with a given state
    k_state, t_state = start.copy(), start.copy()
    k_alive, t_alive = np.ones(p, dtype=bool), np.ones(p, dtype=bool)
    k_steps, t_steps = np.zeros(p, dtype=np.int64), np.zeros(p, dtype=np.int64)
    envs = [Pole3DEnv(config) for _ in range(p)]
    for i, env in enumerate(envs):
        env.reset(options={"state": start[i]})
    env_alive = np.ones(p, dtype=bool)
    args = _batch_args(config)
    for _ in range(80):
        action = rng.uniform(-0.3, 0.3, size=(p, 2))
        _kernels.step_batch3d(k_state, action, k_alive, k_steps, *args)
        _kernels.step_batch3d_py(t_state, action, t_alive, t_steps, *args)
        for i, env in enumerate(envs):
            if env_alive[i]:
                _, _, term, _, info = env.step(action[i])
                np.testing.assert_array_equal(info["state"], k_state[i])
                env_alive[i] = not term
        np.testing.assert_array_equal(k_state, t_state)
        np.testing.assert_array_equal(k_alive, t_alive)
        np.testing.assert_array_equal(k_alive, env_alive)
        np.testing.assert_array_equal(k_steps, t_steps)
    assert not k_alive.all()  # random pushes topple some poles: the failure path is exercised


def test_registered_ids_make_the_3d_envs() -> None:
    import gymnasium as gym

    import rnnai.envs  # noqa: F401  (registers the ids)

    env = gym.make("rnnai/DoublePole3DNonMarkov-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (6,)
    assert gym.make("rnnai/Pole3D-v0").unwrapped.config.n_poles == 1


@pytest.mark.parametrize("markov", [True, False])
def test_batched_observation_kernel_equals_its_twin_and_observe3d(markov: bool) -> None:
    from rnnai.envs import _kernels

    c = DOUBLE_POLE_3D.with_overrides(markov=markov)
    rng = np.random.default_rng(4)
    state = np.tile(pole3d.initial_state3d(c), (5, 1))
    state[:, :4] = rng.uniform(-1, 1, (5, 4))
    state[:, 4:7] += rng.uniform(-0.2, 0.2, (5, 3))
    state[:, 7:10] = rng.uniform(-1, 1, (5, 3))
    for row in state:
        pole3d.renormalize3d(row, 2)
    out, out_py = np.zeros((5, c.obs_dim)), np.zeros((5, c.obs_dim))
    args = (c.n_poles, c.markov, c.arena_limit, c.failure_angle)
    _kernels.observe_batch3d(state, *args, out)
    _kernels.observe_batch3d_py(state, *args, out_py)
    np.testing.assert_array_equal(out, out_py)
    for i in range(5):
        np.testing.assert_allclose(out[i], pole3d.observe3d(state[i], c), rtol=0, atol=1e-15)
