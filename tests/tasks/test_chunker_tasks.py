"""Tests of the 22-symbol task's options: random phases and the cycling (deep) variant."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.memory_tasks import TwentyTwoSymbolConfig, TwentyTwoSymbolTask


def _task(**kw) -> TwentyTwoSymbolTask:
    return TwentyTwoSymbolTask(TwentyTwoSymbolConfig(**kw))


def test_the_paper_stream_is_a_or_x_then_b1_to_b20_with_the_target_at_b20() -> None:
    b = _task(n_sequences=3).sample(np.random.default_rng(1), 2)
    s = b.info["symbols"].reshape(2, 3, 21)
    assert (s[:, :, 1:] == np.arange(2, 22)).all() and np.isin(s[:, :, 0], [0, 1]).all()
    assert b.mask.reshape(2, 3, 21)[:, :, 20].all() and b.mask.sum() == 6
    assert (b.y.reshape(2, 3, 21, 2)[:, :, 20].argmax(-1) == s[:, :, 0]).all()


def test_random_phase_shifts_each_stream_and_drops_only_the_cut_targets() -> None:
    lag, n = 4, 5
    b = _task(n_sequences=n, lag=lag, random_phase=True).sample(np.random.default_rng(3), 64)
    phase, s = b.info["phase"], b.info["symbols"]
    assert s.shape == (64, n * (lag + 1)) and len(set(phase.tolist())) > 1
    for i in range(64):
        p = phase[i]
        # the position within the subsequence advances by one per step
        pos = (p + np.arange(s.shape[1])) % (lag + 1)
        assert ((s[i] >= 2) == (pos > 0)).all() and (s[i][pos > 0] == pos[pos > 0] + 1).all()
        # a target at every last step, except a cut first subsequence (phase > 0)
        want = pos == lag
        if p > 0:
            want &= np.arange(s.shape[1]) >= lag + 1 - p
        assert (b.mask[i] == want).all()
        # each counted target names the a/x that began its subsequence
        for t in np.nonzero(b.mask[i])[0]:
            assert b.y[i, t].argmax() == s[i, t - lag]


def test_without_random_phase_the_stream_is_unchanged_by_the_option() -> None:
    a = _task(n_sequences=4).sample(np.random.default_rng(5), 3)
    b = _task(n_sequences=4, random_phase=False).sample(np.random.default_rng(5), 3)
    assert np.array_equal(a.x, b.x) and (b.info["phase"] == 0).all()


def test_cycle_fills_the_lag_with_a_short_cycle_and_ends_with_e() -> None:
    t = _task(n_sequences=2, lag=9, cycle=3)
    assert t.input_size == 6
    b = t.sample(np.random.default_rng(0), 4)
    s = b.info["symbols"].reshape(4, 2, 10)
    assert (s[:, :, 1:9] == [2, 3, 4, 2, 3, 4, 2, 3]).all() and (s[:, :, 9] == 5).all()
    assert b.mask.reshape(4, 2, 10)[:, :, 9].all() and b.mask.sum() == 8
    assert b.x.shape == (4, 20, 6)


def test_bad_options_raise() -> None:
    with pytest.raises(RnnaiError, match="cycle"):
        TwentyTwoSymbolConfig(cycle=0)
    with pytest.raises(RnnaiError, match="lag"):
        TwentyTwoSymbolConfig(lag=1, cycle=2)
