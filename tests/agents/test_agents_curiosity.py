"""rnnai.agents.curiosity: the rewards on constructed errors, the world model, the chooser."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.agents.curiosity import (
    EpsilonGreedyChooser,
    LinearWorldModel,
    compression_progress,
    prediction_error_reward,
    windowed_progress,
)
from rnnai.runtime.errors import RnnaiError


def test_compression_progress_is_the_error_before_minus_after() -> None:
    assert compression_progress(3.0, 1.0) == 2.0
    assert compression_progress(1.0, 1.0) == 0.0  # nothing learned: boring
    got = compression_progress(np.array([2.0, 0.5]), np.array([2.5, 0.25]))
    np.testing.assert_array_equal(got, [-0.5, 0.25])  # an update that hurts: negative


def test_windowed_progress_on_a_constructed_learning_curve() -> None:
    errors = [8.0, 8.0, 4.0, 4.0, 2.0, 2.0, 2.0, 2.0]
    lp = windowed_progress(errors, window=2)
    assert np.isnan(lp[:3]).all()
    # t=3: mean(e0, e1) - mean(e2, e3) = 8 - 4; t=4: mean(8, 4) - mean(4, 2) = 3; then 4-2=2, 1, 0
    np.testing.assert_allclose(lp[3:], [4.0, 3.0, 2.0, 1.0, 0.0])


def test_windowed_progress_matches_a_direct_loop() -> None:
    e = np.random.default_rng(0).random(50)
    w = 5
    lp = windowed_progress(e, window=w)
    for t in range(2 * w - 1, 50):
        want = e[t - 2 * w + 1 : t - w + 1].mean() - e[t - w + 1 : t + 1].mean()
        assert lp[t] == pytest.approx(want, abs=1e-12)


def test_windowed_progress_of_constant_error_is_zero_and_short_input_is_nan() -> None:
    assert np.allclose(windowed_progress(np.full(10, 3.0), window=3)[5:], 0.0)
    assert np.isnan(windowed_progress([1.0, 2.0], window=2)).all()
    with pytest.raises(RnnaiError):
        windowed_progress([1.0], window=0)
    with pytest.raises(RnnaiError):
        windowed_progress(np.zeros((2, 2)), window=1)


def test_prediction_error_reward_is_eta_half_squared_distance() -> None:
    p = np.array([[1.0, 2.0], [0.0, 0.0]])
    y = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(prediction_error_reward(p, y, eta=0.5), [1.25, 6.25])
    with pytest.raises(RnnaiError):
        prediction_error_reward(p, y[:, :1])
    with pytest.raises(RnnaiError):
        prediction_error_reward(p, y, eta=0.0)


def test_world_model_reports_raw_error_and_progress_on_its_history() -> None:
    m = LinearWorldModel(n_in=1, n_out=1, lr=0.25, history=2)
    first = m.observe(np.array([1.0]), np.array([2.0]))
    # W = 0 predicts 0: error 1/2 * 4 = 2; step W += 0.25 * 2 * [1, 1] -> predicts 1: error 0.5
    assert (first.error, first.progress) == (2.0, 1.5)
    second = m.observe(np.array([0.0]), np.array([0.0]))
    # W = [0.5, 0.5]: prediction 0.5 on x = 0, error 0.125; history {(1, 2), (0, 0)}
    assert second.error == pytest.approx(0.125)
    before = (0.5 * 1.0**2 + 0.5 * 0.5**2) / 2
    w = np.array([0.5, 0.5]) + 0.25 * (-0.5) * np.array([0.0, 1.0])
    after = (0.5 * (2 - w.sum()) ** 2 + 0.5 * w[1] ** 2) / 2
    assert second.progress == pytest.approx(before - after, abs=1e-12)
    assert m.error(np.array([[1.0], [0.0]]), np.array([[2.0], [0.0]])) == pytest.approx(after)


def test_world_model_learns_a_linear_map_and_its_progress_vanishes() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3)) / np.sqrt(3)
    m = LinearWorldModel(n_in=3, n_out=3, lr=0.05, history=50)
    progress = [m.observe(x, A @ x).progress for x in rng.normal(size=(2000, 3))]
    x = rng.normal(size=(100, 3))
    assert m.error(x, x @ A.T) < 1e-8
    assert np.mean(progress[:50]) > 1e-2 > 1e-8 > abs(np.mean(progress[-50:]))


def test_progress_on_noise_vanishes_once_the_history_is_full_while_raw_error_stays() -> None:
    rng = np.random.default_rng(2)
    m = LinearWorldModel(n_in=8, n_out=8, lr=0.005, history=1000)
    seen = [m.observe(rng.normal(size=8), rng.normal(size=8)) for _ in range(4000)]
    early = np.mean([s.progress for s in seen[:1000]])
    late = np.mean([s.progress for s in seen[2000:]])
    raw = np.mean([s.error for s in seen[2000:]])
    assert abs(late) < 1e-4 < 1e-3 < early  # a few noise samples are compressible, many not
    assert raw > 3.5  # 1/2 E|y|^2 = d / 2 = 4: the raw error never falls


def test_world_model_rejects_bad_sizes() -> None:
    with pytest.raises(RnnaiError):
        LinearWorldModel(n_in=0, n_out=1, lr=0.1, history=1)
    with pytest.raises(RnnaiError):
        LinearWorldModel(n_in=1, n_out=1, lr=0.0, history=1)


def test_chooser_follows_the_best_average_and_breaks_ties_at_random() -> None:
    c = EpsilonGreedyChooser(n_options=3, alpha=0.5, epsilon=0.0, tolerance=0.1,
                             rng=np.random.default_rng(0))  # fmt: skip
    c.update(1, 2.0)
    assert c.Q.tolist() == [0.0, 1.0, 0.0]
    assert {c.choose() for _ in range(20)} == {1}
    c.update(2, 1.9)  # Q_2 = 0.95: within tolerance of Q_1 = 1.0
    assert {c.choose() for _ in range(50)} == {1, 2}


def test_chooser_explores_with_probability_epsilon() -> None:
    c = EpsilonGreedyChooser(n_options=4, alpha=1.0, epsilon=1.0, tolerance=0.0,
                             rng=np.random.default_rng(0))  # fmt: skip
    c.update(0, 10.0)
    picks = np.array([c.choose() for _ in range(400)])
    assert set(picks.tolist()) == {0, 1, 2, 3}
    with pytest.raises(RnnaiError):
        EpsilonGreedyChooser(n_options=2, alpha=0.0, epsilon=0.1, tolerance=0.0,
                             rng=np.random.default_rng(0))  # fmt: skip
