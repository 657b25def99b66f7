"""rnnai.agents.regions: gymnasium conformance, the three regions, determinism by seed."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rnnai.agents.regions import LEARNABLE, NOISE, TRIVIAL, CuriosityRegionsEnv
from rnnai.runtime.errors import RnnaiError


def test_check_env_passes() -> None:
    check_env(CuriosityRegionsEnv(n_dims=3, max_steps=20), skip_render_check=True)


def test_learnable_region_is_a_fixed_linear_map() -> None:
    env = CuriosityRegionsEnv(n_dims=4)
    env.reset(seed=3)
    obs = np.array([env.step(LEARNABLE)[0] for _ in range(10)])
    assert (obs[:, :3] == [1, 0, 0]).all()
    x, y = obs[:, 3:7], obs[:, 7:]
    np.testing.assert_allclose(y, x @ env.A.T, atol=1e-12)


def test_trivial_region_is_constant_and_noise_is_uncorrelated() -> None:
    env = CuriosityRegionsEnv(n_dims=4)
    env.reset(seed=0)
    trivial = np.array([env.step(TRIVIAL)[0] for _ in range(5)])
    assert (trivial == trivial[0]).all() and (trivial[0, 3:] == 0).all()
    noise = np.array([env.step(NOISE)[0] for _ in range(4000)])
    x, y = noise[:, 3:7], noise[:, 7:]
    best = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.mean((y - x @ best) ** 2) > 0.95  # no linear map explains it


def test_same_seed_same_episode_other_seed_other_map() -> None:
    def episode(seed: int) -> np.ndarray:
        env = CuriosityRegionsEnv(n_dims=3)
        env.reset(seed=seed)
        return np.array([env.step(a % 3)[0] for a in range(30)])

    np.testing.assert_array_equal(episode(5), episode(5))
    assert not np.allclose(episode(5), episode(6))


def test_truncates_after_max_steps_and_rejects_bad_input() -> None:
    env = CuriosityRegionsEnv(n_dims=2, max_steps=3)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(RnnaiError):
        env.step(3)
    with pytest.raises(RnnaiError):
        env.sample(7, 1, np.random.default_rng(0))
    with pytest.raises(RnnaiError):
        CuriosityRegionsEnv(n_dims=0)


def test_sample_does_not_touch_the_environments_stream() -> None:
    a, b = CuriosityRegionsEnv(n_dims=2), CuriosityRegionsEnv(n_dims=2)
    a.reset(seed=1)
    b.reset(seed=1)
    a.sample(LEARNABLE, 100, np.random.default_rng(9))
    np.testing.assert_array_equal(a.step(NOISE)[0], b.step(NOISE)[0])
