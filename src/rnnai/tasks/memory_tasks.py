"""Tasks for memory-augmented nets: the 22-symbol chunker task, formal languages, NTM copy/recall.

Citations:
    J. Schmidhuber. Learning complex, extended sequences using the principle of history
    compression. Neural Computation 4(2):234-242, 1992 (the 22-symbol experiment).
    G. Delétang, A. Ruoss, J. Grau-Moya, T. Genewein, L. K. Wenliang, E. Catt, C. Cundy, M. Hutter,
    S. Legg, J. Veness & P. A. Ortega. Neural networks and the Chomsky hierarchy. ICLR 2023
    (length-generalization protocol: train on lengths up to N, test on strictly longer strings,
    report accuracy per length).
    A. Graves, G. Wayne & I. Danihelka. Neural Turing Machines. arXiv:1410.5401, 2014 (copy and
    associative recall).

`TwentyTwoSymbolTask` (1992): 22 symbols a, x, b1..b20 coded locally; one unbroken stream of
``n_sequences`` subsequences, each a b1..b20 or x b1..b20 (a or x with probability 1/2). The
target (2 units: a, x) says which symbol began the current subsequence; it counts at the b20 step
(``target_at="end"``) or at every b step (``"all"``), so the net must bridge a 20-step lag.
Deviation: the paper's stream is unbounded; here one batch row is a finite stream, and a
network's state may be carried from batch to batch. Two options beyond the paper:
``random_phase`` starts each row at a random point of a subsequence (so parallel streams do not
all reach their targets together), and ``cycle=m`` replaces b1..b_lag by m symbols repeated
cyclically plus an end symbol that carries the target (long lags without a lag-sized alphabet).

Length-generalization tasks (`DyckTask`, `AnBnTask`, `ReversalTask`, `CopyTask`,
`AssociativeRecallTask`): each config has ``train_lengths`` and ``test_lengths`` (inclusive
ranges, the test range strictly above the training range) and ``split`` ("train" or "test")
choosing which range `sample` draws from, uniformly. The length is the task's size parameter
(string length, n, copied vectors, items), stored in ``info["length"]``; `accuracy_by_length`
makes Delétang et al.'s per-length report.

- `DyckTask`: membership of Dyck-k (k = ``n_pairs`` bracket kinds); half of the strings are
  balanced, the other half are balanced strings with one symbol replaced so that they are not; the
  answer (1 unit, 1 = balanced) is due at the last symbol. Lengths are even.
- `AnBnTask`: membership of a^n b^n (``letters=2``) or a^n b^n c^n (``letters=3``); negatives
  keep the order and the total length but have unequal counts. The length is n.
- `ReversalTask`: Delétang et al.'s "reverse string": n symbols, then n query steps during which
  the net outputs the string reversed (softmax over the symbols).
- `CopyTask` (Graves et al.): n random ``bits``-bit vectors, a delimiter step (an extra input
  channel), then n blank steps during which the net outputs the vectors (sigmoid, bit-wise);
  paper: 8 bits, training lengths 1-20, tests up to 120.
- `AssociativeRecallTask` (Graves et al.): n items of ``item_length`` vectors of ``bits`` bits,
  each preceded by an item delimiter; a query delimiter, a copy of one item (not the last), a
  query delimiter; then the net outputs the item that followed the queried one. Paper: 3 vectors
  of 6 bits per item, 2-6 items in training.

A sequence is correct when every masked output is right: within ``tolerance`` of the target for
sigmoid outputs, the target's argmax for softmax outputs.

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.memory_tasks import CopyConfig, CopyTask, TwentyTwoSymbolTask
    >>> task = CopyTask(CopyConfig(split="test"))
    >>> batch = task.sample(np.random.default_rng(0), 4)
    >>> bool((batch.info["length"] > 20).all()), task.correct(batch.y, batch).tolist()
    (True, [True, True, True, True])
    >>> b = TwentyTwoSymbolTask().sample(np.random.default_rng(0), 2)
    >>> b.x.shape, int(b.mask.sum(1)[0])
    ((2, 210, 22), 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import SequenceBatch, SequenceTask, masked_max_abs_error, one_hot

__all__ = [
    "AnBnConfig",
    "AnBnTask",
    "AssociativeRecallConfig",
    "AssociativeRecallTask",
    "CopyConfig",
    "CopyTask",
    "DyckConfig",
    "DyckTask",
    "ReversalConfig",
    "ReversalTask",
    "TwentyTwoSymbolConfig",
    "TwentyTwoSymbolTask",
    "accuracy_by_length",
]

Split = Literal["train", "test"]


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise RnnaiError(f"{name} must be an int >= {low}, got {value!r}")


def accuracy_by_length(
    correct: np.ndarray, lengths: np.ndarray, bucket: int = 1
) -> dict[int, float]:
    """Fraction correct per length bucket (Delétang et al.'s per-length report).

    Args:
        correct: (B,) bool, e.g. ``task.correct(output, batch)``.
        lengths: (B,) the task lengths, ``batch.info["length"]``.
        bucket: width of a bucket; a key is the bucket's smallest length.

    Returns:
        ``{bucket start: accuracy}`` in increasing order of length.
    """
    correct, lengths = np.asarray(correct, bool), np.asarray(lengths)
    if correct.shape != lengths.shape or correct.ndim != 1:
        raise RnnaiError(
            f"correct and lengths must both be (B,), got {correct.shape} and {lengths.shape}"
        )
    _check_int("bucket", bucket, 1)
    starts = (lengths // bucket) * bucket
    return {int(s): float(correct[starts == s].mean()) for s in np.unique(starts)}


# --------------------------------------------------------------------------------------------
# The 22-symbol task (1992)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TwentyTwoSymbolConfig:
    """The 22-symbol task of the 1992 history-compression paper."""

    n_sequences: int = 10
    """Subsequences (a|x, b1..b_lag) per stream."""
    lag: int = 20
    """The number of b symbols (paper: 20, so 22 symbols in all)."""
    target_at: Literal["end", "all"] = "end"
    """Where the a-or-x target counts: the last b only, or every b."""
    tolerance: float = 0.5
    """A target is met if both output units are within this of it."""
    cycle: int | None = None
    """None: the paper's b1..b_lag. An int m: the lag - 1 steps after a or x cycle through
    b1..b_m, and an end symbol e takes the last step (the target's step); the input units are
    a, x, b1..b_m, e (m + 3), so a long lag needs no long alphabet."""
    random_phase: bool = False
    """If true, each stream starts at a random step of a subsequence (uniform over its
    lag + 1 steps), so that parallel streams reach their targets at different steps; the
    targets of a stream's first, partial subsequence do not count."""

    def __post_init__(self) -> None:
        _check_int("n_sequences", self.n_sequences, 1)
        _check_int("lag", self.lag, 1)
        if self.cycle is not None:
            _check_int("cycle", self.cycle, 1)
            _check_int("lag (with a cycle)", self.lag, 2)
        if self.target_at not in ("end", "all"):
            raise RnnaiError(f"target_at must be 'end' or 'all', got {self.target_at!r}")
        if not 0 < self.tolerance <= 1:
            raise RnnaiError(f"tolerance must lie in (0, 1], got {self.tolerance!r}")


class TwentyTwoSymbolTask(SequenceTask):
    """Which of a and x began the current subsequence, 20 steps ago (unit order a, x, b1..b20).

    Options (`TwentyTwoSymbolConfig`): ``random_phase`` starts each stream at a random step of
    a subsequence (``info["phase"]``); ``cycle`` = m fills a long lag with the cycle b1..b_m and
    an end symbol e at the target's step (unit order a, x, b1..b_m, e).
    """

    name: ClassVar[str] = "twenty_two_symbol"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: TwentyTwoSymbolConfig | None = None) -> None:
        self.config = config or TwentyTwoSymbolConfig()

    @property
    def input_size(self) -> int:
        c = self.config
        return 2 + c.lag if c.cycle is None else 3 + c.cycle

    @property
    def output_size(self) -> int:
        return 2

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        period = c.lag + 1
        n = c.n_sequences + int(c.random_phase)  # one more to cut the phase from
        first = rng.integers(0, 2, size=(batch, n))  # 0: a, 1: x
        symbols = np.empty((batch, n, period), dtype=np.int64)
        symbols[:, :, 0] = first
        if c.cycle is None:
            symbols[:, :, 1:] = 2 + np.arange(c.lag)  # b1..b_lag
        else:
            symbols[:, :, 1:-1] = 2 + np.arange(c.lag - 1) % c.cycle  # b1..b_m b1..
            symbols[:, :, -1] = 2 + c.cycle  # e
        T = c.n_sequences * period
        y = np.repeat(one_hot(first, 2)[:, :, None, :], period, axis=2)  # (B, n, period, 2)
        mask = np.zeros((batch, n, period), dtype=bool)
        if c.target_at == "end":
            mask[:, :, -1] = True
        else:
            mask[:, :, 1:] = True
        phase = rng.integers(0, period, size=batch) if c.random_phase else np.zeros(batch, int)
        index = phase[:, None] + np.arange(T)  # (B, T)
        rows = np.arange(batch)[:, None]
        cut = (index < period) & (phase[:, None] > 0)  # a partial first subsequence
        stream = symbols.reshape(batch, -1)[rows, index]  # (B, T)
        return SequenceBatch(
            x=one_hot(stream, self.input_size),  # (B, T, 22)
            y=y.reshape(batch, -1, 2)[rows, index],
            mask=mask.reshape(batch, -1)[rows, index] & ~cut,
            lengths=np.full(batch, T),
            info={"first": first, "symbols": stream, "phase": phase},
        )

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        return masked_max_abs_error(output, batch) < self.config.tolerance


# --------------------------------------------------------------------------------------------
# Length-generalization tasks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _LengthSplitConfig:
    train_lengths: tuple[int, int] = (1, 40)
    """Inclusive range of training lengths."""
    test_lengths: tuple[int, int] = (41, 100)
    """Inclusive range of test lengths, strictly above ``train_lengths``."""
    split: Split = "train"
    """Which range `sample` draws from."""

    _min_length: ClassVar[int] = 1

    def __post_init__(self) -> None:
        for name in ("train_lengths", "test_lengths"):
            lo_hi = getattr(self, name)
            if not isinstance(lo_hi, tuple) or len(lo_hi) != 2:
                raise RnnaiError(f"{name} must be a (low, high) tuple, got {lo_hi!r}")
            _check_int(f"{name}[0]", lo_hi[0], self._min_length)
            _check_int(f"{name}[1]", lo_hi[1], lo_hi[0])
        if self.test_lengths[0] <= self.train_lengths[1]:
            raise RnnaiError(
                f"test_lengths must lie strictly above train_lengths={self.train_lengths}, got "
                f"{self.test_lengths}"
            )
        if self.split not in ("train", "test"):
            raise RnnaiError(f"split must be 'train' or 'test', got {self.split!r}")

    def lengths(self) -> tuple[int, int]:
        """The inclusive range of the current split."""
        return self.train_lengths if self.split == "train" else self.test_lengths


class _LengthTask(SequenceTask):
    """Shared sampling of lengths and padding for the length-generalization tasks."""

    config: Any

    def _draw_lengths(self, rng: np.random.Generator, batch: int, step: int = 1) -> np.ndarray:
        lo, hi = self.config.lengths()
        choices = np.arange(lo, hi + 1)
        choices = choices[choices % step == 0]
        if choices.size == 0:
            raise RnnaiError(f"no length in {lo}..{hi} is a multiple of {step}")
        return rng.choice(choices, size=batch)

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        if self.output_activation == "softmax":
            right = (output.argmax(-1) == batch.y.argmax(-1)) | ~batch.mask  # (B, T)
            return right.all(axis=1)
        return masked_max_abs_error(output, batch) < self.config.tolerance


def _pack(
    xs: list[np.ndarray], ys: list[np.ndarray], masks: list[np.ndarray], info: dict[str, Any]
) -> SequenceBatch:
    """Pad per-sequence (T_i, I), (T_i, O), (T_i,) arrays into a batch."""
    B, T = len(xs), max(len(x) for x in xs)
    x = np.zeros((B, T, xs[0].shape[1]), np.float32)
    y = np.zeros((B, T, ys[0].shape[1]), np.float32)
    mask = np.zeros((B, T), bool)
    for i in range(B):
        n = len(xs[i])
        x[i, :n], y[i, :n], mask[i, :n] = xs[i], ys[i], masks[i]
    lengths = np.array([len(v) for v in xs])
    return SequenceBatch(x=x, y=y, mask=mask, lengths=lengths, info=info)


def _is_dyck(seq: np.ndarray, n_pairs: int) -> bool:
    """Whether symbols (open k = 2k, close k = 2k + 1) form a balanced string."""
    stack: list[int] = []
    for s in seq.tolist():
        if s % 2 == 0:
            stack.append(s)
        elif not stack or stack.pop() != s - 1:
            return False
    return not stack


def _random_dyck(rng: np.random.Generator, length: int, n_pairs: int) -> np.ndarray:
    seq = np.empty(length, np.int64)
    stack: list[int] = []
    for t in range(length):
        remaining = length - t
        if stack and (remaining == len(stack) or rng.random() < 0.5):
            seq[t] = stack.pop() + 1
        else:
            seq[t] = 2 * int(rng.integers(n_pairs))
            stack.append(int(seq[t]))
    return seq


@dataclass(frozen=True, kw_only=True)
class DyckConfig(_LengthSplitConfig):
    """Dyck-k membership; lengths are even string lengths."""

    n_pairs: int = 1
    """k, the bracket kinds (1: Dyck-1, 2: Dyck-2)."""
    tolerance: float = 0.5
    """The answer is right if within this of the target."""
    train_lengths: tuple[int, int] = (2, 40)
    test_lengths: tuple[int, int] = (42, 100)

    _min_length: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("n_pairs", self.n_pairs, 1)


class DyckTask(_LengthTask):
    """Is the bracket string balanced? Answer (1 unit) at the last symbol."""

    name: ClassVar[str] = "dyck"
    output_activation = "sigmoid"
    loss = "bce"

    def __init__(self, config: DyckConfig | None = None) -> None:
        self.config = config or DyckConfig()

    @property
    def input_size(self) -> int:
        return 2 * self.config.n_pairs

    @property
    def output_size(self) -> int:
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        lengths = self._draw_lengths(rng, batch, step=2)
        label = rng.integers(0, 2, size=batch)
        xs, ys, ms = [], [], []
        for n, positive in zip(lengths.tolist(), label.tolist(), strict=True):
            seq = _random_dyck(rng, n, c.n_pairs)
            while not positive and _is_dyck(seq, c.n_pairs):
                seq = seq.copy()
                seq[rng.integers(n)] = rng.integers(2 * c.n_pairs)
            y = np.zeros((n, 1), np.float32)
            y[-1, 0] = positive
            m = np.zeros(n, bool)
            m[-1] = True
            xs.append(one_hot(seq, self.input_size))
            ys.append(y)
            ms.append(m)
        return _pack(xs, ys, ms, {"length": lengths, "label": label})


@dataclass(frozen=True, kw_only=True)
class AnBnConfig(_LengthSplitConfig):
    """a^n b^n (c^n) membership; the length is n."""

    letters: Literal[2, 3] = 2
    """2: a^n b^n; 3: a^n b^n c^n."""
    tolerance: float = 0.5
    """The answer is right if within this of the target."""
    train_lengths: tuple[int, int] = (1, 20)
    test_lengths: tuple[int, int] = (21, 50)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.letters not in (2, 3):
            raise RnnaiError(f"letters must be 2 or 3, got {self.letters!r}")


class AnBnTask(_LengthTask):
    """Is a^i b^j (c^k) of the form a^n b^n (c^n)? Answer (1 unit) at the last symbol."""

    name: ClassVar[str] = "anbn"
    output_activation = "sigmoid"
    loss = "bce"

    def __init__(self, config: AnBnConfig | None = None) -> None:
        self.config = config or AnBnConfig()

    @property
    def input_size(self) -> int:
        return self.config.letters

    @property
    def output_size(self) -> int:
        return 1

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        k = self.config.letters
        ns = self._draw_lengths(rng, batch)
        label = rng.integers(0, 2, size=batch)
        xs, ys, ms, counts = [], [], [], np.empty((batch, k), np.int64)
        for i, (n, positive) in enumerate(zip(ns.tolist(), label.tolist(), strict=True)):
            c = np.full(k, n)
            if not positive:  # move 1..n symbols from one block to another: same length, unequal
                src, dst = rng.choice(k, size=2, replace=False)
                d = int(rng.integers(1, n + 1))
                c[src] -= d
                c[dst] += d
            counts[i] = c
            seq = np.repeat(np.arange(k), c)
            y = np.zeros((len(seq), 1), np.float32)
            y[-1, 0] = positive
            m = np.zeros(len(seq), bool)
            m[-1] = True
            xs.append(one_hot(seq, k))
            ys.append(y)
            ms.append(m)
        return _pack(xs, ys, ms, {"length": ns, "label": label, "counts": counts})


@dataclass(frozen=True, kw_only=True)
class ReversalConfig(_LengthSplitConfig):
    """String reversal; the length is the string's."""

    n_symbols: int = 2
    """The alphabet's size (Delétang et al.: binary strings)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("n_symbols", self.n_symbols, 2)


class ReversalTask(_LengthTask):
    """Read n symbols, then output them in reverse order during n query steps."""

    name: ClassVar[str] = "reversal"
    output_activation = "softmax"
    loss = "cross_entropy"

    def __init__(self, config: ReversalConfig | None = None) -> None:
        self.config = config or ReversalConfig()

    @property
    def input_size(self) -> int:
        return self.config.n_symbols + 1  # the symbols and the query marker

    @property
    def output_size(self) -> int:
        return self.config.n_symbols

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        S = self.config.n_symbols
        ns = self._draw_lengths(rng, batch)
        xs, ys, ms = [], [], []
        for n in ns.tolist():
            s = rng.integers(0, S, size=n)
            x = np.zeros((2 * n, S + 1), np.float32)
            x[:n] = one_hot(s, S + 1)
            x[n:, S] = 1.0  # query steps
            y = np.zeros((2 * n, S), np.float32)
            y[n:] = one_hot(s[::-1], S)
            xs.append(x)
            ys.append(y)
            ms.append(np.arange(2 * n) >= n)
        return _pack(xs, ys, ms, {"length": ns})


@dataclass(frozen=True, kw_only=True)
class CopyConfig(_LengthSplitConfig):
    """The NTM copy task; the length is the number of vectors."""

    bits: int = 8
    """Bits per vector (paper: 8)."""
    tolerance: float = 0.5
    """A bit is right if the output is within this of it."""
    train_lengths: tuple[int, int] = (1, 20)
    test_lengths: tuple[int, int] = (21, 120)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("bits", self.bits, 1)


class CopyTask(_LengthTask):
    """Read n random bit vectors and a delimiter, then output the n vectors."""

    name: ClassVar[str] = "ntm_copy"
    output_activation = "sigmoid"
    loss = "bce"

    def __init__(self, config: CopyConfig | None = None) -> None:
        self.config = config or CopyConfig()

    @property
    def input_size(self) -> int:
        return self.config.bits + 1  # the bits and the delimiter channel

    @property
    def output_size(self) -> int:
        return self.config.bits

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        nbits = self.config.bits
        ns = self._draw_lengths(rng, batch)
        xs, ys, ms = [], [], []
        for n in ns.tolist():
            v = rng.integers(0, 2, size=(n, nbits)).astype(np.float32)
            x = np.zeros((2 * n + 1, nbits + 1), np.float32)
            x[:n, :nbits] = v
            x[n, nbits] = 1.0  # delimiter
            y = np.zeros((2 * n + 1, nbits), np.float32)
            y[n + 1 :] = v
            xs.append(x)
            ys.append(y)
            ms.append(np.arange(2 * n + 1) > n)
        return _pack(xs, ys, ms, {"length": ns})


@dataclass(frozen=True, kw_only=True)
class AssociativeRecallConfig(_LengthSplitConfig):
    """The NTM associative recall task; the length is the number of items."""

    bits: int = 6
    """Bits per vector (paper: 6)."""
    item_length: int = 3
    """Vectors per item (paper: 3)."""
    tolerance: float = 0.5
    """A bit is right if the output is within this of it."""
    train_lengths: tuple[int, int] = (2, 6)
    test_lengths: tuple[int, int] = (7, 20)

    _min_length: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int("bits", self.bits, 1)
        _check_int("item_length", self.item_length, 1)


class AssociativeRecallTask(_LengthTask):
    """Read n items, then a query item; output the item that followed it."""

    name: ClassVar[str] = "ntm_recall"
    output_activation = "sigmoid"
    loss = "bce"

    def __init__(self, config: AssociativeRecallConfig | None = None) -> None:
        self.config = config or AssociativeRecallConfig()

    @property
    def input_size(self) -> int:
        return self.config.bits + 2  # the bits, the item delimiter, the query delimiter

    @property
    def output_size(self) -> int:
        return self.config.bits

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        c = self.config
        nb, il = c.bits, c.item_length
        ns = self._draw_lengths(rng, batch)
        query = np.array([rng.integers(0, n - 1) for n in ns.tolist()])
        xs, ys, ms = [], [], []
        for n, q in zip(ns.tolist(), query.tolist(), strict=True):
            items = rng.integers(0, 2, size=(n, il, nb)).astype(np.float32)
            start = n * (il + 1)  # where the query begins
            answer = start + il + 2  # where the answer begins
            x = np.zeros((answer + il, nb + 2), np.float32)
            for i in range(n):
                x[i * (il + 1), nb] = 1.0  # item delimiter
                x[i * (il + 1) + 1 : (i + 1) * (il + 1), :nb] = items[i]
            x[start, nb + 1] = 1.0  # query delimiter
            x[start + 1 : start + 1 + il, :nb] = items[q]
            x[start + 1 + il, nb + 1] = 1.0
            y = np.zeros((answer + il, nb), np.float32)
            y[answer:] = items[q + 1]
            xs.append(x)
            ys.append(y)
            ms.append(np.arange(answer + il) >= answer)
        return _pack(xs, ys, ms, {"length": ns, "query": query})
