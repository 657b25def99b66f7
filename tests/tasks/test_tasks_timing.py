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


@pytest.mark.parametrize("continuous", [False, True])
def test_msd_spikes_are_spaced_by_the_class_intervals(continuous):
    config = MSDConfig(intervals=(49, 50), n_spikes=6, continuous=continuous)
    task = MSDTask(config)
    batch = task.sample(np.random.default_rng(0), 64)
    spikes = batch.info["spikes"]
    for i in range(64):
        times = np.flatnonzero(batch.x[i, :, 0])
        np.testing.assert_array_equal(times, spikes[i])
        assert 0 <= times[0] <= 48 and batch.lengths[i] == times[-1] + 1
        gaps = np.diff(times)
        assert set(gaps) <= {49, 50}
        if not continuous:
            assert len(set(gaps)) == 1
        np.testing.assert_array_equal(np.flatnonzero(batch.mask[i]), times[1:])
        np.testing.assert_array_equal(batch.y[i, times[1:]].argmax(-1), gaps - 49)
        assert batch.y[i].sum() == len(gaps)
    mixed = [len(set(np.diff(s))) > 1 for s in spikes]
    assert any(mixed) == continuous


def test_msd_criterion_needs_every_spike_on_the_right_side_of_05():
    task = MSDTask()
    batch = task.sample(np.random.default_rng(1), 2)
    out = np.abs(batch.y - 0.45)
    assert task.correct(out, batch).all()
    t = batch.info["spikes"][0, 3]
    out[0, t] = 1.0 - batch.y[0, t]  # misclassify one spike
    assert task.correct(out, batch).tolist() == [False, True]


def test_gts_targets_spike_every_period_after_the_start_pulse():
    task = GTSTask(GTSConfig(period=7, n_spikes=4, max_onset=5))
    batch = task.sample(np.random.default_rng(2), 20)
    for i in range(20):
        onset = batch.info["onset"][i]
        assert np.flatnonzero(batch.x[i, :, 0]).tolist() == [onset]
        assert np.flatnonzero(batch.y[i, :, 0]).tolist() == [onset + 7 * k for k in (1, 2, 3, 4)]
        assert batch.lengths[i] == onset + 29 and batch.mask[i, : batch.lengths[i]].all()
    assert task.correct(batch.y, batch).all()
    assert task.spike_train_correct(batch.y, batch).all()


def test_gts_without_start_pulse_has_zero_input():
    batch = GTSTask(GTSConfig(start_pulse=False)).sample(np.random.default_rng(0), 2)
    assert not batch.x.any()


def test_gts_test_batch_is_a_long_free_running_stream():
    task = GTSTask(GTSConfig(period=5))
    batch = task.test_batch(200)
    assert batch.batch_size == 1 and batch.lengths[0] == 1001 and batch.y.sum() == 200


def test_spike_times_finds_the_peak_of_each_run():
    out = np.zeros((1, 12))
    out[0, 2:5] = [0.6, 0.9, 0.7]
    out[0, 9] = 0.8
    assert spike_times(out)[0].tolist() == [3, 9]


def test_check_spike_train_accepts_exact_and_rejects_shifted_extra_or_missing_spikes():
    period, t = 10, 51
    exact = np.zeros((1, t))
    exact[0, [10, 20, 30, 40, 50]] = 1.0
    assert check_spike_train(exact, period).all()
    shifted = np.zeros((1, t))
    shifted[0, [10, 21, 30, 40, 50]] = 1.0
    assert not check_spike_train(shifted, period).any()
    assert check_spike_train(shifted, period, tolerance=1).all()
    extra = exact.copy()
    extra[0, 25] = 0.9
    assert not check_spike_train(extra, period, tolerance=2).any()
    missing = exact.copy()
    missing[0, 30] = 0.0
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
        (MSDConfig, {"intervals": (50,)}, "at least 2 distinct"),
        (MSDConfig, {"intervals": (50, 50)}, "at least 2 distinct"),
        (MSDConfig, {"intervals": (1, 50)}, "interval must be an int >= 2"),
        (MSDConfig, {"n_spikes": 1}, "n_spikes must be an int >= 2"),
        (MSDConfig, {"max_onset": -1}, "max_onset"),
        (GTSConfig, {"period": 1}, "period must be an int >= 2"),
        (GTSConfig, {"n_spikes": 0}, "n_spikes"),
        (GTSConfig, {"start_pulse": False, "max_onset": 3}, "max_onset needs start_pulse"),
    ],
)
def test_bad_configs_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)
