"""The Reber grammar, the embedded Reber grammar and the continual embedded Reber stream.

Citations:
    S. Hochreiter and J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735-1780,
    1997, Section 5.1 (Experiment 1: embedded Reber grammar), after A. Cleeremans,
    D. Servan-Schreiber and J. L. McClelland, Finite state automata and simple recurrent
    networks, Neural Computation 1(3):372-381, 1989.
    F. A. Gers, J. Schmidhuber and F. Cummins. Learning to forget: continual prediction with LSTM.
    Neural Computation 12(10):2451-2471, 2000 (continual embedded Reber grammar).

Task (1997, Exp. 1). Seven symbols B, T, P, S, X, V, E, each coded locally (one-hot, 7 input
and 7 output units). The Reber automaton (states 0..6, every branch taken with probability 1/2)::

    0 -B-> 1;  1 -T-> 2, 1 -P-> 3;  2 -S-> 2, 2 -X-> 4;  3 -T-> 3, 3 -V-> 5;
    4 -X-> 3, 4 -S-> 6;  5 -P-> 4, 5 -V-> 6;  6 -E-> end

An embedded Reber string is ``B c <Reber string> c E`` with c = T or P (probability 1/2 each): the
net must remember c across the inner string to predict the second-to-last symbol. The net reads a
string one symbol at a time and predicts the next symbol at every step; since the grammar is
non-deterministic, the target is the set of legal next symbols (multi-hot). A string of L symbols
gives L-1 input steps (the final E is only a target). The 1997 paper draws 256 training and 256
test strings (test strings not in the training set) and resets the net after each string.

Criterion per string (``criterion="threshold"``, `docs/PAPERS.md`): at every step every output
unit is on the correct side of 0.5 (above for legal next symbols, below for the others).
``criterion="most_active"`` is the alternative wording: the units of the legal next symbols are
always the most active ones (the smallest legal output exceeds the largest illegal one).

Continual version (Gers et al. 2000). Embedded strings are concatenated into one stream that is
never reset (``... T E B P ... P E B T ...``); after each final E the only legal next symbol is B.
The net is judged by how many symbols in a row it predicts correctly (the paper's success is 10^6
symbols in a row). `ContinualReberStream` continues a stream across calls, so a long stream can be
processed in chunks with the net's state carried over; `count_consecutive_correct` counts the run
of correctly predicted symbols at the start of a chunk.

Deviations: none in the task itself. The criterion wording differs between sources, hence both
options (default: the threshold criterion of `docs/PAPERS.md`).

Examples:
    >>> import numpy as np
    >>> from rnnai.tasks.reber import reber_datasets, sample_reber_strings
    >>> s = sample_reber_strings(np.random.default_rng(0), 1)[0]
    >>> s[0], s[-1], s[1] == s[-2]  # B c ... c E
    ('B', 'E', True)
    >>> train, test = reber_datasets(np.random.default_rng(0), 8, 8)
    >>> train.batch_size, test.batch_size
    (8, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.tasks.base import (
    SequenceBatch,
    SequenceTask,
    as_output_array,
    check_batch_size,
    check_rng,
    one_hot,
)

__all__ = [
    "SYMBOLS",
    "ContinualEmbeddedReber",
    "ContinualReberConfig",
    "ContinualReberStream",
    "ReberConfig",
    "ReberTask",
    "count_consecutive_correct",
    "reber_datasets",
    "reber_step_correct",
    "sample_reber_strings",
    "strings_to_batch",
]

SYMBOLS = "BTPSXVE"
"""The seven symbols in the order of the input/output units."""
_B, _T, _P, _S, _X, _V, _E = range(7)
_N_SYMBOLS = 7

Criterion = Literal["threshold", "most_active"]
_CRITERIA = ("threshold", "most_active")

# The Reber automaton: state -> ((symbol, next state), ...); -1 is the end state.
_REBER_EDGES: dict[int, tuple[tuple[int, int], ...]] = {
    0: ((_B, 1),),
    1: ((_T, 2), (_P, 3)),
    2: ((_S, 2), (_X, 4)),
    3: ((_T, 3), (_V, 5)),
    4: ((_X, 3), (_S, 6)),
    5: ((_P, 4), (_V, 6)),
    6: ((_E, -1),),
}


@dataclass(frozen=True)
class _Automaton:
    """A finite automaton with at most two outgoing edges per state, as lookup tables."""

    n_edges: np.ndarray  # (S,) number of outgoing edges
    edge_symbol: np.ndarray  # (S, 2) symbol on each edge (-1: none)
    edge_next: np.ndarray  # (S, 2) target state of each edge
    legal: np.ndarray  # (S, 7) float32 multi-hot of the symbols that may follow
    start: int
    end: int


def _build_automaton(embedded: bool, continual: bool) -> _Automaton:
    """The (embedded) Reber automaton; ``continual`` lets the end state emit the next B."""
    edges: dict[int, tuple[tuple[int, int], ...]] = {}
    if embedded:
        # 0 -B-> 1 -T-> inner copy at 2..8 (then 16 -T->) | -P-> inner copy at 9..15 (then 17 -P->)
        # 16/17 -> 18 -E-> 19 (end).
        edges[0] = ((_B, 1),)
        edges[1] = ((_T, 2), (_P, 9))
        for offset, after, c in ((2, 16, _T), (9, 17, _P)):
            for s, out in _REBER_EDGES.items():
                edges[offset + s] = tuple(
                    (sym, after if nxt == -1 else offset + nxt) for sym, nxt in out
                )
            edges[after] = ((c, 18),)
        edges[18] = ((_E, 19),)
        end = 19
    else:
        edges = {
            s: tuple((sym, 7 if nxt == -1 else nxt) for sym, nxt in out)
            for s, out in _REBER_EDGES.items()
        }
        end = 7
    edges[end] = ((_B, 1),) if continual else ()
    n = end + 1
    n_edges = np.zeros(n, dtype=np.int64)
    edge_symbol = np.full((n, 2), -1, dtype=np.int64)
    edge_next = np.tile(np.arange(n)[:, None], (1, 2))
    legal = np.zeros((n, _N_SYMBOLS), dtype=np.float32)
    for s, out in edges.items():
        n_edges[s] = len(out)
        for k, (sym, nxt) in enumerate(out):
            edge_symbol[s, k] = sym
            edge_next[s, k] = nxt
            legal[s, sym] = 1.0
    return _Automaton(n_edges, edge_symbol, edge_next, legal, start=0, end=end)


_AUTOMATA = {(e, c): _build_automaton(e, c) for e in (False, True) for c in (False, True)}


def _walk(rng: np.random.Generator, n: int, automaton: _Automaton) -> tuple[np.ndarray, ...]:
    """Walk ``n`` strings from the start to the end state in parallel.

    Returns ``symbols`` (n, L) int8 and ``states`` (n, L) int64, the state after each symbol;
    rows shorter than L are padded with symbol -1 and the end state.
    """
    state = np.full(n, automaton.start, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    symbols, states = [], []
    while active.any():
        branch = (rng.random(n) < 0.5) & (automaton.n_edges[state] == 2)  # each branch p = 1/2
        k = branch.astype(np.int64)
        sym = np.where(active, automaton.edge_symbol[state, k], -1)
        state = np.where(active, automaton.edge_next[state, k], state)
        symbols.append(sym.astype(np.int8))
        states.append(state)
        active &= state != automaton.end
    return np.stack(symbols, axis=1), np.stack(states, axis=1)


def _check_criterion(criterion: str) -> None:
    if criterion not in _CRITERIA:
        raise RnnaiError(f"criterion must be one of {_CRITERIA}, got {criterion!r}")


def reber_step_correct(
    output: np.ndarray, targets: np.ndarray, criterion: Criterion = "threshold"
) -> np.ndarray:
    """(B, T) bool: whether the prediction at each step is right.

    Args:
        output: (B, T, 7) network outputs.
        targets: (B, T, 7) multi-hot legal next symbols.
        criterion: ``"threshold"``: every unit on the correct side of 0.5; ``"most_active"``: the
            legal symbols' units are the most active ones.
    """
    _check_criterion(criterion)
    legal = targets > 0.5
    if criterion == "threshold":
        return np.asarray(np.where(legal, output > 0.5, output < 0.5).all(axis=-1))
    lowest_legal = np.where(legal, output, np.inf).min(axis=-1)
    highest_illegal = np.where(legal, -np.inf, output).max(axis=-1)
    return lowest_legal > highest_illegal


def count_consecutive_correct(
    output: Any, batch: SequenceBatch, criterion: Criterion = "threshold"
) -> np.ndarray:
    """(B,) int64: how many masked steps in a row, from the start, are predicted right.

    Equals ``batch.mask.sum(1)`` for a sequence without any error; to follow a stream across
    chunks, add the counts while every chunk is entirely right.
    """
    out = as_output_array(output, batch)
    ok = reber_step_correct(out, batch.y, criterion) | ~batch.mask  # (B, T)
    masked_before = np.cumsum(batch.mask, axis=1) - batch.mask  # masked steps before t
    fail = ~ok
    first = fail.argmax(axis=1)
    n_ok = masked_before[np.arange(batch.batch_size), first]
    return np.where(fail.any(axis=1), n_ok, batch.mask.sum(axis=1)).astype(np.int64)


def _batch_from_strings(symbols: np.ndarray, states: np.ndarray, automaton: _Automaton):
    """Next-symbol prediction batch from walked strings: L-1 input steps per string of L."""
    n_symbols = (symbols >= 0).sum(axis=1)
    lengths = n_symbols - 1
    t_max = int(lengths.max())
    valid = np.arange(t_max)[None, :] < lengths[:, None]  # (B, T)
    inputs = np.where(valid, symbols[:, :t_max], -1)
    x = one_hot(inputs, _N_SYMBOLS)  # (B, T, 7)
    y = automaton.legal[states[:, :t_max]] * valid[:, :, None]  # legal successors, (B, T, 7)
    return SequenceBatch(x=x, y=y, mask=valid, lengths=lengths, info={"symbols": symbols})


def sample_reber_strings(rng: np.random.Generator, n: int, embedded: bool = True) -> list[str]:
    """``n`` random (embedded) Reber strings, e.g. ``"BTBTXSETE"``."""
    symbols, _ = _walk(check_rng(rng), check_batch_size(n), _AUTOMATA[(embedded, False)])
    return ["".join(SYMBOLS[s] for s in row if s >= 0) for row in symbols]


def strings_to_batch(strings: list[str], embedded: bool = True) -> SequenceBatch:
    """The prediction batch of given strings; ValueError if one is not in the grammar."""
    if len(strings) == 0:
        raise RnnaiError("strings must not be empty")
    automaton = _AUTOMATA[(embedded, False)]
    length = max(len(s) for s in strings)
    symbols = np.full((len(strings), length), -1, dtype=np.int8)
    states = np.full((len(strings), length), automaton.end, dtype=np.int64)
    kind = "embedded Reber" if embedded else "Reber"
    for i, string in enumerate(strings):
        state = automaton.start
        for t, char in enumerate(string):
            sym = SYMBOLS.find(char)
            k = np.flatnonzero(automaton.edge_symbol[state, : automaton.n_edges[state]] == sym)
            if sym < 0 or k.size == 0:
                raise RnnaiError(f"{string!r} is not an {kind} string: {char!r} at position {t}")
            state = int(automaton.edge_next[state, k[0]])
            symbols[i, t], states[i, t] = sym, state
        if state != automaton.end or len(string) < 2:
            raise RnnaiError(f"{string!r} is not an {kind} string: it ends too early")
    return _batch_from_strings(symbols, states, automaton)


def reber_datasets(
    seed: int | np.random.Generator, n_train: int = 256, n_test: int = 256, embedded: bool = True
) -> tuple[SequenceBatch, SequenceBatch]:
    """The 1997 paper's fixed training and test sets (256 strings each by default).

    Training strings are drawn at random (repeats allowed); test strings are drawn at random too,
    but strings that occur in the training set are not used for testing.

    Args:
        seed: an int seed or a ``numpy.random.Generator``.
        n_train: number of training strings.
        n_test: number of test strings.
        embedded: embedded Reber grammar (Exp. 1) or the plain Reber grammar.
    """
    rng = np.random.default_rng(seed) if isinstance(seed, int | np.integer) else check_rng(seed)
    train = sample_reber_strings(rng, check_batch_size(n_train), embedded)
    seen = set(train)
    test: list[str] = []
    n_test = check_batch_size(n_test)
    for _ in range(1000):
        test += [s for s in sample_reber_strings(rng, 2 * n_test, embedded) if s not in seen]
        if len(test) >= n_test:
            break
    else:  # pragma: no cover - the grammars have infinitely many strings
        raise RnnaiError("could not draw enough test strings outside the training set")
    return strings_to_batch(train, embedded), strings_to_batch(test[:n_test], embedded)


@dataclass(frozen=True, kw_only=True)
class ReberConfig:
    """Configuration of the (embedded) Reber next-symbol prediction task."""

    embedded: bool = True
    """True: embedded Reber grammar (1997, Exp. 1); False: the plain Reber grammar."""
    criterion: Criterion = "threshold"
    """Per-step correctness: "threshold" (all outputs on the right side of 0.5) or
    "most_active" (the legal symbols' units are the most active)."""

    def __post_init__(self) -> None:
        _check_criterion(self.criterion)


class ReberTask(SequenceTask):
    """Next-symbol prediction on random (embedded) Reber strings, one string per sequence."""

    name: ClassVar[str] = "reber"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: ReberConfig | None = None) -> None:
        self.config = config or ReberConfig()

    @property
    def input_size(self) -> int:
        return _N_SYMBOLS

    @property
    def output_size(self) -> int:
        return _N_SYMBOLS

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        automaton = _AUTOMATA[(self.config.embedded, False)]
        symbols, states = _walk(rng, batch, automaton)
        return _batch_from_strings(symbols, states, automaton)

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        step_ok = reber_step_correct(output, batch.y, self.config.criterion)
        return (step_ok | ~batch.mask).all(axis=1)

    def datasets(
        self, seed: int | np.random.Generator, n_train: int = 256, n_test: int = 256
    ) -> tuple[SequenceBatch, SequenceBatch]:
        """The fixed training and test sets of `reber_datasets`."""
        return reber_datasets(seed, n_train, n_test, self.config.embedded)


class ContinualReberStream:
    """A never-reset stream of concatenated embedded Reber strings, read in chunks.

    Each row of the batch is an independent stream that starts at the beginning of a string;
    ``next(n)`` returns the next ``n`` symbols of every row with their legal successors, so
    consecutive chunks join seamlessly (carry the network's state across them).
    """

    def __init__(self, rng: np.random.Generator, batch: int = 1) -> None:
        self._rng = check_rng(rng)
        self._batch = check_batch_size(batch)
        self._automaton = _AUTOMATA[(True, True)]
        self._symbols = [np.empty(0, dtype=np.int8) for _ in range(self._batch)]
        self._states = [np.empty(0, dtype=np.int64) for _ in range(self._batch)]
        self.position = 0
        """How many symbols per row have been read so far."""

    def _refill(self, n: int) -> None:
        # Strings are drawn in blocks whose size depends only on the batch size, so the stream
        # does not depend on how it is cut into chunks.
        block = max(256, 4096 // self._batch)  # strings per row and draw
        while min(len(s) for s in self._symbols) < n:
            symbols, states = _walk(self._rng, self._batch * block, self._automaton)
            symbols = symbols.reshape(self._batch, -1)  # each row's strings, in order, padded
            states = states.reshape(self._batch, -1)
            keep = symbols >= 0
            for i in range(self._batch):
                self._symbols[i] = np.concatenate([self._symbols[i], symbols[i, keep[i]]])
                self._states[i] = np.concatenate([self._states[i], states[i, keep[i]]])

    def next(self, n: int) -> SequenceBatch:
        """The next ``n`` symbols of every row as inputs, their legal successors as targets."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise RnnaiError(f"n must be a positive int, got {n!r}")
        self._refill(n)
        symbols = np.stack([s[:n] for s in self._symbols])  # (B, n)
        states = np.stack([s[:n] for s in self._states])
        self._symbols = [s[n:] for s in self._symbols]
        self._states = [s[n:] for s in self._states]
        self.position += n
        return SequenceBatch(
            x=one_hot(symbols, _N_SYMBOLS),
            y=self._automaton.legal[states],  # after E the next string's B, (B, n, 7)
            mask=np.ones((self._batch, n), dtype=bool),
            lengths=np.full(self._batch, n),
            info={"symbols": symbols},
        )


@dataclass(frozen=True, kw_only=True)
class ContinualReberConfig:
    """Configuration of the continual embedded Reber task (Gers et al. 2000)."""

    length: int = 1000
    """Symbols per sampled stream chunk (`ContinualEmbeddedReber.sample`)."""
    criterion: Criterion = "threshold"
    """Per-step correctness, as in `ReberConfig`."""

    def __post_init__(self) -> None:
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 1:
            raise RnnaiError(f"length must be a positive int, got {self.length!r}")
        _check_criterion(self.criterion)


class ContinualEmbeddedReber(SequenceTask):
    """Next-symbol prediction on a never-reset stream of embedded Reber strings.

    `sample` gives fresh streams of ``config.length`` symbols; `stream` gives an endless one.
    A sequence is correct when every symbol of it is predicted right.
    """

    name: ClassVar[str] = "continual_embedded_reber"
    output_activation = "sigmoid"
    loss = "mse"

    def __init__(self, config: ContinualReberConfig | None = None) -> None:
        self.config = config or ContinualReberConfig()

    @property
    def input_size(self) -> int:
        return _N_SYMBOLS

    @property
    def output_size(self) -> int:
        return _N_SYMBOLS

    def stream(self, rng: np.random.Generator, batch: int = 1) -> ContinualReberStream:
        """An endless stream per row, read chunk by chunk with ``.next(n)``."""
        return ContinualReberStream(rng, batch)

    def _sample(self, rng: np.random.Generator, batch: int) -> SequenceBatch:
        return ContinualReberStream(rng, batch).next(self.config.length)

    def _correct(self, output: np.ndarray, batch: SequenceBatch) -> np.ndarray:
        step_ok = reber_step_correct(output, batch.y, self.config.criterion)
        return (step_ok | ~batch.mask).all(axis=1)

    def consecutive_correct(self, output: Any, batch: SequenceBatch) -> np.ndarray:
        """(B,) symbols predicted right in a row from the chunk's start.

        See `count_consecutive_correct`.
        """
        return count_consecutive_correct(output, batch, self.config.criterion)
