"""`rnnai bench lstm_online`: two well-formed rows (one call per string, all strings in one call)
against the torch anchor, and the benchmark's nets train on the same Reber strings."""

from __future__ import annotations

import doctest

import numpy as np

import rnnai.bench.lstm_online as bo
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_lstm_online_rows_have_rates_and_speedups(monkeypatch) -> None:
    monkeypatch.setattr(bo, "N_STRINGS", {True: 6, False: 6})
    monkeypatch.setattr(bo, "REPEATS", {True: 1, False: 1})
    with Progress(quiet=True) as progress:
        rows = get_bench("lstm_online")(True, progress)
    assert len(rows) == 2
    assert rows[0].name.endswith("one call per string")
    assert rows[1].name.endswith("6 strings per call")
    for row in rows:
        assert row.unit == "seq/s" and row.ours > 0 and row.anchor is not None and row.anchor > 0
        assert row.speedup is not None
        assert abs(row.speedup - row.ours / row.anchor) < 1e-9


def test_reber_training_strings_are_seeded_one_hot_sequences() -> None:
    a, b = bo.reber_training_strings(8, seed=3), bo.reber_training_strings(8, seed=3)
    assert all(np.array_equal(p.x, q.x) for p, q in zip(a, b, strict=True))
    c = bo.reber_training_strings(8, seed=4)
    assert any(
        p.x.shape != q.x.shape or not np.array_equal(p.x, q.x) for p, q in zip(a, c, strict=True)
    )
    for s in a:
        assert s.x.shape == s.y.shape and s.x.shape[1] == 7
        np.testing.assert_array_equal(s.x.sum(1), 1.0)  # one symbol per step
        assert s.mask.shape == (s.x.shape[0],) and s.mask.all()


def test_ours_trains_on_the_strings() -> None:
    """The timed closure of ours really trains: the net's weights change."""
    strings = bo.reber_training_strings(4, seed=0)
    net = bo._ours_net()
    before = net.theta.copy()
    for s in strings:
        net.train_sequence(s.x, s.y, s.mask, lr=bo.LR)
    assert np.abs(net.theta - before).max() > 1e-6


def test_module_doctests_pass() -> None:
    result = doctest.testmod(bo)
    assert result.attempted > 0 and result.failed == 0
