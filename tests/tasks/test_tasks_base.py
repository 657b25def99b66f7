"""SequenceBatch, the SequenceTask checks and the TASKS registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.tasks import TASKS, AddingTask, SequenceBatch, SequenceTask
from rnnai.tasks.base import masked_max_abs_error, one_hot


def _batch(b: int = 2, t: int = 4, i: int = 3, o: int = 2) -> SequenceBatch:
    lengths = np.array([t, t - 1][:b] + [t] * max(0, b - 2))
    mask = np.arange(t)[None, :] < lengths[:, None]
    return SequenceBatch(x=np.ones((b, t, i)), y=np.zeros((b, t, o)), mask=mask, lengths=lengths)


def test_sequence_batch_coerces_dtypes():
    batch = _batch()
    assert batch.x.dtype == np.float32 and batch.y.dtype == np.float32
    assert batch.mask.dtype == bool and batch.lengths.dtype == np.int64
    assert batch.batch_size == 2 and batch.max_length == 4 and len(batch) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((2, 4))}, r"x must have shape \(B, T, I\), got shape \(2, 4\)"),
        ({"y": np.zeros((2, 5, 2))}, r"y must have shape \(2, 4, O\), got shape \(2, 5, 2\)"),
        ({"mask": np.ones((2, 3), bool)}, r"mask must have shape \(2, 4\), got shape \(2, 3\)"),
        ({"lengths": np.array([4])}, r"lengths must have shape \(2,\), got shape \(1,\)"),
        ({"lengths": np.array([5, 4])}, r"lengths must lie in \[1, 4\]"),
        ({"info": {"label": np.zeros(3)}}, r"info\['label'\] must have 2 rows"),
    ],
)
def test_sequence_batch_rejects_bad_shapes(kwargs, message):
    fields = {
        "x": np.zeros((2, 4, 3)),
        "y": np.zeros((2, 4, 2)),
        "mask": np.ones((2, 4), bool),
        "lengths": np.array([4, 4]),
    }
    with pytest.raises(ValueError, match=message):
        SequenceBatch(**{**fields, **kwargs})


def test_sequence_batch_rejects_mask_after_length():
    with pytest.raises(ValueError, match="mask is true"):
        SequenceBatch(
            x=np.zeros((1, 4, 1)), y=np.zeros((1, 4, 1)), mask=np.ones((1, 4)), lengths=[3]
        )


def test_to_torch_gives_tensors_of_the_documented_dtypes():
    tb = _batch().to_torch()
    assert tb.x.dtype == torch.float32 and tb.y.dtype == torch.float32
    assert tb.mask.dtype == torch.bool and tb.lengths.dtype == torch.int64
    assert tuple(tb.x.shape) == (2, 4, 3) and tb.lengths.tolist() == [4, 3]


def test_masked_max_abs_error_ignores_unmasked_steps():
    batch = _batch()
    out = np.zeros(batch.y.shape)
    out[1, 3, 0] = 9.0  # step 3 of sequence 1 is padding
    out[0, 1, 1] = 0.3
    np.testing.assert_allclose(masked_max_abs_error(out, batch), [0.3, 0.0])


def test_one_hot_maps_minus_one_to_zeros():
    np.testing.assert_array_equal(one_hot(np.array([1, -1]), 3), [[0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("rng", [0, np.random.RandomState(0), None, "seed"])
def test_sample_rejects_anything_but_a_generator(rng):
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        AddingTask().sample(rng, 2)


@pytest.mark.parametrize("batch", [0, -1, 2.5, True, "4"])
def test_sample_rejects_bad_batch_sizes(batch):
    with pytest.raises(ValueError, match="batch must be a positive int"):
        AddingTask().sample(np.random.default_rng(0), batch)


def test_correct_names_expected_and_received_shapes():
    task = AddingTask()
    batch = task.sample(np.random.default_rng(0), 3)
    bad = np.zeros((3, batch.max_length, 2))
    with pytest.raises(
        ValueError, match=rf"\(3, {batch.max_length}, 1\).*\(3, {batch.max_length}, 2\)"
    ):
        task.correct(bad, batch)


def test_correct_accepts_torch_tensors():
    task = AddingTask()
    batch = task.sample(np.random.default_rng(0), 3)
    assert task.correct(torch.from_numpy(batch.y).requires_grad_(), batch).all()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_registered_task_keeps_the_batch_contract(name):
    task = TASKS[name]()
    assert isinstance(task, SequenceTask)
    assert task.output_activation in ("sigmoid", "linear", "softmax") and task.loss == "mse"
    batch = task.sample(np.random.default_rng(1), 5)
    assert batch.x.shape[2] == task.input_size and batch.y.shape[2] == task.output_size
    assert batch.max_length == batch.lengths.max()
    beyond = np.arange(batch.max_length)[None, :] >= batch.lengths[:, None]
    assert not batch.x[beyond].any() and not batch.mask[beyond].any()
    assert batch.mask.any(axis=1).all()


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_registered_task_is_deterministic_for_a_seed(name):
    a = TASKS[name]().sample(np.random.default_rng(7), 4)
    b = TASKS[name]().sample(np.random.default_rng(7), 4)
    for field in ("x", "y", "mask", "lengths"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_criterion_accepts_clean_targets_and_rejects_far_outputs(name):
    task = TASKS[name]()
    batch = task.sample(np.random.default_rng(2), 6)
    perfect = batch.y.copy()
    if "clean_target" in batch.info:  # 3c trains on noisy targets
        rows = np.arange(6)
        perfect[rows, batch.lengths - 1, 0] = batch.info["clean_target"]
    assert task.correct(perfect, batch).all()
    assert not task.correct(perfect + 0.6, batch).any()


def test_factories_pass_config_fields_and_reject_unknown_ones():
    assert TASKS["adding"](T=500).config.T == 500
    assert TASKS["noisy_3c"](N=1).config.variant == "3c"
    with pytest.raises(TypeError):
        TASKS["adding"](length=5)
