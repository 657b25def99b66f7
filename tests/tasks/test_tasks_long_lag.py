"""Experiment 2a and 2c sequences, checked symbol by symbol."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.tasks.long_lag import LongLag2aConfig, LongLag2aTask, LongLag2cConfig, LongLag2cTask


def test_2a_sequences_are_first_a1_to_ap_minus_1_first():
    p = 10
    task = LongLag2aTask(LongLag2aConfig(p=p))
    batch = task.sample(np.random.default_rng(0), 50)
    assert batch.x.shape == (50, p, p + 1) and batch.mask.all() and (batch.lengths == p).all()
    inputs = batch.x.argmax(-1)  # (B, p)
    targets = batch.y.argmax(-1)
    first = inputs[:, 0]
    assert set(first) == {p - 1, p}  # x = a_p, y = a_{p+1}
    np.testing.assert_array_equal(inputs[:, 1:], np.tile(np.arange(p - 1), (50, 1)))
    np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])  # predict the next symbol
    np.testing.assert_array_equal(targets[:, -1], first)  # ... and finally the first one again
    np.testing.assert_array_equal(first - (p - 1), batch.info["label"])


def test_2a_criterion_is_max_abs_error_below_025():
    task = LongLag2aTask(LongLag2aConfig(p=5))
    batch = task.sample(np.random.default_rng(1), 3)
    out = np.abs(batch.y - 0.24)
    assert task.correct(out, batch).all()
    out[1, 2, 3] = np.abs(batch.y[1, 2, 3] - 0.26)
    assert task.correct(out, batch).tolist() == [True, False, True]


def test_2c_sequences_follow_the_paper_construction():
    q, p = 20, 7
    task = LongLag2cTask(LongLag2cConfig(q=q, p=p))
    batch = task.sample(np.random.default_rng(2), 300)
    b_unit, e_unit, x_unit = p, p + 1, p + 2
    symbols = batch.x.argmax(-1)
    for i in range(300):
        n = batch.lengths[i]
        seq = symbols[i, :n]
        assert seq[0] == b_unit and seq[1] in (x_unit, x_unit + 1) and seq[-1] == e_unit
        assert (seq[2:-1] < p).all() and n - 3 >= q  # q + k distractors, k >= 0
        assert batch.mask[i].tolist() == [t == n - 1 for t in range(batch.max_length)]
        assert batch.y[i, n - 1].argmax() == seq[1] - x_unit  # predict the second element
        assert batch.y[i, n - 1].sum() == 1
    assert (
        batch.x.sum(-1)[batch.mask | (np.arange(batch.max_length) < batch.lengths[:, None])].min()
        == 1
    )
    extra = batch.lengths - q - 3
    assert abs(extra.mean() - 9.0) < 1.5  # e follows with probability 1/10: E[k] = 9


def test_2c_minimal_time_lag_is_q_plus_1():
    q = 30
    task = LongLag2cTask(LongLag2cConfig(q=q, p=5, end_probability=1.0))
    batch = task.sample(np.random.default_rng(3), 4)
    # x|y at step 1 must be kept until the prediction at e, step q + 2
    assert (batch.lengths - 1 - 1 == q + 1).all()


def test_2c_criterion_needs_both_outputs_within_02():
    task = LongLag2cTask(LongLag2cConfig(q=5, p=3))
    batch = task.sample(np.random.default_rng(4), 2)
    out = np.abs(batch.y - 0.19)
    assert task.correct(out, batch).all()
    out[0, batch.lengths[0] - 1, 1] = np.abs(batch.y[0, batch.lengths[0] - 1, 1] - 0.21)
    assert task.correct(out, batch).tolist() == [False, True]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (LongLag2aConfig, {"p": 1}, "p must be an int >= 2"),
        (LongLag2aConfig, {"p": 3.0}, "p must be an int"),
        (LongLag2aConfig, {"tolerance": 0}, "tolerance"),
        (LongLag2cConfig, {"q": 0}, "q must be an int >= 1"),
        (LongLag2cConfig, {"p": 0}, "p must be an int >= 1"),
        (LongLag2cConfig, {"end_probability": 1.5}, "end_probability"),
    ],
)
def test_bad_configs_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)
