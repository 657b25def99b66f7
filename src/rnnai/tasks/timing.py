"""Precise timing: measuring spike delays (MSD) and generating timed spikes (GTS).

Citation:
    F. A. Gers, N. N. Schraudolph and J. Schmidhuber. Learning precise timing with LSTM recurrent
    networks. Journal of Machine Learning Research 3:115-143, 2002 (an earlier version: F. A. Gers
    and J. Schmidhuber, Recurrent nets that time and count, IJCNN 2000, pp. 189-194).

Sources and what is verified. The paper's full text was not available here. Verified from the
abstract (jmlr.org/papers/v3/gers02a.html): peephole LSTM "can learn the fine distinction between
sequences of spikes spaced either 50 or 49 time steps apart without the help of any short
training exemplars" and, "without external resets or teacher forcing", learns "to generate stable
streams of precisely timed spikes". Everything else below comes from one detailed secondary
summary of the paper (a reader's notes, found in the code index; not checked against the paper,
so *unverified*): MSD spikes come at T(n) = T(n-1) + F + I(n), T(1) = F + I(1), with F a
constant and I(n) the delay of interval n (I(n) in {0, 1} for the 49-vs-50 task, F = 49); the
single output must give I(n) at step T(n); the continual version has about 100 spikes per
stream, the non-continual version ("NMSD") one interval per stream; a stream is cut at the
first absolute error >= 0.49; training succeeds after 100 correct spikes in a row, the test
after 1,000. GTS "exchanges the input and the target" of MSD; the summary says the paper does
not spell out GTS's input/output layout and that its inputs are mostly zero.

MSD (measure spike delays), `MSDTask`. One input unit: 1.0 at the spike steps T(1), T(2), ...,
0.0 otherwise; step t = 1 is the stream's first step (the net starts from its reset state at
t = 0, so the first interval is timed from the stream's start, as T(1) = F + I(1) says). One
output unit: its target at step T(n) is I(n); error signals only at the spike steps (``mask``;
whether the paper also had targets between spikes is unverified). ``n_spikes`` = 1 is the
non-continual task, ~100 the continual one. A stream is right if every judged output is within
``tolerance`` (0.49) of its target. Spike steps are stored zero-based in ``info["spikes"]``
(step T(n) is index T(n) - 1).

GTS (generate timed spikes), `GTSTask`, our reading of "input and target exchanged": the target
is MSD's spike train (1.0 at T(n), 0.0 elsewhere, error at every step), the input carries the
delays I(n). With the default ``delays=(0,)`` (a fixed period F, our choice of default) the
input is all zeros and the net must generate the spikes from its own dynamics, free-running
from the reset state: no teacher forcing (the output is never fed back) and no external reset.
With several delays, I(n) is given on the input at the first step of interval n (index T(n-1),
index 0 for n = 1), so the net knows how long to wait (our choice; unverified). A stream is
right if every step is within ``tolerance`` of its target; `check_spike_train` and
`GTSTask.spike_train_correct` judge a stream by its detected spike times instead, and
`GTSTask.test_batch` gives one long stream for the free-running test (the paper's: 1,000 spikes).

Examples:
    >>> from rnnai.tasks.timing import GTSConfig, GTSTask
    >>> task = GTSTask(GTSConfig(period=5))
    >>> batch = task.test_batch(3)
    >>> [int(t) for t in (batch.y[0, :, 0] > 0.5).nonzero()[0]]  # spikes every 5 steps
    [4, 9, 14]
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


def _spikes_match(found: np.ndarray, expected: np.ndarray, length: int, tolerance: int) -> bool:
    """One detected spike within ``tolerance`` of each expected one, and no other spike."""
    found = found[found < length]
    expected = expected[expected < length]
    # a spike whose tolerance window is cut by the end may be missing
    if found.size == expected.size - 1 and expected[-1] + tolerance >= length:
        expected = expected[:-1]
    return found.size == expected.size and bool(np.all(np.abs(found - expected) <= tolerance))


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
        first: step (zero-based) of the first expected spike per sequence (default
            ``period - 1``: the spike at T(1) = period, counting the first step as t = 1).
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
    first_arr = np.broadcast_to(np.asarray(period - 1 if first is None else first), (b,))
    ok = np.zeros(b, dtype=bool)
    for i, found in enumerate(spikes):
        expected = np.arange(int(first_arr[i]), int(lengths[i]), period)
        ok[i] = _spikes_match(found, expected, int(lengths[i]), tolerance)
    return ok


def _check_delays(delays: object) -> tuple[int, ...]:
    values = tuple(delays) if isinstance(delays, tuple | list) else ()
    if not values or len(set(values)) != len(values):
        raise RnnaiError(f"delays must be a non-empty tuple of distinct ints, got {delays!r}")
    for value in values:
        _check_int("every delay", value, 0)
    return tuple(int(v) for v in values)


def _spike_schedule(
    rng: np.random.Generator, batch: int, period: int, delays: tuple[int, ...], n_spikes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw I(n) and the zero-based spike steps T(n) - 1 with T(n) = T(n-1) + F + I(n), T(0) = 0.

    Returns:
        (delays (B, n_spikes) int64, spike steps (B, n_spikes) int64).
    """
    drawn = np.asarray(delays, dtype=np.int64)[rng.integers(0, len(delays), (batch, n_spikes))]
    times = np.cumsum(period + drawn, axis=1) - 1
    return drawn, times


@dataclass(frozen=True, kw_only=True)
class MSDConfig:
    """Configuration of the MSD task (measure spike delays; paper defaults, unverified)."""

    period: int = 49
    """F: the constant part of every interval (49: spikes 49 or 50 steps apart)."""
    delays: tuple[int, ...] = (0, 1)
    """The possible I(n); the target at spike n is I(n)."""
    n_spikes: int = 100
    """Spikes per stream: 1 is the paper's non-continual task, ~100 its continual one."""
    tolerance: float = 0.49
    """A stream is right if the absolute error at every spike is below this."""

    def __post_init__(self) -> None:
        _check_int("period", self.period, 1)
        object.__setattr__(self, "delays", _check_delays(self.delays))
        if len(self.delays) < 2:
            raise RnnaiError(f"MSD needs at least 2 delays to tell apart, got {self.delays!r}")
        _check_int("n_spikes", self.n_spikes, 1)
        if not isinstance(self.tolerance, int | float) or self.tolerance <= 0:
            raise RnnaiError(f"tolerance must be a positive number, got {self.tolerance!r}")


class MSDTask(SequenceTask):
    """MSD: at each input spike T(n), output the delay I(n) of the interval that just ended.

    The output is sigmoid (the paper's, for I(n) in {0, 1}; the summary says the paper used a
    linear output for its larger delay sets).
    """

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
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        delays, times = _spike_schedule(rng, batch, c.period, c.delays, c.n_spikes)
        lengths = times[:, -1] + 1  # a stream ends with its last spike
        t_max = int(lengths.max())
        rows = np.arange(batch)[:, None]
        x = np.zeros((batch, t_max, 1), dtype=np.float32)
        x[rows, times, 0] = 1.0
        y = np.zeros((batch, t_max, 1), dtype=np.float32)
        y[rows, times, 0] = delays  # I(n) at T(n)
        mask = np.zeros((batch, t_max), dtype=bool)
        mask[rows, times] = True  # error signals only at the spikes
        return SequenceBatch(
            x=x, y=y, mask=mask, lengths=lengths, info={"delays": delays, "spikes": times}
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance


@dataclass(frozen=True, kw_only=True)
class GTSConfig:
    """Configuration of the GTS task (generate timed spikes)."""

    period: int = 10
    """F: the constant part of every interval (our default; the paper's Fs are unverified)."""
    delays: tuple[int, ...] = (0,)
    """The possible I(n); (0,): a fixed period F and an all-zero input."""
    n_spikes: int = 10
    """Target spikes per training stream (it ends with the last one)."""
    tolerance: float = 0.49
    """A stream is right if the absolute error at every step is below this."""

    def __post_init__(self) -> None:
        _check_int("period", self.period, 2)
        object.__setattr__(self, "delays", _check_delays(self.delays))
        _check_int("n_spikes", self.n_spikes, 1)
        if not isinstance(self.tolerance, int | float) or self.tolerance <= 0:
            raise RnnaiError(f"tolerance must be a positive number, got {self.tolerance!r}")


class GTSTask(SequenceTask):
    """GTS: emit the spike train T(n) = T(n-1) + F + I(n) free-running, no teacher forcing."""

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

    def _make(self, rng: np.random.Generator, batch: int, n_spikes: int) -> SequenceBatch:
        c = self.config
        delays, times = _spike_schedule(rng, batch, c.period, c.delays, n_spikes)
        lengths = times[:, -1] + 1
        t_max = int(lengths.max())
        rows = np.arange(batch)[:, None]
        starts = np.concatenate([np.zeros((batch, 1), dtype=np.int64), times[:, :-1] + 1], 1)
        x = np.zeros((batch, t_max, 1), dtype=np.float32)
        x[rows, starts, 0] = delays  # I(n) at the first step of interval n (zeros for (0,))
        y = np.zeros((batch, t_max, 1), dtype=np.float32)
        y[rows, times, 0] = 1.0
        valid = np.arange(t_max)[None, :] < lengths[:, None]
        return SequenceBatch(
            x=x,
            y=y,
            mask=valid,  # error signals at every step
            lengths=lengths,
            info={"delays": delays, "spikes": times},
        )

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        return self._make(rng, batch, self.config.n_spikes)

    def test_batch(self, n_spikes: int, rng: np.random.Generator | None = None) -> SequenceBatch:
        """One long stream with ``n_spikes`` target spikes, for a free-running test.

        ``rng`` draws the delays (needed only when there are several; default seed 0).
        """
        _check_int("n_spikes", n_spikes, 1)
        rng = np.random.default_rng(0) if rng is None else check_rng(rng)
        return self._make(rng, 1, n_spikes)

    def spike_train_correct(
        self, output: Any, batch: SequenceBatch, tolerance: int = 0
    ) -> np.ndarray:
        """(B,) whether the detected spikes (`spike_times`) match this batch's spike schedule:
        one within ``tolerance`` steps of each target spike and no other."""
        _check_int("tolerance", tolerance, 0)
        spikes = spike_times(output)
        return np.asarray(
            [
                _spikes_match(found, batch.info["spikes"][i], int(batch.lengths[i]), tolerance)
                for i, found in enumerate(spikes)
            ],
            dtype=bool,
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance
