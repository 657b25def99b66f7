"""Tests of rnnai.tasks.memory_tasks: the 22-symbol stream, the formal-language tasks, NTM copy
and associative recall, the train/test length split and the per-length report."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.memory_tasks import (
    AnBnConfig,
    AnBnTask,
    AssociativeRecallConfig,
    AssociativeRecallTask,
    CopyConfig,
    CopyTask,
    DyckConfig,
    DyckTask,
    ReversalConfig,
    ReversalTask,
    TwentyTwoSymbolConfig,
    TwentyTwoSymbolTask,
    accuracy_by_length,
)

LENGTH_TASKS = [
    (DyckTask, DyckConfig),
    (DyckTask, lambda **kw: DyckConfig(n_pairs=2, **kw)),
    (AnBnTask, AnBnConfig),
    (AnBnTask, lambda **kw: AnBnConfig(letters=3, **kw)),
    (ReversalTask, ReversalConfig),
    (CopyTask, CopyConfig),
    (AssociativeRecallTask, AssociativeRecallConfig),
]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _dyck(symbols: list[int]) -> bool:
    stack: list[int] = []
    for s in symbols:
        if s % 2 == 0:
            stack.append(s)
        elif not stack or stack.pop() != s - 1:
            return False
    return not stack


# ------------------------------------------------------------------ 22 symbols


def test_twenty_two_symbol_stream_layout_and_targets() -> None:
    task = TwentyTwoSymbolTask(TwentyTwoSymbolConfig(n_sequences=3))
    b = task.sample(rng(), 4)
    sym = b.x.argmax(-1)  # (B, 63)
    assert task.input_size == 22 and b.x.shape == (4, 63, 22)
    for row in range(4):
        for k in range(3):
            chunk = sym[row, 21 * k : 21 * (k + 1)]
            assert chunk[0] in (0, 1) and chunk[1:].tolist() == list(range(2, 22))
            assert b.mask[row, 21 * k + 20] and not b.mask[row, 21 * k : 21 * k + 20].any()
            assert b.y[row, 21 * k + 20].tolist() == [chunk[0] == 0, chunk[0] == 1]
    assert task.correct(b.y, b).all()
    assert not task.correct(1 - b.y, b).any()


def test_twenty_two_symbol_all_targets_mask_every_b() -> None:
    b = TwentyTwoSymbolTask(TwentyTwoSymbolConfig(n_sequences=2, target_at="all")).sample(rng(), 2)
    assert b.mask.sum(1).tolist() == [40, 40]


def test_twenty_two_symbol_first_symbols_are_balanced() -> None:
    b = TwentyTwoSymbolTask(TwentyTwoSymbolConfig(n_sequences=50)).sample(rng(), 40)
    assert 0.45 < b.info["first"].mean() < 0.55


# ------------------------------------------------------------------ length split


@pytest.mark.parametrize(("task_cls", "cfg"), LENGTH_TASKS)
def test_test_lengths_never_overlap_train_lengths(task_cls, cfg) -> None:
    train = task_cls(cfg(split="train")).sample(rng(1), 64)
    test = task_cls(cfg(split="test")).sample(rng(2), 64)
    c = cfg()
    assert train.info["length"].max() <= c.train_lengths[1]
    assert test.info["length"].min() >= c.test_lengths[0] > c.train_lengths[1]
    assert set(train.info["length"].tolist()).isdisjoint(test.info["length"].tolist())


@pytest.mark.parametrize(("task_cls", "cfg"), LENGTH_TASKS)
def test_targets_are_correct_and_wrong_outputs_are_not(task_cls, cfg) -> None:
    task = task_cls(cfg())
    b = task.sample(rng(3), 32)
    assert task.correct(b.y, b).all()
    assert not task.correct(1 - b.y, b).any()
    assert task.sample(rng(3), 32).x.tobytes() == b.x.tobytes()  # deterministic


def test_overlapping_or_bad_ranges_raise() -> None:
    with pytest.raises(RnnaiError, match="strictly above"):
        CopyConfig(train_lengths=(1, 20), test_lengths=(20, 40))
    with pytest.raises(RnnaiError, match="split"):
        CopyConfig(split="valid")  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="letters"):
        AnBnConfig(letters=4)  # type: ignore[arg-type]


# ------------------------------------------------------------------ per task


def test_dyck_labels_match_a_stack_check() -> None:
    for n_pairs in (1, 2):
        task = DyckTask(DyckConfig(n_pairs=n_pairs))
        b = task.sample(rng(4), 200)
        assert (b.info["length"] % 2 == 0).all()
        for i in range(200):
            n = b.lengths[i]
            assert _dyck(b.x[i, :n].argmax(-1).tolist()) == bool(b.info["label"][i])
        assert 0.35 < b.info["label"].mean() < 0.65


def test_anbn_counts_equal_only_for_positives() -> None:
    b = AnBnTask(AnBnConfig(letters=3)).sample(rng(5), 100)
    equal = (b.info["counts"] == b.info["counts"][:, :1]).all(1)
    assert (equal == b.info["label"].astype(bool)).all()
    assert (b.lengths == 3 * b.info["length"]).all()
    seq = b.x[0, : b.lengths[0]].argmax(-1)
    assert (np.diff(seq) >= 0).all()  # a's, then b's, then c's


def test_reversal_targets_are_the_reversed_string() -> None:
    b = ReversalTask(ReversalConfig(n_symbols=3)).sample(rng(6), 5)
    for i in range(5):
        n = b.info["length"][i]
        s = b.x[i, :n, :3].argmax(-1)
        assert (b.y[i, n : 2 * n].argmax(-1) == s[::-1]).all()
        assert b.mask[i, n : 2 * n].all() and not b.mask[i, :n].any()


def test_copy_targets_follow_the_delimiter() -> None:
    b = CopyTask().sample(rng(7), 5)
    for i in range(5):
        n = b.info["length"][i]
        assert b.x[i, n, 8] == 1 and b.x[i, :n, 8].sum() == 0
        assert np.array_equal(b.y[i, n + 1 : 2 * n + 1], b.x[i, :n, :8])
        assert b.mask[i].sum() == n


def test_recall_answer_is_the_item_after_the_query() -> None:
    c = AssociativeRecallConfig()
    b = AssociativeRecallTask(c).sample(rng(8), 10)
    il, nb = c.item_length, c.bits
    for i in range(10):
        n, q = b.info["length"][i], b.info["query"][i]
        items = [b.x[i, k * (il + 1) + 1 : (k + 1) * (il + 1), :nb] for k in range(n)]
        start = n * (il + 1)
        assert np.array_equal(b.x[i, start + 1 : start + 1 + il, :nb], items[q])
        assert np.array_equal(b.y[i, b.mask[i]], items[q + 1])
        assert b.lengths[i] == start + 2 + 2 * il


def test_accuracy_by_length_buckets() -> None:
    acc = accuracy_by_length(np.array([1, 0, 1, 1], bool), np.array([3, 4, 12, 15]), bucket=10)
    assert acc == {0: 0.5, 10: 1.0}
    with pytest.raises(RnnaiError, match="both be"):
        accuracy_by_length(np.ones(3, bool), np.ones(2))
