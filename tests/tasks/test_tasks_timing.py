"""MSD and GTS (Gers et al. 2002): spike placement, targets and the spike-train check."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.tasks.timing import (
    GTSConfig,
    GTSTask,
    MSDConfig,
    MSDTask,
    check_spike_train,
    spike_times,
)


@pytest.mark.parametrize("n_spikes", [1, 6])
def test_msd_spikes_follow_t_n_and_the_target_is_the_delay(n_spikes):
    task = MSDTask(MSDConfig(period=49, delays=(0, 1), n_spikes=n_spikes))
    batch = task.sample(np.random.default_rng(0), 64)
    spikes, delays = batch.info["spikes"], batch.info["delays"]
    for i in range(64):
        times = np.flatnonzero(batch.x[i, :, 0])
        np.testing.assert_array_equal(times, spikes[i])
        # T(n) = T(n-1) + 49 + I(n), T(0) = 0, the first step is t = 1 (index 0)
        np.testing.assert_array_equal(times + 1, np.cumsum(49 + delays[i]))
        assert batch.lengths[i] == times[-1] + 1
        np.testing.assert_array_equal(np.flatnonzero(batch.mask[i]), times)
        np.testing.assert_array_equal(batch.y[i, times, 0], delays[i])
        assert batch.y[i].sum() == delays[i].sum()
    assert set(np.unique(delays)) == {0, 1}


def test_msd_criterion_needs_every_spike_within_049():
    task = MSDTask(MSDConfig(n_spikes=5))
    batch = task.sample(np.random.default_rng(1), 2)
    out = np.abs(batch.y - 0.48)
    assert task.correct(out, batch).all()
    t = batch.info["spikes"][0, 3]
    out[0, t] = np.abs(batch.y[0, t] - 0.5)  # error 0.5 at one spike
    assert task.correct(out, batch).tolist() == [False, True]


def test_gts_targets_are_the_spike_train_and_the_default_input_is_zero():
    task = GTSTask(GTSConfig(period=7, n_spikes=4))
    batch = task.sample(np.random.default_rng(2), 5)
    assert not batch.x.any()
    for i in range(5):
        assert np.flatnonzero(batch.y[i, :, 0]).tolist() == [6, 13, 20, 27]
        assert batch.lengths[i] == 28 and batch.mask[i].all()
    assert task.correct(batch.y, batch).all()
    assert task.spike_train_correct(batch.y, batch).all()
    assert check_spike_train(batch.y, 7).all()


def test_gts_with_delays_gives_each_delay_at_the_start_of_its_interval():
    task = GTSTask(GTSConfig(period=5, delays=(0, 3), n_spikes=6))
    batch = task.sample(np.random.default_rng(4), 8)
    for i in range(8):
        d, times = batch.info["delays"][i], batch.info["spikes"][i]
        np.testing.assert_array_equal(times + 1, np.cumsum(5 + d))
        np.testing.assert_array_equal(np.flatnonzero(batch.y[i, :, 0]), times)
        starts = np.concatenate([[0], times[:-1] + 1])
        np.testing.assert_array_equal(batch.x[i, starts, 0], d)
        assert batch.x[i, :, 0].sum() == d.sum()
    assert task.spike_train_correct(batch.y, batch).all()


def test_gts_test_batch_is_a_long_free_running_stream():
    task = GTSTask(GTSConfig(period=5))
    batch = task.test_batch(200)
    assert batch.batch_size == 1 and batch.lengths[0] == 1000 and batch.y.sum() == 200


def test_spike_times_finds_the_peak_of_each_run():
    out = np.zeros((1, 12))
    out[0, 2:5] = [0.6, 0.9, 0.7]
    out[0, 9] = 0.8
    assert spike_times(out)[0].tolist() == [3, 9]


def test_check_spike_train_accepts_exact_and_rejects_shifted_extra_or_missing_spikes():
    period, t = 10, 51
    exact = np.zeros((1, t))
    exact[0, [9, 19, 29, 39, 49]] = 1.0
    assert check_spike_train(exact, period).all()
    shifted = np.zeros((1, t))
    shifted[0, [9, 20, 29, 39, 49]] = 1.0
    assert not check_spike_train(shifted, period).any()
    assert check_spike_train(shifted, period, tolerance=1).all()
    extra = exact.copy()
    extra[0, 25] = 0.9
    assert not check_spike_train(extra, period, tolerance=2).any()
    missing = exact.copy()
    missing[0, 29] = 0.0
    assert not check_spike_train(missing, period, tolerance=2).any()


def test_gts_criterion_rejects_a_spike_one_step_late():
    task = GTSTask(GTSConfig(period=6, n_spikes=3))
    batch = task.sample(np.random.default_rng(3), 1)
    late = np.zeros_like(batch.y)
    late[:, 1:] = batch.y[:, :-1]  # every spike one step late; the last one falls off the end
    assert not task.correct(late, batch).any()
    assert not task.spike_train_correct(late, batch).any()
    assert task.spike_train_correct(late, batch, tolerance=1).all()


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (MSDConfig, {"delays": (0,)}, "at least 2 delays"),
        (MSDConfig, {"delays": (1, 1)}, "distinct"),
        (MSDConfig, {"delays": (-1, 0)}, "delay must be an int >= 0"),
        (MSDConfig, {"n_spikes": 0}, "n_spikes must be an int >= 1"),
        (MSDConfig, {"tolerance": 0}, "tolerance"),
        (GTSConfig, {"period": 1}, "period must be an int >= 2"),
        (GTSConfig, {"n_spikes": 0}, "n_spikes"),
        (GTSConfig, {"delays": ()}, "delays must be"),
    ],
)
def test_bad_configs_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)
