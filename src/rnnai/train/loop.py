"""One checkpointed training loop: trials of a network on a data source, judged by a hook.

`run_trials` trains ``trials`` networks, one per trial, each from its own derived random streams
(`Seeds`, or any object with ``rng`` and ``torch_generator`` such as the runner's run context):

* a **data source** (`DataSource`) opens each trial's training data (`TrialData`), which hands
  the loop one loss at a time and the number of units (sequences or symbols) it counts. Built in:
  `TaskBatches` (fresh batches sampled from an `rnnai.tasks` task), `FixedSets` (sequences drawn
  with replacement from a fixed training set, the 1997 embedded Reber setup) and `StreamChunks`
  (an endless stream read chunk by chunk with the LSTM state carried, Gers et al. 2000);
* an **evaluation hook** (`Evaluation`) opens each trial's judge, called every
  ``config.eval_every`` units (and whenever the data says a check is due); it returns a `Check`,
  whose ``solved`` stops the trial (the papers' stop criteria). Built in: `TaskCriterion` (a
  task's per-sequence criterion on a fixed evaluation set) and `StreamRuns` (a stream's own run
  of right predictions);
* the optimizer (`make_optimizer`): plain SGD (the 1997 papers' online gradient descent), SGD
  with momentum (Gers et al. 2002) or Adam (a modern optimizer, always labelled as such).

The loop checkpoints through ``hooks.checkpointer`` (a `rnnai.train.hooks.Hooks`; the runner's run
context is one, `SilentHooks` the default) at every evaluation and after every trial: network,
optimizer, the data's own state (its generator, a stream's carried state) and the counters, so a
killed run resumed from its checkpoint ends with exactly the same results. Several calls in one
run share one checkpoint under distinct ``label`` s; a finished label returns its results and its
last trial's network from the checkpoint without training again.

`train_trials` is the short form for a task from `rnnai.tasks`.

Examples:
    >>> from rnnai.tasks import AddingTask
    >>> from rnnai.train.loop import TrainConfig, train_trials
    >>> from rnnai.train.sequence import NetConfig
    >>> run = train_trials(
    ...     AddingTask(), NetConfig(hidden=4),
    ...     TrainConfig(optimizer="adam", lr=0.01, batch=8, max_sequences=64, eval_every=32,
    ...                 eval_size=32, max_wrong=1, max_mean_error=0.01),
    ...     trials=1, seeds=0)
    >>> [r.sequences for r in run.results], run.net is not None
    ([64], True)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import (
    derive_seed,
    make_rng,
    numpy_rng_state,
    set_numpy_rng_state,
    torch_generator,
)
from rnnai.runtime.verdict import Evidence, location, success_rate
from rnnai.tasks.base import SequenceBatch, SequenceTask
from rnnai.train.hooks import Hooks, SilentHooks
from rnnai.train.sequence import (
    NetConfig,
    SequenceNet,
    evaluate,
    masked_sse,
    to_torch,
    variant_name,
)

__all__ = [
    "OPTIMIZERS",
    "Check",
    "DataSource",
    "Evaluation",
    "Evaluator",
    "FixedSets",
    "SeedStreams",
    "Seeds",
    "StreamChunks",
    "StreamRuns",
    "TaskBatches",
    "TaskCriterion",
    "TrainConfig",
    "TrainingRun",
    "TrialData",
    "TrialResult",
    "TrialStreams",
    "describe_setup",
    "make_optimizer",
    "run_trials",
    "sequences_evidence",
    "sequences_to_solve",
    "summarize",
    "train_trials",
]

OPTIMIZERS = ("sgd", "adam")
"""The optimizers `make_optimizer` builds ("sgd" takes an optional momentum)."""

_KEY = "train_loop"
"""The loop's part of a checkpoint: state key and tensor-name prefix."""


# ----------------------------------------------------------------------------- optimizer
def make_optimizer(
    parameters: Iterable[nn.Parameter],
    *,
    optimizer: str = "sgd",
    lr: float,
    momentum: float = 0.0,
) -> torch.optim.Optimizer:
    """The one optimizer factory of the library's loops.

    Args:
        parameters: The parameters to train.
        optimizer: "sgd" (gradient descent, with ``momentum`` if > 0) or "adam".
        lr: Learning rate (> 0).
        momentum: SGD momentum in [0, 1) (Gers et al. 2002 use 0.99-0.9999); must be 0 for Adam.
            torch's form v = m v + g, w -= lr v equals the classical dw = m dw - lr g at a
            constant learning rate.

    Returns:
        The torch optimizer.

    Raises:
        RnnaiError: For an unknown optimizer or an out-of-range lr or momentum.

    Examples:
        >>> net = torch.nn.Linear(2, 1)
        >>> type(make_optimizer(net.parameters(), optimizer="sgd", lr=0.1, momentum=0.9)).__name__
        'SGD'
    """
    _check_optimizer(optimizer, lr, momentum)
    if optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum)
    return torch.optim.Adam(parameters, lr=lr)


def _check_optimizer(optimizer: str, lr: float, momentum: float) -> None:
    if optimizer not in OPTIMIZERS:
        raise RnnaiError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not lr > 0:
        raise RnnaiError(f"lr must be > 0, got {lr}")
    if not 0.0 <= momentum < 1.0:
        raise RnnaiError(f"momentum must be in [0, 1), got {momentum}")
    if optimizer != "sgd" and momentum != 0.0:
        raise RnnaiError(f"momentum is an SGD option, got momentum {momentum} with {optimizer!r}")


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How a reproduction trains and when it stops.

    The loop reads the optimizer fields, ``max_sequences`` (the budget, in the data's units) and
    ``eval_every``; `train_trials` also reads ``batch`` and the criterion fields.

    Examples:
        >>> TrainConfig(optimizer="sgd", lr=0.5, max_sequences=40_000, eval_every=100).setup
        '1997 setup: online SGD, lr 0.5'
    """

    optimizer: Literal["sgd", "adam"] = "sgd"
    """"sgd" (the papers' gradient descent) or "adam" (a modern optimizer, labelled as such)."""
    lr: float = 0.1
    """Learning rate."""
    momentum: float = 0.0
    """SGD momentum (0: plain gradient descent)."""
    batch: int = 1
    """Sequences per weight update (1 = online, the 1997 setup)."""
    max_sequences: int = 10_000
    """Training budget per trial, in the data's units (sequences; symbols for a stream)."""
    eval_every: int = 1_000
    """Check the stop criterion (and checkpoint) every this many units."""
    eval_size: int = 512
    """Fresh sequences in the evaluation set (drawn once per trial)."""
    max_wrong: int = 0
    """Solved when at most this many evaluation sequences are wrong ..."""
    max_mean_error: float | None = None
    """... and (if set) the mean absolute error at the judged steps is at most this."""
    grad_clip: float | None = None
    """Clip the gradient norm (None: no clipping, as in the papers)."""

    def __post_init__(self) -> None:
        _check_optimizer(self.optimizer, self.lr, self.momentum)
        for name in ("batch", "max_sequences", "eval_every", "eval_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")
        if self.max_wrong < 0:
            raise RnnaiError(f"max_wrong must be >= 0, got {self.max_wrong}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise RnnaiError(f"grad_clip must be > 0 or None, got {self.grad_clip}")

    @property
    def setup(self) -> str:
        """A label saying which learning setup this is."""
        if self.optimizer == "sgd" and self.momentum > 0:
            online = "online " if self.batch == 1 else ""
            return f"{online}SGD with momentum {self.momentum}, lr {self.lr}, batch {self.batch}"
        if self.optimizer == "sgd" and self.batch == 1:
            return f"1997 setup: online SGD, lr {self.lr}"
        return f"modern setup: {self.optimizer} lr {self.lr}, batch {self.batch}"


def describe_setup(train: TrainConfig, net: NetConfig) -> str:
    """One line saying which network and learning setup a run used.

    Examples:
        >>> describe_setup(TrainConfig(lr=0.5), NetConfig(hidden=6))
        'lstm1997 LSTM, 6 cells; 1997 setup: online SGD, lr 0.5'
    """
    return f"{variant_name(net.variant)} LSTM, {net.hidden} cells; {train.setup}"


# ----------------------------------------------------------------------------- random streams
class SeedStreams(Protocol):
    """Derives named random streams (the runner's run context is one; so is `Seeds`)."""

    def rng(self, *keys: int | str) -> np.random.Generator:
        """A numpy generator for the stream ``keys``."""
        ...

    def torch_generator(self, *keys: int | str) -> torch.Generator:
        """A CPU torch generator for the stream ``keys``."""
        ...


@dataclass(frozen=True)
class Seeds:
    """Named random streams derived from one seed (`rnnai.runtime.seeding.derive_seed`).

    ``Seeds(seed, (name,))`` gives the streams of the runner's run context of experiment
    ``name``: ``rng(*keys)`` uses ``derive_seed(seed, name, *keys)``, ``torch_generator(*keys)``
    ``derive_seed(seed, name, "torch", *keys)``.

    Examples:
        >>> a, b = Seeds(0).rng("data", 1), Seeds(0).rng("data", 1)
        >>> int(a.integers(1000)) == int(b.integers(1000))
        True
    """

    seed: int
    namespace: tuple[int | str, ...] = ()

    def rng(self, *keys: int | str) -> np.random.Generator:
        """A numpy generator for the stream ``keys``."""
        return make_rng(derive_seed(self.seed, *self.namespace, *keys))

    def torch_generator(self, *keys: int | str) -> torch.Generator:
        """A CPU torch generator for the stream ``keys``."""
        return torch_generator(derive_seed(self.seed, *self.namespace, "torch", *keys))


KeyFn = Callable[[str, int], tuple[int | str, ...]]
"""Maps (purpose, trial) to stream keys; purposes: "init", "data", "eval", "sets"."""


@dataclass(frozen=True)
class TrialStreams:
    """The random streams of one trial: ``rng(purpose)`` and ``torch_generator(purpose)``.

    Attributes:
        seeds: Where the streams come from.
        trial: The trial index.
        keys: Maps (purpose, trial) to the stream's keys (default of `run_trials`:
            ``(label, purpose, trial)``).
    """

    seeds: SeedStreams
    trial: int
    keys: KeyFn

    def rng(self, purpose: str) -> np.random.Generator:
        """The trial's numpy generator for ``purpose`` ("data", "eval", "sets", ...)."""
        return self.seeds.rng(*self.keys(purpose, self.trial))

    def torch_generator(self, purpose: str) -> torch.Generator:
        """The trial's torch generator for ``purpose`` ("init": the initial weights)."""
        return self.seeds.torch_generator(*self.keys(purpose, self.trial))


# ----------------------------------------------------------------------------- protocols
@dataclass(frozen=True, kw_only=True)
class Check:
    """One evaluation of a trial's network.

    Attributes:
        solved: The stop criterion holds (the trial ends).
        row: Learning-curve values after the unit count (e.g. mean training loss, wrong
            fraction, mean error).
        wrong: Evaluation items judged wrong.
        size: Evaluation items judged.
        error: The evaluation's mean error (task-defined; nan when there is none).
    """

    solved: bool
    row: tuple[float, ...] = ()
    wrong: int = 0
    size: int = 0
    error: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**asdict(self), "row": list(self.row)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        """Inverse of `to_dict`."""
        return cls(**{**d, "row": tuple(d["row"])})


class TrialData(Protocol):
    """One trial's training data, as the loop uses it."""

    def next_loss(self, net: nn.Module) -> tuple[torch.Tensor, int]:
        """The loss of the next training batch (to minimize) and the units it counts."""
        ...

    def due(self) -> bool:
        """Whether an evaluation is due now besides the regular ones (e.g. a stop rule fired)."""
        ...

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors and JSON-able state that `restore` needs to continue exactly."""
        ...

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Continue from a `state` of a freshly opened trial of the same source."""
        ...


class DataSource(Protocol):
    """Opens each trial's training data."""

    def open(self, streams: TrialStreams) -> TrialData:
        """The training data of one trial, drawn from the trial's streams only."""
        ...


Evaluator = Callable[[nn.Module, float], Check]
"""Judges a network; the float is the mean training loss per unit since the last check."""


class Evaluation(Protocol):
    """The per-trial evaluation hook (stop criterion)."""

    def open(self, streams: TrialStreams, data: TrialData) -> Evaluator:
        """The judge of one trial (it may draw a fixed evaluation set from ``streams``)."""
        ...


class _Stateless:
    def due(self) -> bool:
        return False


# ----------------------------------------------------------------------------- data sources
class _TaskBatchData(_Stateless):
    def __init__(self, task: SequenceTask, rng: np.random.Generator, batch: int) -> None:
        self.task, self.rng, self.batch = task, rng, batch

    def next_loss(self, net: nn.Module) -> tuple[torch.Tensor, int]:
        batch = self.task.sample(self.rng, self.batch)
        x, y, mask, lengths = to_torch(batch)
        return masked_sse(net(x, lengths), y, mask), self.batch

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {"rng": numpy_rng_state(self.rng)}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        set_numpy_rng_state(self.rng, state["rng"])


@dataclass(frozen=True)
class TaskBatches:
    """Fresh batches of ``batch`` sequences sampled from a task (the trial's "data" stream).

    The loss is `masked_sse`; the network is called as ``net(x, lengths)``.

    Examples:
        >>> from rnnai.tasks import AddingTask
        >>> data = TaskBatches(AddingTask(), batch=4).open(TrialStreams(Seeds(0), 0,
        ...                                                 lambda p, t: (p, t)))
        >>> data.due()
        False
    """

    task: SequenceTask
    batch: int = 1

    def open(self, streams: TrialStreams) -> TrialData:
        """Sample from ``streams.rng("data")``."""
        return _TaskBatchData(self.task, streams.rng("data"), self.batch)


class _FixedSetData(_Stateless):
    def __init__(
        self, train_set: SequenceBatch, test_set: SequenceBatch, rng: np.random.Generator, b: int
    ) -> None:
        self.train_set, self.test_set, self.rng, self.batch = train_set, test_set, rng, b

    def next_loss(self, net: nn.Module) -> tuple[torch.Tensor, int]:
        s = self.train_set
        idx = self.rng.integers(0, s.batch_size, size=self.batch)  # with replacement
        lengths = s.lengths[idx]
        L = int(lengths.max())  # trimmed to the longest drawn sequence
        x = torch.from_numpy(s.x[idx, :L])  # (B, L, I)
        y = torch.from_numpy(s.y[idx, :L])
        mask = torch.from_numpy(s.mask[idx, :L])
        lens = None if (lengths == L).all() else torch.from_numpy(lengths)
        return masked_sse(net(x, lens), y, mask), self.batch

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {"rng": numpy_rng_state(self.rng)}

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        set_numpy_rng_state(self.rng, state["rng"])


@dataclass(frozen=True)
class FixedSets:
    """A fixed training set and a held-out test set per trial, drawn once by ``make_sets``.

    Training draws ``batch`` sequences of the training set uniformly with replacement (the
    trial's "data" stream) and trims them to the longest drawn one; the sets come from the
    trial's "sets" stream. The opened data has ``train_set`` and ``test_set`` attributes (judge
    on the test set with ``TaskCriterion(..., held_out=True)``).

    Examples:
        >>> from rnnai.tasks import reber_datasets
        >>> data = FixedSets(lambda rng: reber_datasets(rng, 8, 8)).open(
        ...     TrialStreams(Seeds(0), 0, lambda p, t: (p, t)))
        >>> data.train_set.batch_size, data.test_set.batch_size
        (8, 8)
    """

    make_sets: Callable[[np.random.Generator], tuple[SequenceBatch, SequenceBatch]]
    batch: int = 1

    def open(self, streams: TrialStreams) -> _FixedSetData:
        """Draw the sets from ``streams.rng("sets")``, the order from ``streams.rng("data")``."""
        train_set, test_set = self.make_sets(streams.rng("sets"))
        return _FixedSetData(train_set, test_set, streams.rng("data"), self.batch)


class _StreamData:
    def __init__(self, source: StreamChunks, rng: np.random.Generator) -> None:
        self.src = source
        self.stream = source.make_stream(rng, source.streams)
        self.read = 0  # symbols read per stream
        self.hc: tuple[torch.Tensor, torch.Tensor] | None = None
        self.run = np.zeros(source.streams, dtype=np.int64)  # current right run per stream
        self.loss_acc, self.wrong_acc, self.n_acc = 0.0, 0, 0
        self.stopped = False

    def next_loss(self, net: nn.Module) -> tuple[torch.Tensor, int]:
        k, b = self.src.chunk, self.src.streams
        batch = self.stream.next(k)
        step = getattr(net, "step", None)
        if step is None:
            raise RnnaiError(
                f"StreamChunks needs a net with step(x, state) (SequenceNet), got "
                f"{type(net).__name__}"
            )
        out, hc = step(torch.from_numpy(batch.x), self.hc)
        y = torch.from_numpy(batch.y)
        loss = 0.5 * ((out - y) ** 2).sum() / b  # squared error, summed over the chunk
        self.hc = (hc[0].detach(), hc[1].detach())  # truncate BPTT at the chunk boundary
        self.read += k
        ok = self.src.step_correct(out.detach().numpy(), batch.y)  # (B, K)
        for i in range(b):  # the run of right predictions continues across chunks
            wrong = np.flatnonzero(~ok[i])
            self.run[i] = self.run[i] + k if wrong.size == 0 else k - 1 - wrong[-1]
        self.loss_acc += float(loss.detach()) * b
        self.wrong_acc += int((~ok).sum())
        self.n_acc += ok.size
        self.stopped = bool(self.run.min() >= self.src.stop_run)
        return loss, k

    def due(self) -> bool:
        return self.stopped

    def take_window(self) -> tuple[float, int, int]:
        """(summed loss, wrong symbols, symbols) since the last call, then reset."""
        window = (self.loss_acc, self.wrong_acc, self.n_acc)
        self.loss_acc, self.wrong_acc, self.n_acc = 0.0, 0, 0
        return window

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {} if self.hc is None else {"h": self.hc[0], "c": self.hc[1]}
        return tensors, {
            "read": self.read,
            "run": self.run.tolist(),
            "window": [self.loss_acc, self.wrong_acc, self.n_acc],
        }

    def restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        n = self.read = int(state["read"])
        while n > 0:  # replay the stream (its symbols do not depend on the chunking)
            self.stream.next(min(100_000, n))
            n -= min(100_000, n)
        self.hc = (tensors["h"], tensors["c"]) if "h" in tensors else None
        self.run = np.asarray(state["run"], dtype=np.int64)
        self.loss_acc, self.wrong_acc, self.n_acc = state["window"]
        self.stopped = bool(self.run.min() >= self.src.stop_run)


@dataclass(frozen=True)
class StreamChunks:
    """Never-reset streams read ``chunk`` symbols at a time, the LSTM state carried.

    ``streams`` independent rows are read in parallel (the batch); the network (a
    `SequenceNet`, through its ``step``) carries its state from chunk to chunk (detached: truncated
    BPTT over each chunk), the loss is half the squared error summed over the chunk's symbols and
    outputs, averaged over the rows; one unit is one symbol per row. ``step_correct(outputs,
    targets)`` judges every symbol ((B, K) bool); a row's run of right symbols continues across
    chunks, and once every row's run reaches ``stop_run`` a check is due (`StreamRuns` then
    stops the trial). The stream comes from the trial's "data" stream.

    Examples:
        >>> from rnnai.tasks import ContinualEmbeddedReber
        >>> from rnnai.tasks.reber import reber_step_correct
        >>> src = StreamChunks(lambda rng, b: ContinualEmbeddedReber().stream(rng, b), streams=2,
        ...                    chunk=10, step_correct=reber_step_correct, stop_run=100)
        >>> src.open(TrialStreams(Seeds(0), 0, lambda p, t: (p, t))).due()
        False
    """

    make_stream: Callable[[np.random.Generator, int], Any]
    """(rng, rows) -> an object whose ``next(n)`` returns the next n symbols as a SequenceBatch."""
    streams: int = 1
    chunk: int = 10
    step_correct: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(
        default=lambda out, y: np.all((out > 0.5) == (y > 0.5), axis=-1)
    )
    stop_run: int = 1_000

    def open(self, streams: TrialStreams) -> _StreamData:
        """Open the trial's streams from ``streams.rng("data")``."""
        return _StreamData(self, streams.rng("data"))


# ----------------------------------------------------------------------------- evaluations
@dataclass(frozen=True, kw_only=True)
class TaskCriterion:
    """A task's per-sequence criterion on a fixed evaluation set (`evaluate`).

    Solved when at most ``max_wrong`` sequences are wrong and, if ``max_mean_error`` is set, the
    mean absolute error at the judged steps is at most it. The set is ``eval_size`` fresh
    sequences from the trial's "eval" stream, or the data's ``test_set`` with ``held_out``.
    The curve row is (mean training loss, wrong fraction, mean error).

    Examples:
        >>> from rnnai.tasks import AddingTask
        >>> crit = TaskCriterion(task=AddingTask(), eval_size=16, max_wrong=0)
        >>> streams = TrialStreams(Seeds(0), 0, lambda p, t: (p, t))
        >>> judge = crit.open(streams, TaskBatches(AddingTask()).open(streams))
        >>> net = SequenceNet(2, 1, NetConfig(), torch.Generator().manual_seed(0))
        >>> judge(net, 0.0).size
        16
    """

    task: SequenceTask
    eval_size: int = 512
    max_wrong: int = 0
    max_mean_error: float | None = None
    held_out: bool = False

    def open(self, streams: TrialStreams, data: TrialData) -> Evaluator:
        """The trial's judge on its evaluation set."""
        if self.held_out:
            batch = getattr(data, "test_set", None)
            if not isinstance(batch, SequenceBatch):
                raise RnnaiError(
                    f"held_out=True needs data with a test_set (FixedSets), got "
                    f"{type(data).__name__}"
                )
        else:
            batch = self.task.sample(streams.rng("eval"), self.eval_size)
        task, size = self.task, batch.batch_size

        def judge(net: nn.Module, mean_loss: float) -> Check:
            wrong, err, _ = evaluate(net, task, batch)
            solved = wrong <= self.max_wrong and (
                self.max_mean_error is None or err <= self.max_mean_error
            )
            return Check(
                solved=solved, row=(mean_loss, wrong / size, err), wrong=wrong, size=size,
                error=err,
            )  # fmt: skip

        return judge


@dataclass(frozen=True)
class StreamRuns:
    """The judge of `StreamChunks`: solved once every row's run reached ``stop_run``.

    The curve row is (mean loss per symbol, fraction of training symbols wrong) since the last
    check; ``wrong``/``size`` count those symbols and ``error`` is the mean loss per symbol.

    Examples:
        >>> from rnnai.tasks import ContinualEmbeddedReber
        >>> src = StreamChunks(lambda rng, b: ContinualEmbeddedReber().stream(rng, b), chunk=5)
        >>> streams = TrialStreams(Seeds(0), 0, lambda p, t: (p, t))
        >>> data = src.open(streams)
        >>> net = SequenceNet(7, 7, NetConfig(variant="gers2000"), torch.Generator().manual_seed(0))
        >>> _ = data.next_loss(net)
        >>> StreamRuns().open(streams, data)(net, 0.0).size
        5
    """

    def open(self, streams: TrialStreams, data: TrialData) -> Evaluator:
        """The trial's judge, reading the stream's own counters."""
        if not isinstance(data, _StreamData):
            raise RnnaiError(f"StreamRuns judges StreamChunks data, got {type(data).__name__}")
        stream = data

        def judge(net: nn.Module, mean_loss: float) -> Check:
            loss, wrong, n = stream.take_window()
            return Check(
                solved=stream.stopped,
                row=(loss / n, wrong / n),
                wrong=wrong,
                size=n,
                error=loss / n,
            )

        return judge


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, kw_only=True)
class TrialResult:
    """One trial (one seed) of a reproduction.

    Examples:
        >>> r = TrialResult(trial=0, solved=True, sequences=300, eval_wrong=0, eval_size=8,
        ...                 eval_error=0.01)
        >>> TrialResult.from_dict(r.to_dict()) == r
        True
    """

    trial: int
    solved: bool
    sequences: int
    """Training units (sequences) until solved, or the budget used when not solved."""
    eval_wrong: int
    eval_size: int
    eval_error: float
    curve: list[list[float]] = field(default_factory=list)
    """Rows [units, *Check.row]; for `TaskCriterion`: [sequences, mean training loss,
    evaluation wrong fraction, evaluation mean error]."""
    extra: dict[str, Any] = field(default_factory=dict)
    """What ``on_trial_end`` returned (e.g. a test of the trained network), JSON-able."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        """Inverse of `to_dict` (older dicts without ``extra`` are accepted)."""
        return cls(**d)


NetT = TypeVar("NetT", bound=nn.Module)


@dataclass(frozen=True)
class TrainingRun(Generic[NetT]):
    """What `run_trials` returns.

    Attributes:
        results: One `TrialResult` per trial, in trial order.
        net: The last trial's trained network (restored from the checkpoint when the whole call
            had finished before a resume); None only when ``trials`` is 0.
    """

    results: list[TrialResult]
    net: NetT | None


def summarize(results: list[TrialResult]) -> dict[str, Any]:
    """Trials, solved, success rate and median/min/max units of the solved trials.

    Examples:
        >>> rs = [TrialResult(trial=i, solved=s, sequences=n, eval_wrong=0, eval_size=1,
        ...                   eval_error=0.0) for i, (s, n) in enumerate([(True, 5), (False, 9)])]
        >>> summarize(rs)["success_rate"], summarize(rs)["median_sequences"]
        (0.5, 5)
    """
    solved = [r.sequences for r in results if r.solved]
    return {
        "trials": len(results),
        "solved": len(solved),
        "success_rate": len(solved) / len(results) if results else 0.0,
        "median_sequences": statistics.median(solved) if solved else None,
        "min_sequences": min(solved) if solved else None,
        "max_sequences": max(solved) if solved else None,
    }


def sequences_to_solve(results: list[TrialResult]) -> list[float]:
    """Units until solved per trial, ``inf`` for a trial that never solved the task."""
    return [float(r.sequences) if r.solved else math.inf for r in results]


def sequences_evidence(
    results: list[TrialResult],
    *,
    paper_sequences: float,
    paper_rate: float = 1.0,
    statistic: Literal["mean", "median"] = "mean",
) -> list[Evidence]:
    """The tests of a "training sequences until solved" claim (`rnnai.runtime.verdict`).

    Success rate not significantly below the paper's (one-sided exact binomial), and the paper's
    mean or median sequences inside our bootstrap interval or ours better (unsolved trials count
    as never solved, ``inf``).

    Examples:
        >>> rs = [TrialResult(trial=0, solved=True, sequences=5_000, eval_wrong=0, eval_size=1,
        ...                   eval_error=0.0)]
        >>> [e.passed for e in sequences_evidence(rs, paper_sequences=8_440)]
        [True, True]
    """
    if not results:
        raise RnnaiError("sequences_evidence needs at least one trial, got none")
    solved = sum(r.solved for r in results)
    return [
        success_rate(successes=solved, n=len(results), paper_rate=paper_rate),
        location(
            sequences_to_solve(results),
            paper_value=paper_sequences,
            lower_is_better=True,
            statistic=statistic,
            claim=f"{statistic} training sequences until solved at or below the paper's "
            f"{paper_sequences:,.0f} (or the paper's value inside our interval)",
        ),
    ]


# ----------------------------------------------------------------------------- the loop
def run_trials(
    *,
    make_net: Callable[[torch.Generator], NetT],
    data: DataSource,
    evaluation: Evaluation,
    config: TrainConfig,
    trials: int = 1,
    seeds: SeedStreams | int = 0,
    hooks: Hooks | None = None,
    label: str = "train",
    keys: KeyFn | None = None,
    on_trial_end: Callable[[NetT, TrialResult], dict[str, Any]] | None = None,
) -> TrainingRun[NetT]:
    """Train ``trials`` networks until their evaluation says solved or the budget is spent.

    Per trial: ``make_net(streams.torch_generator("init"))``, the optimizer
    (`make_optimizer` from ``config``), ``data.open(streams)``, ``evaluation.open(streams,
    data)``; then steps until ``config.max_sequences`` units: each step minimizes the data's next
    loss (gradient norm clipped at ``config.grad_clip`` if set); every ``config.eval_every``
    units, at the budget and whenever the data says a check is due, the judge's `Check` adds a
    curve row, ends the trial if solved, else the loop checkpoints. After the trial,
    ``on_trial_end(net, result)`` may return JSON-able extras (stored in ``result.extra`` and in
    the checkpoint, so they are computed once).

    Args:
        make_net: Builds a network from a generator of its initial weights.
        data: The data source.
        evaluation: The per-trial evaluation hook (stop criterion).
        config: Optimizer, budget and evaluation interval.
        trials: Independent trials.
        seeds: The random streams (an int: ``Seeds(seeds)``; the run context: its streams).
        hooks: Checkpointer, progress and log (default `SilentHooks`: no checkpoints).
        label: Names this call in the checkpoint, the progress bar and the log; calls sharing a
            checkpoint need distinct labels.
        keys: Maps (purpose, trial) to the trial's stream keys (default ``(label, purpose,
            trial)``).
        on_trial_end: Called with each trained network and its result.

    Returns:
        The results and the last trial's network.

    Raises:
        RnnaiError: If ``trials`` is negative.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 0:
        raise RnnaiError(f"trials must be an int >= 0, got {trials!r}")
    hooks = hooks if hooks is not None else SilentHooks()
    seed_streams: SeedStreams = Seeds(seeds) if isinstance(seeds, int) else seeds
    key_fn: KeyFn = keys if keys is not None else (lambda purpose, t: (label, purpose, t))
    ckpt = hooks.checkpointer
    loaded = ckpt.load() if ckpt is not None else None
    tensors, saved = loaded if loaded is not None else ({}, {})
    mine = saved.get(_KEY) or {"done": {}, "nets": {}, "current": None}
    other_tensors = {k: v for k, v in tensors.items() if not k.startswith(f"{_KEY}/")}
    other_state = {k: v for k, v in saved.items() if k != _KEY}
    last_prefix = f"{_KEY}/last/"
    kept = {k: v for k, v in tensors.items() if k.startswith(last_prefix)}
    done: dict[str, Any] = dict(mine["done"])
    net_skels: dict[str, Any] = dict(mine["nets"])

    def restore_last() -> NetT | None:
        if label not in net_skels:
            return None
        net = make_net(torch.Generator())
        net.load_state_dict(unpack_state(net_skels[label], kept))
        return net

    if label in done:  # this whole call finished before the kill
        return TrainingRun([TrialResult.from_dict(r) for r in done[label]], restore_last())
    current = mine.get("current")
    if current is None or current.get("label") != label:
        current = None
    results = [TrialResult.from_dict(r) for r in current["results"]] if current else []

    def save(cur_tensors: dict[str, torch.Tensor], cur: dict[str, Any] | None) -> None:
        if ckpt is not None:
            ckpt.save(
                {**other_tensors, **kept, **cur_tensors},
                {**other_state, _KEY: {"done": done, "nets": net_skels, "current": cur}},
            )

    budget, every = config.max_sequences, config.eval_every
    net: NetT | None = None
    with hooks.progress(trials * budget, f"{label} ({config.setup})") as bar:
        bar.advance(sum(budget for _ in results))
        for trial in range(len(results), trials):
            streams = TrialStreams(seed_streams, trial, key_fn)
            net = make_net(streams.torch_generator("init"))
            opt = make_optimizer(
                net.parameters(), optimizer=config.optimizer, lr=config.lr,
                momentum=config.momentum,
            )  # fmt: skip
            trial_data = data.open(streams)
            judge = evaluation.open(streams, trial_data)
            seen, curve = 0, []
            check: Check | None = None
            if current is not None and current.get("trial") == trial and "nets" in current:
                nets = unpack_state(current["nets"], tensors)
                net.load_state_dict(nets["net"])
                opt.load_state_dict(nets["opt"])
                trial_data.restore(nets["data"], current["data"])
                seen, curve = current["seen"], current["curve"]
                check = Check.from_dict(current["check"])
                bar.advance(seen)
            current = None
            loss_acc, loss_n = 0.0, 0
            while seen < budget and not (check is not None and check.solved):
                loss, n = trial_data.next_loss(net)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip is not None:
                    nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                opt.step()
                seen += n
                loss_acc += float(loss.detach()) * n
                loss_n += n
                bar.advance(n)
                if seen % every < n or seen >= budget or trial_data.due():
                    check = judge(net, loss_acc / max(loss_n, 1))
                    curve.append([seen, *check.row])
                    loss_acc, loss_n = 0.0, 0
                    bar.update(trial=trial, seen=seen, wrong=f"{check.wrong}/{check.size}")
                    if check.solved:
                        break
                    data_tensors, data_state = trial_data.state()
                    packed, skel = pack_state(
                        {"net": net.state_dict(), "opt": opt.state_dict(), "data": data_tensors},
                        prefix=f"{_KEY}/current",
                    )
                    save(
                        packed,
                        {
                            "label": label,
                            "trial": trial,
                            "seen": seen,
                            "curve": curve,
                            "check": check.to_dict(),
                            "data": data_state,
                            "results": [r.to_dict() for r in results],
                            "nets": skel,
                        },
                    )
            final = check if check is not None else Check(solved=False)
            result = TrialResult(
                trial=trial,
                solved=final.solved,
                sequences=seen,
                eval_wrong=final.wrong,
                eval_size=final.size,
                eval_error=final.error,
                curve=curve,
            )
            if on_trial_end is not None:
                result = TrialResult(**{**result.to_dict(), "extra": on_trial_end(net, result)})
            results.append(result)
            bar.advance(max(0, budget - seen))
            prefix = f"{last_prefix}{label}/"
            packed, net_skels[label] = pack_state(net.state_dict(), prefix=prefix)
            kept = {k: v for k, v in kept.items() if not k.startswith(prefix)} | packed
            done_so_far = [r.to_dict() for r in results]
            save({}, {"label": label, "trial": trial + 1, "results": done_so_far})
            wrong = f" ({final.wrong}/{final.size} wrong, mean error {final.error:.4f})"
            hooks.log(
                f"{label} trial {trial}: {'solved' if final.solved else 'not solved'} after "
                f"{seen:,} units{wrong if final.size else ''}"
            )
    done[label] = [r.to_dict() for r in results]
    save({}, None)
    if net is None:  # every trial had finished before a resume
        net = restore_last()
    return TrainingRun(results, net)


def train_trials(
    task: SequenceTask,
    net: NetConfig,
    train: TrainConfig,
    *,
    trials: int = 1,
    seeds: SeedStreams | int = 0,
    hooks: Hooks | None = None,
    label: str = "train",
    data: DataSource | None = None,
    evaluation: Evaluation | None = None,
    keys: KeyFn | None = None,
    on_trial_end: Callable[[SequenceNet, TrialResult], dict[str, Any]] | None = None,
) -> TrainingRun[SequenceNet]:
    """`run_trials` of a `SequenceNet` on a task from `rnnai.tasks`.

    Defaults: fresh batches of ``train.batch`` sequences (`TaskBatches`) judged by the task's
    criterion on ``train.eval_size`` fresh sequences with ``train.max_wrong`` and
    ``train.max_mean_error`` (`TaskCriterion`); other arguments as in `run_trials`.

    Examples:
        >>> from rnnai.tasks import AddingTask
        >>> run = train_trials(AddingTask(), NetConfig(hidden=2),
        ...                    TrainConfig(optimizer="adam", lr=0.01, batch=4, max_sequences=8,
        ...                                eval_every=8, eval_size=8), trials=2)
        >>> [r.trial for r in run.results]
        [0, 1]
    """
    return run_trials(
        make_net=lambda gen: SequenceNet(task.input_size, task.output_size, net, gen),
        data=data if data is not None else TaskBatches(task, train.batch),
        evaluation=evaluation
        if evaluation is not None
        else TaskCriterion(
            task=task,
            eval_size=train.eval_size,
            max_wrong=train.max_wrong,
            max_mean_error=train.max_mean_error,
        ),
        config=train,
        trials=trials,
        seeds=seeds,
        hooks=hooks,
        label=label,
        keys=keys,
        on_trial_end=on_trial_end,
    )
