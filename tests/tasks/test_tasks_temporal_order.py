"""Experiment 6 (temporal order): symbol positions, sets and class labels."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.tasks.temporal_order import (
    CLASS_NAMES,
    INPUT_SYMBOLS,
    TemporalOrderConfig,
    TemporalOrderTask,
)

WINDOWS_1_BASED = {"6a": [(10, 20), (50, 60)], "6b": [(10, 20), (33, 43), (66, 76)]}
RULES = {
    "6a": {"XX": "Q", "XY": "R", "YX": "S", "YY": "U"},
    "6b": {
        "XXX": "Q",
        "XXY": "R",
        "XYX": "S",
        "XYY": "U",
        "YXX": "V",
        "YXY": "A",
        "YYX": "B",
        "YYY": "C",
    },
}


@pytest.mark.parametrize("variant", ["6a", "6b"])
def test_sequences_have_e_b_and_x_y_in_their_windows(variant):
    task = TemporalOrderTask(TemporalOrderConfig(variant=variant))
    batch = task.sample(np.random.default_rng(0), 500)
    assert batch.lengths.min() == 100 and batch.lengths.max() == 110
    assert task.output_size == len(RULES[variant])
    for i in range(batch.batch_size):
        n = batch.lengths[i]
        seq = [INPUT_SYMBOLS[k] for k in batch.x[i, :n].argmax(-1)]
        assert batch.x[i, :n].sum() == n
        assert seq[0] == "E" and seq[-1] == "B"
        relevant = [t for t, s in enumerate(seq) if s in "XY"]  # 0-based
        assert len(relevant) == len(WINDOWS_1_BASED[variant])
        for t, (lo, hi) in zip(relevant, WINDOWS_1_BASED[variant], strict=True):
            assert lo <= t + 1 <= hi
        assert set(seq[1:-1]) - {"X", "Y"} <= {"a", "b", "c", "d"}
        pattern = "".join(seq[t] for t in relevant)
        label = batch.y[i, n - 1].argmax()
        assert CLASS_NAMES[variant][label] == RULES[variant][pattern]
        assert batch.y[i, n - 1].sum() == 1 and batch.mask[i].sum() == 1 and batch.mask[i, n - 1]
    assert set(batch.info["label"]) == set(range(task.output_size))


def test_every_window_position_occurs():
    batch = TemporalOrderTask(TemporalOrderConfig(variant="6b")).sample(
        np.random.default_rng(1), 2000
    )
    for k, (lo, hi) in enumerate(WINDOWS_1_BASED["6b"]):
        assert set(batch.info["positions"][:, k] + 1) == set(range(lo, hi + 1))


def test_criterion_is_every_output_within_03():
    task = TemporalOrderTask()
    batch = task.sample(np.random.default_rng(2), 2)
    out = np.abs(batch.y - 0.29)
    assert task.correct(out, batch).all()
    n = batch.lengths[1]
    out[1, n - 1, 3] = np.abs(batch.y[1, n - 1, 3] - 0.31)
    assert task.correct(out, batch).tolist() == [True, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variant": "6c"}, "variant must be one of"),
        ({"variant": "6b", "min_length": 76}, "min_length must exceed"),
        ({"max_length": 99}, "max_length must be >= min_length"),
        ({"tolerance": 0}, "tolerance"),
    ],
)
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TemporalOrderConfig(**kwargs)
