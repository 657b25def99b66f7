"""The octopus arm: physics sanity, kernel vs Python twin, gymnasium conformance, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rnnai.envs import _octopus_kernels as kernels
from rnnai.envs.octopus import (
    OctopusArmEnv,
    OctopusConfig,
    arm_energy,
    compartment_areas,
    geometry,
    initial_state,
    physics_params,
)
from rnnai.runtime.errors import RnnaiError

N = 10
ZERO = np.zeros(3 * N + 2)


def _run(action: np.ndarray, steps: int, **overrides: object) -> OctopusArmEnv:
    env = OctopusArmEnv(max_steps=10_000, **overrides)
    env.reset(seed=0)
    for _ in range(steps):
        env.step(action)
    return env


def _tip(env: OctopusArmEnv) -> np.ndarray:
    return env.positions[-2:].mean(axis=0)


def test_spaces_have_the_competitions_sizes() -> None:
    env = OctopusArmEnv()
    assert env.observation_space.shape == (82,)
    assert env.action_space.shape == (32,)
    assert float(env.action_space.low.min()) == 0.0 and float(env.action_space.high.max()) == 1.0


def test_passes_gymnasium_check_env() -> None:
    check_env(OctopusArmEnv(), skip_render_check=False)
    check_env(OctopusArmEnv(render_mode="rgb_array"), skip_render_check=False)


def test_neutral_buoyancy_arm_without_activation_stays_put() -> None:
    env = _run(ZERO, 50, water_density=1.0, arm_density=1.0)
    start, _, _ = initial_state(env.config)
    assert np.max(np.abs(env.positions - start)) < 1e-9


def test_heavier_than_water_arm_sinks_slowly() -> None:
    env = _run(ZERO, 50)  # default densities: 1042 vs 1022
    tip = _tip(env)
    assert -1.0 < tip[1] < -0.01
    assert abs(tip[0] - 10.0) < 0.2


def _tip_heading(env: OctopusArmEnv) -> float:
    mid = 0.5 * (env.positions[0::2] + env.positions[1::2])  # (N + 1, 2) centre line
    d = mid[-1] - mid[-2]
    return float(np.arctan2(d[1], d[0]))


def test_dorsal_muscles_bend_the_arm_dorsally_and_ventral_ventrally() -> None:
    dorsal, ventral = ZERO.copy(), ZERO.copy()
    dorsal[0 : 3 * N : 3] = 1.0
    ventral[2 : 3 * N : 3] = 1.0
    up = _run(dorsal, 20, water_density=1.0, arm_density=1.0)
    down = _run(ventral, 20, water_density=1.0, arm_density=1.0)
    # the curl starts at the light, thin tip (water drag resists sweeping the thick base)
    assert _tip_heading(up) > 1.0 and _tip_heading(down) < -1.0
    assert _tip(up)[1] > 0.5 and _tip(down)[1] < -0.5
    assert abs(_tip(up)[1] + _tip(down)[1]) < 1e-6  # mirror images without gravity


def test_transverse_muscles_lengthen_the_arm() -> None:
    trans = ZERO.copy()
    trans[1 : 3 * N : 3] = 1.0
    assert _tip(_run(trans, 40))[0] > 11.0


def test_compartment_areas_stay_close_to_rest_under_full_activation() -> None:
    rng = np.random.default_rng(1)
    env = OctopusArmEnv(max_steps=10_000)
    env.reset(seed=0)
    rest = geometry(env.config).rest_area
    worst = 0.0
    for k in range(150):
        action = np.ones(32) if k < 50 else rng.random(32)
        env.step(action)
        worst = max(worst, float(np.max(np.abs(compartment_areas(env.positions) / rest - 1))))
    assert worst < 0.10


def test_energy_of_a_released_deformation_does_not_grow() -> None:
    config = OctopusConfig(gravity=0.0)
    dorsal = ZERO.copy()
    dorsal[0 : 3 * N : 3] = 1.0
    env = _run(dorsal, 15, gravity=0.0)
    pos, vel = env.positions, env.velocities
    e0 = arm_energy(pos, vel, config)
    energies = []
    for _ in range(60):
        env.step(ZERO)
        energies.append(arm_energy(env.positions, env.velocities, config))
    assert e0 > 1.0
    assert max(energies) <= e0 * 1.001
    assert energies[-1] < 0.5 * e0  # water and muscle damping dissipate it


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_nan_for_random_and_extreme_actions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    env = OctopusArmEnv(max_steps=10_000)
    env.reset(seed=seed)
    for k in range(300):
        kind = k // 50 % 3
        action = rng.random(32) if kind == 0 else (rng.random(32) > 0.5).astype(float)
        if kind == 2:
            action = np.ones(32) if k % 2 else np.zeros(32)
        obs, *_ = env.step(action)
        assert np.all(np.isfinite(obs))
    assert np.all(compartment_areas(env.positions) > 0)


def test_base_rotation_turns_the_base_and_stops_at_the_limit() -> None:
    env = OctopusArmEnv(max_steps=10_000)
    env.reset(seed=0)
    ccw, cw = ZERO.copy(), ZERO.copy()
    ccw[3 * N] = 1.0
    cw[3 * N + 1] = 1.0
    angles = [env.step(ccw)[0][0] for _ in range(100)]
    assert 0 < angles[0] < angles[5]
    assert angles[-1] == pytest.approx(np.radians(45.0))  # theta, at the limit
    assert [env.step(cw)[0][0] for _ in range(20)][-1] < angles[-1]


def test_kernel_matches_python_twin_step_by_step() -> None:
    config = OctopusConfig()
    g = geometry(config)
    p = physics_params(config)
    rng = np.random.default_rng(0)
    a_pos, a_vel, a_base = initial_state(config)
    b_pos, b_vel, b_base = a_pos.copy(), a_vel.copy(), a_base.copy()
    fa, fb = np.zeros_like(a_pos), np.zeros_like(a_pos)
    args = (g.rest_long, g.rest_trans, g.rest_diag, g.rest_area, g.depth, g.mass, p, config.dt)
    for _ in range(6):
        act = rng.random(32)
        kernels.advance(a_pos, a_vel, a_base, act, *args, config.substeps, fa)
        kernels.advance_py(b_pos, b_vel, b_base, act, *args, config.substeps, fb)
        np.testing.assert_allclose(a_pos, b_pos, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a_vel, b_vel, rtol=0, atol=1e-11)
        np.testing.assert_allclose(a_base, b_base, rtol=0, atol=1e-12)


def test_rollout_kernel_matches_python_twin() -> None:
    config = OctopusConfig()
    g = geometry(config)
    pos, vel, base = initial_state(config)
    H, L = 32, 82 + 1 + 32
    W = np.random.default_rng(3).uniform(-0.5, 0.5, (2, H, L))
    out = [(np.zeros(2), np.zeros(2, dtype=np.int64), np.zeros(2)) for _ in range(2)]
    common = (
        np.arange(82, dtype=np.int64),
        np.arange(32, dtype=np.int64),
        np.full(82, 5.0),
        pos,
        vel,
        base,
        g.rest_long,
        g.rest_trans,
        g.rest_diag,
        g.rest_area,
        g.depth,
        g.mass,
        physics_params(config),
        config.dt,
        config.substeps,
        np.array([config.food_x, config.food_y, config.food_radius]),
        4,
    )
    kernels.rollout_batch(W, *common, *out[0])
    kernels.rollout_batch_py(W, *common, *out[1])
    for a, b in zip(out[0], out[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_reach_fitness_orders_touches_above_misses() -> None:
    assert kernels.reach_fitness(10, -0.1, 2.0, 100) == pytest.approx(1.9)
    assert kernels.reach_fitness(100, -0.1, 2.0, 100) == pytest.approx(1.0)
    assert kernels.reach_fitness(0, 0.5, 2.0, 100) == pytest.approx(0.75)
    assert kernels.reach_fitness(0, 3.0, 2.0, 100) == 0.0


def test_touching_the_food_terminates_with_the_touch_reward() -> None:
    env = OctopusArmEnv(food_x=10.0, food_y=0.0, food_radius=0.6)
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(ZERO)
    assert terminated and not truncated and reward == 0.0 and info["gap"] <= 0
    with pytest.raises(RnnaiError, match="reset"):
        env.step(ZERO)


def test_episode_truncates_after_max_steps_with_step_rewards() -> None:
    env = OctopusArmEnv(max_steps=3)
    env.reset(seed=0)
    rewards = [env.step(ZERO)[1] for _ in range(3)]
    assert rewards == [-1.0, -1.0, -1.0]
    with pytest.raises(RnnaiError):
        env.step(ZERO)


def test_same_seed_gives_same_episode_and_jitter_depends_on_seed() -> None:
    def episode(seed: int) -> tuple[np.ndarray, tuple[float, float, float]]:
        env = OctopusArmEnv(food_jitter=1.0)
        obs, info = env.reset(seed=seed)
        rng = np.random.default_rng(7)
        for _ in range(5):
            obs, *_ = env.step(rng.random(32))
        return obs, info["food"]

    a, b, c = episode(4), episode(4), episode(5)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and a[1] != c[1]


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (np.zeros(31), r"shape \(32,\)"),
        (np.full(32, np.nan), "not finite"),
        (np.full(32, 1.5), "outside"),
        (-np.ones(32), "outside"),
        ("up", "numbers"),
    ],
)
def test_bad_actions_raise_a_clear_error(action: object, match: str) -> None:
    env = OctopusArmEnv()
    env.reset(seed=0)
    with pytest.raises(RnnaiError, match=match):
        env.step(action)


def test_bad_config_raises_a_clear_error() -> None:
    with pytest.raises(RnnaiError, match="unknown OctopusConfig"):
        OctopusArmEnv(tentacles=8)
    with pytest.raises(RnnaiError, match="dt"):
        OctopusConfig(dt=-0.01)
    with pytest.raises(RnnaiError, match="n_compartments"):
        OctopusConfig(n_compartments=0)
    with pytest.raises(RnnaiError, match="render_mode"):
        OctopusArmEnv(render_mode="ansi")


def test_render_returns_an_rgb_image() -> None:
    env = OctopusArmEnv(render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img is not None and img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    assert img.std() > 0  # something was drawn


def test_other_arm_sizes_have_matching_spaces() -> None:
    env = OctopusArmEnv(n_compartments=6)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2 + 8 * 6,) and env.action_space.shape == (3 * 6 + 2,)
    obs, *_ = env.step(np.full(20, 0.5))
    assert np.all(np.isfinite(obs))


def test_batched_kernels_equal_their_python_twins_and_the_single_kernel() -> None:
    from rnnai.envs import _octopus_kernels as kernels
    from rnnai.envs.octopus import geometry, initial_state, physics_params

    c = OctopusConfig()
    g, p = geometry(c), physics_params(c)
    pos, vel, base = initial_state(c)
    rng = np.random.default_rng(2)
    act = rng.uniform(0, 1, (3, c.act_dim))
    running = np.array([True, False, True])
    food = np.tile([11.5, 2.0, 0.5], (3, 1))
    geo = (g.rest_long, g.rest_trans, g.rest_diag, g.rest_area, g.depth, g.mass, p, c.dt, 3)
    arrays = []
    for fn in (kernels.advance_batch, kernels.advance_batch_py):
        P, V, B = np.tile(pos, (3, 1, 1)), np.tile(vel, (3, 1, 1)), np.tile(base, (3, 1))
        gap = np.full(3, -7.0)
        fn(P, V, B, act, running, *geo, np.zeros_like(P), food, gap)
        arrays.append((P, V, B, gap))
    for x, y in zip(*arrays, strict=True):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-12)
    P, V, B, gap = arrays[0]
    np.testing.assert_array_equal(P[1], pos)  # a finished arm stays frozen
    assert gap[1] == -7.0
    one_p, one_v, one_b = pos.copy(), vel.copy(), base.copy()
    kernels.advance(one_p, one_v, one_b, act[0], *geo, np.zeros_like(pos))
    np.testing.assert_array_equal(P[0], one_p)
    out, out_py = np.zeros((3, c.obs_dim)), np.zeros((3, c.obs_dim))
    kernels.observe_batch(P, V, B, out)
    kernels.observe_batch_py(P, V, B, out_py)
    np.testing.assert_array_equal(out, out_py)
