"""Experiment 3 (noisy 2-sequence problem), variants 3a, 3b, 3c."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.tasks.noisy import NoisyTwoSequenceConfig, NoisyTwoSequenceTask


def _sample(batch: int = 400, **kwargs):
    task = NoisyTwoSequenceTask(NoisyTwoSequenceConfig(**kwargs))
    return task, task.sample(np.random.default_rng(0), batch)


def _noise_elements(batch, n: int) -> np.ndarray:
    valid = np.arange(batch.max_length)[None, :] < batch.lengths[:, None]
    valid[:, :n] = False
    return batch.x[:, :, 0][valid]


def test_3a_first_n_elements_carry_the_class_and_the_rest_is_noise():
    task, batch = _sample(T=100, N=3)
    label = batch.info["label"]
    np.testing.assert_array_equal(
        batch.x[:, :3, 0], np.where(label == 0, 1.0, -1.0)[:, None] * np.ones(3)
    )
    noise = _noise_elements(batch, 3)
    assert abs(noise.mean()) < 0.01 and abs(noise.var() - 0.2) < 0.01
    assert batch.lengths.min() >= 100 and batch.lengths.max() <= 110
    assert set(batch.lengths) == set(range(100, 111))


def test_3a_target_is_one_for_class_1_and_zero_for_class_2_at_the_end():
    _, batch = _sample(T=50, N=1)
    rows = np.arange(batch.batch_size)
    np.testing.assert_array_equal(batch.y[rows, batch.lengths - 1, 0], 1.0 - batch.info["label"])
    assert batch.mask.sum() == batch.batch_size and batch.mask[rows, batch.lengths - 1].all()


def test_3b_adds_noise_to_the_information_elements():
    _, batch = _sample(variant="3b", N=3)
    first = batch.x[:, :3, 0]
    sign = np.where(batch.info["label"] == 0, 1.0, -1.0)[:, None]
    deviation = first - sign
    assert (deviation != 0).all() and abs(deviation.var() - 0.2) < 0.03


def test_3c_targets_are_noisy_around_02_and_08_and_judged_against_clean_ones():
    task, batch = _sample(batch=2000, variant="3c")
    rows = np.arange(batch.batch_size)
    clean = batch.info["clean_target"]
    np.testing.assert_array_equal(clean, np.where(batch.info["label"] == 0, 0.2, 0.8))
    noise = batch.y[rows, batch.lengths - 1, 0] - clean
    assert abs(noise.mean()) < 0.03 and abs(noise.var() - 0.1) < 0.01
    out = np.zeros(batch.y.shape)
    out[rows, batch.lengths - 1, 0] = clean + 0.09
    assert task.correct(out, batch).all()
    out[rows, batch.lengths - 1, 0] = clean - 0.11
    assert not task.correct(out, batch).any()
    np.testing.assert_allclose(task.clean_error(out, batch), 0.11, atol=1e-6)


def test_3a_criterion_is_end_error_below_02():
    task, batch = _sample(batch=2)
    rows = np.arange(2)
    out = batch.y.copy()
    out[rows, batch.lengths - 1, 0] += np.array([0.19, -0.21])
    assert task.correct(out, batch).tolist() == [True, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "3d"}, "variant must be one of"),
        ({"T": 3, "N": 3}, "N must be smaller than T"),
        ({"T": 0}, "T must be a positive int"),
        ({"N": 0}, "N must be a positive int"),
        ({"noise_variance": -1.0}, "noise_variance"),
        ({"tolerance": 0.0}, "tolerance"),
    ],
)
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NoisyTwoSequenceConfig(**kwargs)
