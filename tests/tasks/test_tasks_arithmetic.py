"""Adding (Exp. 4) and multiplication (Exp. 5): markers, positions and targets from x."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rnnai.tasks.arithmetic import (
    AddingConfig,
    AddingTask,
    MultiplicationConfig,
    MultiplicationTask,
)


def _check_markers(batch, T: int) -> None:
    values, markers = batch.x[:, :, 0], batch.x[:, :, 1]
    rows = np.arange(batch.batch_size)
    pos1, pos2 = batch.info["pos1"], batch.info["pos2"]
    assert (pos1 < 10).all() and (pos2 < T // 2).all() and (pos1 != pos2).all()
    assert (markers[:, 0] == -1).all() and (markers[rows, batch.lengths - 1] == -1).all()
    hidden = (pos1 == 0) | (pos2 == 0)  # a mark on the first pair is covered by its -1
    n_marked = (markers == 1).sum(axis=1)
    np.testing.assert_array_equal(n_marked, np.where(hidden, 1, 2))
    assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
    assert ((markers == -1).sum(axis=1) == 2).all()
    valid = np.arange(batch.max_length)[None, :] < batch.lengths[:, None]
    assert not values[~valid].any() and not markers[~valid].any()
    assert batch.lengths.min() >= T and batch.lengths.max() <= T + T // 10
    assert batch.mask.sum() == batch.batch_size and batch.mask[rows, batch.lengths - 1].all()


def test_adding_target_is_recomputed_from_the_marked_values():
    T = 40
    batch = AddingTask(AddingConfig(T=T)).sample(np.random.default_rng(0), 3000)
    _check_markers(batch, T)
    values, markers = batch.x[:, :, 0], batch.x[:, :, 1]
    assert values.min() >= -1 and values.max() <= 1 and values.min() < -0.99
    total = (values * (markers == 1)).sum(axis=1)
    rows = np.arange(batch.batch_size)
    np.testing.assert_allclose(batch.y[rows, batch.lengths - 1, 0], 0.5 + total / 4, atol=1e-6)


def test_adding_sets_a_marked_first_pair_to_zero():
    batch = AddingTask(AddingConfig(T=20)).sample(np.random.default_rng(1), 2000)
    first = (batch.info["pos1"] == 0) | (batch.info["pos2"] == 0)
    assert 100 < first.sum() < 400  # about 1/10 + 9/10 * 1/9 of the sequences
    assert (batch.x[first, 0, 0] == 0).all() and (batch.x[~first, 0, 0] != 0).all()


def test_second_mark_covers_the_first_t_over_2_minus_1_unmarked_pairs():
    T = 20
    batch = AddingTask(AddingConfig(T=T)).sample(np.random.default_rng(2), 5000)
    pos1, pos2 = batch.info["pos1"], batch.info["pos2"]
    assert set(pos1) == set(range(10))
    assert pos2.max() == T // 2 - 1 and pos2.min() == 0
    # the second mark takes one of T/2 - 1 positions: those below T/2 other than pos1
    assert ((pos2 < T // 2 - 1) | (pos1 < T // 2 - 1)).all()


def test_multiplication_target_is_the_product_with_a_marked_first_pair_set_to_one():
    T = 30
    batch = MultiplicationTask(MultiplicationConfig(T=T)).sample(np.random.default_rng(3), 3000)
    _check_markers(batch, T)
    values, markers = batch.x[:, :, 0], batch.x[:, :, 1]
    assert values.min() >= 0 and values.max() <= 1
    first = (batch.info["pos1"] == 0) | (batch.info["pos2"] == 0)
    assert (values[first, 0] == 1).all()
    product = np.where(markers == 1, values, 1.0).prod(axis=1)  # the hidden first pair gives 1
    rows = np.arange(batch.batch_size)
    np.testing.assert_allclose(batch.y[rows, batch.lengths - 1, 0], product, atol=1e-6)
    np.testing.assert_allclose(product, batch.info["X1"] * batch.info["X2"], atol=1e-6)


def test_criterion_is_end_error_below_004():
    task = AddingTask()
    batch = task.sample(np.random.default_rng(4), 2)
    out = batch.y.copy()
    rows = np.arange(2)
    out[rows, batch.lengths - 1, 0] += np.array([0.039, -0.041])
    assert task.correct(out, batch).tolist() == [True, False]


def test_ten_thousand_sequences_of_t_1000_are_fast():
    task = AddingTask(AddingConfig(T=1000))
    start = time.perf_counter()
    batch = task.sample(np.random.default_rng(5), 10_000)
    assert time.perf_counter() - start < 5.0  # about 0.4 s on one core
    assert batch.x.shape[0] == 10_000


@pytest.mark.parametrize("cls", [AddingConfig, MultiplicationConfig])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"T": 19}, "T must be an int >= 20"),
        ({"T": 100.0}, "T must be an int"),
        ({"tolerance": -1}, "tolerance"),
    ],
)
def test_bad_configs_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)
