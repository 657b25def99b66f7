"""rnnai.envs.car_racing: pixel preprocessing, the fixed track, frame skipping without drawing."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("Box2D")
pytest.importorskip("pygame")

from rnnai.envs.car_racing import (  # noqa: E402
    DASHBOARD_ROWS,
    CarRacingConfig,
    box_resample_matrix,
    make_car_racing,
    preprocess,
    track_centerline,
)
from rnnai.runtime.errors import RnnaiError  # noqa: E402

ACTIONS = np.random.default_rng(3).uniform([-1, 0.3, 0], [1, 1, 0.1], (12, 3)).astype(np.float32)


def test_importing_the_envs_sets_no_environment_variable() -> None:
    code = (
        "import os, gymnasium; before = dict(os.environ); import rnnai.envs.car_racing; "
        "print(sorted(set(os.environ.items()) ^ set(before.items())))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER",)}
    env.pop("PYGAME_HIDE_SUPPORT_PROMPT", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_car_racing_runs_without_a_video_driver_and_pygame_stays_quiet() -> None:
    code = (
        "import numpy as np; from rnnai.envs.car_racing import make_car_racing; "
        "env = make_car_racing(); env.reset(); env.step(np.array([0, 1, 0], np.float32)); "
        "print('ok')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY")}
    env.pop("PYGAME_HIDE_SUPPORT_PROMPT", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout == "ok\n"  # no pygame greeting


def test_box_resample_rows_sum_to_one_and_columns_keep_mass() -> None:
    R = box_resample_matrix(96, 64)
    assert R.shape == (64, 96)
    np.testing.assert_allclose(R.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(R.sum(axis=0), 64 / 96, atol=1e-6)


def test_box_resample_of_equal_sizes_is_the_identity() -> None:
    np.testing.assert_array_equal(box_resample_matrix(7, 7), np.eye(7, dtype=np.float32))


def test_box_resample_by_three_halves_mixes_neighbours_by_overlap() -> None:
    R = box_resample_matrix(3, 2)  # output pixel 0 covers input [0, 1.5): 1 + 0.5 of pixel 1
    np.testing.assert_allclose(R, [[2 / 3, 1 / 3, 0.0], [0.0, 1 / 3, 2 / 3]], atol=1e-7)


def test_box_resample_rejects_upsampling() -> None:
    with pytest.raises(RnnaiError, match="n_out <= n_in"):
        box_resample_matrix(4, 8)


def test_preprocess_gives_bt601_luminance_of_a_flat_colour() -> None:
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[..., 0] = 255  # pure red
    x = preprocess(frame)
    assert x.shape == (64, 64) and x.dtype == np.float32
    np.testing.assert_allclose(x, 0.299, atol=1e-6)


def test_preprocess_keeps_rgb_planes_when_asked() -> None:
    frame = np.full((96, 96, 3), (0, 255, 51), np.uint8)
    x = preprocess(frame, size=32, grayscale=False)
    assert x.shape == (32, 32, 3)
    np.testing.assert_allclose(x[5, 7], [0.0, 1.0, 0.2], atol=1e-6)


def test_preprocess_crop_removes_the_dashboard_rows() -> None:
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[-DASHBOARD_ROWS:] = 255  # a white dashboard
    assert preprocess(frame, crop_dashboard=True).max() == 0.0
    assert preprocess(frame, crop_dashboard=False)[-1].min() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((96, 96), np.uint8), r"\(H, W, 3\) uint8"),
        (np.zeros((96, 96, 3), np.float32), r"\(H, W, 3\) uint8"),
        (np.zeros((32, 32, 3), np.uint8), "smaller than the output size 64"),
    ],
)
def test_preprocess_rejects_bad_frames_naming_the_problem(frame: np.ndarray, message: str) -> None:
    with pytest.raises(RnnaiError, match=message):
        preprocess(frame)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 0),
        ("size", 128),
        ("frame_skip", 0),
        ("max_frames", 1.5),
        ("track_seed", -1),
        ("lap_complete_percent", 0.0),
    ],
)
def test_config_rejects_out_of_range_fields(field: str, value: object) -> None:
    with pytest.raises(RnnaiError, match=field):
        CarRacingConfig(**{field: value})


def test_reset_without_seed_rebuilds_the_same_fixed_track() -> None:
    env = make_car_racing(CarRacingConfig(track_seed=4, max_frames=20))
    obs_a, info_a = env.reset()
    track_a = track_centerline(env)
    env.step(ACTIONS[0])
    obs_b, info_b = env.reset()
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(track_a, track_centerline(env))
    assert info_a["position"] == info_b["position"] and info_a["n_tiles"] == len(track_a)
    env.reset(seed=5)
    assert not np.array_equal(track_a, track_centerline(env)) or len(track_a) != len(
        track_centerline(env)
    )
    env.close()


def test_observation_lies_in_the_observation_space() -> None:
    env = make_car_racing(CarRacingConfig(size=48, max_frames=8))
    obs, _ = env.reset()
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(ACTIONS[1])
    assert env.observation_space.contains(obs)
    env.close()


def test_frame_skip_without_drawing_matches_every_frame_drawn() -> None:
    skip = make_car_racing(CarRacingConfig(frame_skip=4, max_frames=200))
    full = make_car_racing(CarRacingConfig(frame_skip=1, max_frames=200))
    skip.reset()
    full.reset()
    for a in ACTIONS[:8]:
        obs_s, r_s, *_, info_s = skip.step(a)
        r_f = 0.0
        for _ in range(4):
            obs_f, r, *_, info_f = full.step(a)
            r_f += float(r)
        assert r_s == pytest.approx(r_f, abs=1e-9)
        assert info_s["position"] == info_f["position"]
        assert info_s["frames"] == info_f["frames"]
        np.testing.assert_array_equal(obs_s, obs_f)
    skip.close()
    full.close()


def test_episode_is_truncated_after_max_frames() -> None:
    env = make_car_racing(CarRacingConfig(frame_skip=3, max_frames=7))
    env.reset()
    steps = [env.step(ACTIONS[0]) for _ in range(3)]
    assert [s[3] for s in steps] == [False, False, True]
    assert [s[4]["frames"] for s in steps] == [3, 6, 7]  # the last action is cut to 1 frame
    env.close()


def test_step_rejects_a_malformed_action() -> None:
    env = make_car_racing(CarRacingConfig(max_frames=4))
    env.reset()
    with pytest.raises(RnnaiError, match="3 finite numbers"):
        env.step(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(RnnaiError, match="3 finite numbers"):
        env.step(np.zeros(2))
    env.close()


def test_make_rejects_a_human_render_mode() -> None:
    with pytest.raises(RnnaiError, match="render_mode"):
        make_car_racing(render_mode="human")


def test_wrapper_passes_gymnasiums_env_checker() -> None:
    from gymnasium.utils.env_checker import check_env

    env = make_car_racing(CarRacingConfig(frame_skip=2, max_frames=50))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    env.close()
    others = [str(w.message) for w in caught if "unwrapped version" not in str(w.message)]
    assert others == []  # the only warning says that a wrapper is being checked
