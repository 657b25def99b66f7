"""Precise timing: measuring spike delays (MSD) and generating timed spikes (GTS).

Citation:
    F. A. Gers, N. N. Schraudolph and J. Schmidhuber. Learning precise timing with LSTM recurrent
    networks. Journal of Machine Learning Research 3:115-143, 2002 (an earlier version: F. A. Gers
    and J. Schmidhuber, Recurrent nets that time and count, IJCNN 2000, pp. 189-194).

The paper's claims: LSTM with peephole connections "can learn the fine distinction between
sequences of spikes spaced either 50 or 49 time steps apart without the help of any short
training exemplars" (MSD), and "without external resets or teacher forcing" learns to generate
stable streams of precisely timed spikes (GTS). The full text of the paper's task protocols could
not be checked here, so the definitions below are our reconstruction from those statements; every
choice that the claims do not pin down is a config field.

MSD (measure spike delays). One input unit carries sharp spikes: 1.0 for one step, 0.0
otherwise. Consecutive spikes are separated by an interval T taken from a set of classes
(default {49, 50}). At every spike after the first, the net must tell which interval has just
elapsed: one output unit per class, a one-hot target at the spike's step, and error signals only
at those steps (``mask``). With ``continuous=False`` a sequence has a single interval (the net is
reset between sequences); with ``continuous=True`` the interval is drawn afresh for every gap, so
the net must measure each delay without resets. The first spike comes at a random step in
0 .. ``max_onset`` (default: the shortest interval minus one) so that the net cannot time from the
sequence start. A sequence is right if at every spike every output is on the correct side of 0.5.

GTS (generate timed spikes). The targets of MSD become the task: the net must emit a spike
(target 1.0, else 0.0) every ``period`` steps, counted from a single start pulse on the one input
unit (``start_pulse=True``; otherwise the input is all zeros and the net must time from its
initial state). The net's output is never fed back (no teacher forcing) and the error counts at
every step. A sequence is right if every output is on the correct side of 0.5 at every step;
`check_spike_train` judges a freely generated stream by its detected spike times, with a timing
tolerance, and `GTSTask.test_batch` gives a long stream for that test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, check_rng, masked_max_abs_error

__all__ = [
    "GTSConfig",
    "GTSTask",
    "MSDConfig",
    "MSDTask",
    "check_spike_train",
    "spike_times",
]


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise RnnaiError(f"{name} must be an int >= {minimum}, got {value!r}")


def spike_times(output: Any, threshold: float = 0.5) -> list[np.ndarray]:
    """The spikes of each sequence: the step of the peak of every run above ``threshold``.

    Args:
        output: (B, T) or (B, T, 1) outputs.
        threshold: an output above it is part of a spike.

    Returns:
        One int64 array of spike steps per sequence.
    """
    out = np.asarray(output, dtype=np.float64)
    if out.ndim == 3 and out.shape[2] == 1:
        out = out[:, :, 0]
    if out.ndim != 2:
        raise RnnaiError(f"output must have shape (B, T) or (B, T, 1), got {out.shape}")
    result = []
    for row in out:
        above = np.concatenate([[False], row > threshold, [False]])
        edges = np.flatnonzero(np.diff(above.astype(np.int8)))  # run starts, run ends
        runs = edges.reshape(-1, 2)
        peaks = [start + int(np.argmax(row[start:end])) for start, end in runs]
        result.append(np.asarray(peaks, dtype=np.int64))
    return result


def check_spike_train(
    output: Any,
    period: int,
    first: int | np.ndarray | None = None,
    tolerance: int = 0,
    threshold: float = 0.5,
    lengths: np.ndarray | None = None,
) -> np.ndarray:
    """(B,) bool: whether each output stream spikes exactly every ``period`` steps.

    The expected spikes are at ``first + k * period`` (k = 0, 1, ...) up to each sequence's end;
    a stream is right if it has exactly one detected spike (`spike_times`) within ``tolerance``
    steps of each expected one and no other spike. Positions are absolute, so timing errors must
    not accumulate.

    Args:
        output: (B, T) or (B, T, 1) outputs of a freely running net.
        period: the spike period.
        first: step of the first expected spike per sequence (default ``period``).
        tolerance: allowed timing error of each spike, in steps.
        threshold: an output above it is part of a spike.
        lengths: (B,) valid steps per sequence (default: all T).
    """
    _check_int("period", period, 1)
    _check_int("tolerance", tolerance, 0)
    spikes = spike_times(output, threshold)
    b = len(spikes)
    t = np.asarray(output).shape[1]
    lengths = np.full(b, t) if lengths is None else np.asarray(lengths)
    first_arr = np.broadcast_to(np.asarray(period if first is None else first), (b,))
    ok = np.zeros(b, dtype=bool)
    for i, found in enumerate(spikes):
        expected = np.arange(int(first_arr[i]), int(lengths[i]), period)
        found = found[found < lengths[i]]
        # a spike whose tolerance window is cut by the end may be missing
        if found.size == expected.size - 1 and expected[-1] + tolerance >= lengths[i]:
            expected = expected[:-1]
        ok[i] = found.size == expected.size and bool(np.all(np.abs(found - expected) <= tolerance))
    return ok


@dataclass(frozen=True)
class MSDConfig:
    """Configuration of the MSD task (measure spike delays)."""

    intervals: tuple[int, ...] = (49, 50)
    """The possible delays between consecutive spikes, one class (output unit) each."""
    n_spikes: int = 10
    """Input spikes per sequence (the first one starts the first interval)."""
    continuous: bool = False
    """False: one interval per sequence; True: a fresh interval for every gap (no resets)."""
    max_onset: int | None = None
    """The first spike is at a random step in 0..max_onset; None: min(intervals) - 1."""
    tolerance: float = 0.5
    """A sequence is right if every output's absolute error at every spike is below this."""

    def __post_init__(self) -> None:
        intervals = tuple(self.intervals)
        if len(intervals) < 2 or len(set(intervals)) != len(intervals):
            raise RnnaiError(
                f"intervals must hold at least 2 distinct ints, got {self.intervals!r}"
            )
        for value in intervals:
            _check_int("every interval", value, 2)
        object.__setattr__(self, "intervals", tuple(int(v) for v in intervals))
        _check_int("n_spikes", self.n_spikes, 2)
        if self.max_onset is not None:
            _check_int("max_onset", self.max_onset, 0)
        if not isinstance(self.tolerance, int | float) or self.tolerance <= 0:
            raise RnnaiError(f"tolerance must be a positive number, got {self.tolerance!r}")

    @property
    def onset_limit(self) -> int:
        """The largest possible step of the first spike."""
        return min(self.intervals) - 1 if self.max_onset is None else self.max_onset


class MSDTask(SequenceTask):
    """MSD: at each input spike, classify the delay since the previous spike."""

    name: ClassVar[str] = "msd"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: MSDConfig | None = None) -> None:
        self.config = config or MSDConfig()

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return len(self.config.intervals)

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        k, n_gaps = len(c.intervals), c.n_spikes - 1
        if c.continuous:
            classes = rng.integers(0, k, size=(batch, n_gaps))  # a fresh interval per gap
        else:
            classes = np.repeat(rng.integers(0, k, size=(batch, 1)), n_gaps, axis=1)
        gaps = np.asarray(c.intervals)[classes]  # (B, n_spikes - 1)
        onset = rng.integers(0, c.onset_limit + 1, size=batch)
        times = onset[:, None] + np.concatenate(  # spike steps, (B, n_spikes)
            [np.zeros((batch, 1), dtype=np.int64), np.cumsum(gaps, axis=1)], axis=1
        )
        lengths = times[:, -1] + 1  # a sequence ends with its last spike
        t_max = int(lengths.max())
        rows = np.arange(batch)[:, None]
        x = np.zeros((batch, t_max, 1), dtype=np.float32)
        x[rows, times, 0] = 1.0
        y = np.zeros((batch, t_max, k), dtype=np.float32)
        y[rows, times[:, 1:], classes] = 1.0  # the interval that just ended
        mask = np.zeros((batch, t_max), dtype=bool)
        mask[rows, times[:, 1:]] = True  # error signals only at spikes
        return SequenceBatch(
            x=x, y=y, mask=mask, lengths=lengths, info={"classes": classes, "spikes": times}
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance


@dataclass(frozen=True)
class GTSConfig:
    """Configuration of the GTS task (generate timed spikes)."""

    period: int = 10
    """Steps between consecutive output spikes."""
    n_spikes: int = 10
    """Target spikes per training sequence (its length is n_spikes * period + onset + 1)."""
    start_pulse: bool = True
    """True: a single input spike marks the start; False: the input is all zeros."""
    max_onset: int = 0
    """The start pulse comes at a random step in 0..max_onset."""
    tolerance: float = 0.5
    """A sequence is right if every output's absolute error at every step is below this."""

    def __post_init__(self) -> None:
        _check_int("period", self.period, 2)
        _check_int("n_spikes", self.n_spikes, 1)
        _check_int("max_onset", self.max_onset, 0)
        if not self.start_pulse and self.max_onset:
            raise RnnaiError("max_onset needs start_pulse=True (nothing else marks the start)")
        if not isinstance(self.tolerance, int | float) or self.tolerance <= 0:
            raise RnnaiError(f"tolerance must be a positive number, got {self.tolerance!r}")


class GTSTask(SequenceTask):
    """GTS: emit a spike every ``period`` steps after the start, without teacher forcing."""

    name: ClassVar[str] = "gts"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: GTSConfig | None = None) -> None:
        self.config = config or GTSConfig()

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return 1

    def _make(self, onset: np.ndarray, n_spikes: int) -> SequenceBatch:
        c = self.config
        batch = onset.shape[0]
        lengths = onset + n_spikes * c.period + 1
        t_max = int(lengths.max())
        steps = np.arange(t_max)[None, :] - onset[:, None]  # steps since the start, (B, T)
        valid = np.arange(t_max)[None, :] < lengths[:, None]
        target = (steps > 0) & (steps % c.period == 0) & valid  # spikes at start + k * period
        x = np.zeros((batch, t_max, 1), dtype=np.float32)
        if c.start_pulse:
            x[np.arange(batch), onset, 0] = 1.0
        return SequenceBatch(
            x=x,
            y=target[:, :, None].astype(np.float32),
            mask=valid,  # error signals at every step
            lengths=lengths,
            info={"onset": onset},
        )

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        onset = rng.integers(0, self.config.max_onset + 1, size=batch)
        return self._make(onset, self.config.n_spikes)

    def test_batch(self, n_spikes: int, rng: np.random.Generator | None = None) -> SequenceBatch:
        """One long sequence with ``n_spikes`` target spikes, for a free-running test.

        The onset is 0 unless ``rng`` is given (then drawn as in `sample`).
        """
        _check_int("n_spikes", n_spikes, 1)
        onset = np.zeros(1, dtype=np.int64)
        if rng is not None:
            onset = check_rng(rng).integers(0, self.config.max_onset + 1, size=1)
        return self._make(onset, n_spikes)

    def spike_train_correct(
        self, output: Any, batch: SequenceBatch, tolerance: int = 0
    ) -> np.ndarray:
        """(B,) `check_spike_train` of the outputs against this batch's spike schedule."""
        first = batch.info["onset"] + self.config.period
        return check_spike_train(
            output, self.config.period, first=first, tolerance=tolerance, lengths=batch.lengths
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance
