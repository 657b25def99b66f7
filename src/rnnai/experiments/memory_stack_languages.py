"""`memory.stack_languages`: length generalization of stack-augmented nets vs an LSTM.

Papers:

* G. Delétang, A. Ruoss, J. Grau-Moya, T. Genewein, L. K. Wenliang, E. Catt, C. Cundy, M. Hutter,
  S. Legg, J. Veness & P. A. Ortega, "Neural Networks and the Chomsky Hierarchy", ICLR 2023
  (arXiv:2207.02098): the protocol. Train on lengths l <= N drawn uniformly from 1..N (N = 40),
  batch 128, Adam (learning rate 1e-3 in their example script; the paper sweeps 1e-4, 3e-4,
  1e-3), 1,000,000 steps, 10 seeds; test on every length N+1..500; the score of a run is its
  accuracy averaged over the test lengths. Their finding: LSTMs solve regular and counter
  languages, RNNs and Transformers fail on the non-regular ones, and only nets with a structured
  memory (a stack or a tape) generalize on the (deterministic) context-free tasks such as
  "reverse string". Their table of per-task scores was not retrieved here, so no number of theirs
  is quoted: the claims tested are their qualitative ones.
* A. Joulin & T. Mikolov, "Inferring algorithmic patterns with stack-augmented recurrent nets",
  NeurIPS 2015 (`rnnai.nn.stack.StackRNN`); E. Grefenstette, K. M. Hermann, M. Suleyman &
  P. Blunsom, "Learning to transduce with unbounded memory", NeurIPS 2015
  (`rnnai.nn.stack.NeuralStackRNN`), and the 1992-1993 NNPDA continuous stack (Sun, Giles, Chen &
  Lee; Das, Giles & Sun) as its ``nnpda=True`` option.

The equations are in `rnnai.nn.stack`: Joulin & Mikolov's cells
s_t[0] = a_t[PUSH] sigma(D h_t) + a_t[POP] s_{t-1}[1] + a_t[NO-OP] s_{t-1}[0] (and s_t[i] likewise
from s_{t-1}[i-1], s_{t-1}[i+1], s_{t-1}[i]); Grefenstette et al.'s strengths
s_t[i] = max(0, s_{t-1}[i] - max(0, u_t - sum_{j>i} s_{t-1}[j])), s_t[t] = d_t and read
r_t = sum_i min(s_t[i], max(0, 1 - sum_{j>i} s_t[j])) V_t[i]; the NNPDA action a_t in [-1, 1]
gives u_t = max(0, -a_t), d_t = max(0, a_t).

Tasks (`rnnai.tasks.memory_tasks`): ``reversal`` (binary strings, output reversed during n query
steps, Delétang et al.'s "reverse string"), ``dyck2`` (membership of Dyck-2, two bracket kinds:
context-free and not a counter language), ``anbn`` and ``anbncn`` (membership of a^n b^n and
a^n b^n c^n: counter languages, the second context-sensitive). Each net reads the string and is
trained on lengths in ``train_lengths`` only; it is tested on fresh strings of every length in
``test_lengths``, strictly longer (the task configs refuse overlapping ranges, and the tests check
that no test string is as short as a training string).

Models: ``lstm`` (`rnnai.nn.lstm.LSTM` + a linear readout), ``stack_rnn`` (`StackRNN`),
``neural_stack`` (`NeuralStackRNN`) and ``nnpda`` (`NeuralStackRNN` with ``nnpda=True``), each
with an LSTM controller of ``hidden`` cells, so the memory nets differ from the baseline only by
the stack. Training: `rnnai.train.run_trials` with a `LogitBatches` data source (the loss is the
binary cross-entropy of the logits for the membership tasks, the cross-entropy for reversal, summed
over the judged steps and averaged over the batch, as in Delétang et al.), Adam, gradient norm
clipped at 1, and `rnnai.train.TaskCriterion` on fresh training-length strings as the periodic
check. Quick and paper train for the whole budget, as Delétang et al. do (``max_wrong=-1``: a net
that fits the training lengths early keeps training, which is when a general solution can
emerge); smoke stops once no evaluation string is wrong. After a run, `length_report` measures the
accuracy per length on both ranges (and the training log's "mean error" of reversal compares
logits with one-hot targets: only its wrong count means anything).

Choices where the papers are silent or differ: the gradient-norm clipping at 1 is ours; accuracy
is per string (all outputs right), while Delétang et al. average per-token accuracy for the
transduction tasks (equal for the membership tasks, stricter for reversal); Joulin & Mikolov's
stack has ``stack_size`` = the longest test string (reversal needs one cell per symbol); strings
are padded to the batch's longest, and a net's outputs at a string's own steps do not depend on
the padding (all nets are causal).

Scales:

* smoke: reversal and a^n b^n, training lengths 1-4, test 5-8, LSTM vs StackRNN, 1 seed (CI).
* quick: reversal (train 1-8, test 9-30), Dyck-2 (train 2-12, test 14-40) and a^n b^n
  (train 1-8, test 9-30); LSTM, StackRNN and NeuralStackRNN, hidden 32, batch 32, Adam 1e-2, at
  600 batches, 3 seeds (about 4 minutes of one core: 248 s of CPU time measured).
* paper: the four tasks, N = 40 (Dyck-2: string lengths 2-40) and test lengths to 500 (Dyck-2,
  anbn, anbncn: lengths (or n) up to 500 / 2, 250, 166), the four models, hidden 256, stack cells
  of 8, batch 128, Adam 1e-3, 1,000,000 steps, 10 seeds; checkpointed at every evaluation
  (every 500 batches).

Verdict (`rnnai.runtime.verdict.judge`), over the seeds of each task:

1. `comparison` (paired by seed, higher is better): on each context-free task present (reversal,
   Dyck-2) each stack net's test score beats the LSTM's (Delétang et al.: only memory-augmented nets
   generalize there);
2. `check`: on every task, every model fits the training lengths (median in-distribution accuracy
   >= 0.9): a failure to generalize then is not a failure to learn.
a^n b^n and a^n b^n c^n are counter languages, where Delétang et al. find that LSTMs can
generalize too: they are reported per length but judged only by the fit check. "Reproduced" needs
the paper scale (its lengths, budget and 10 seeds); smoke and quick are at best partial.

Examples:
    >>> import numpy as np, torch
    >>> task = make_task("reversal", (1, 4), (5, 8), "test")
    >>> net = build_net("stack_rnn", task, hidden=8, generator=torch.Generator().manual_seed(0))
    >>> rep = length_report(net, task, 16, np.random.default_rng(0))
    >>> sorted(rep) == [5, 6, 7, 8]
    True
    >>> score([0.5, 1.0])
    0.75
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.lstm import LSTM
from rnnai.nn.stack import NeuralStackRNN, StackRNN
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed, numpy_rng_state, set_numpy_rng_state
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge
from rnnai.tasks.base import SequenceTask
from rnnai.tasks.memory_tasks import (
    AnBnConfig,
    AnBnTask,
    DyckConfig,
    DyckTask,
    ReversalConfig,
    ReversalTask,
    accuracy_by_length,
)
from rnnai.train import TaskCriterion, TrainConfig, TrialResult, run_trials
from rnnai.train.loop import TrialStreams
from rnnai.train.sequence import evaluate, to_torch

NAME = "memory.stack_languages"
TASK_NAMES = ("reversal", "dyck2", "anbn", "anbncn")
MODEL_NAMES = ("lstm", "stack_rnn", "neural_stack", "nnpda")
STACK_MODELS = ("stack_rnn", "neural_stack", "nnpda")
CONTEXT_FREE = ("reversal", "dyck2")
"""Tasks that need a stack: Delétang et al.'s claim that only memory nets generalize there."""
FIT = 0.9
"""Median in-distribution accuracy every model must reach (the nets learn the training range)."""
REQUIRED_SEEDS = 10
"""Delétang et al.'s seeds per (task, model)."""


# ----------------------------------------------------------------------------- tasks and nets
def make_task(
    name: str, train_lengths: tuple[int, int], test_lengths: tuple[int, int], split: str
) -> SequenceTask:
    """One of `TASK_NAMES` with the given length ranges, sampling from ``split``.

    Raises:
        RnnaiError: For an unknown task, or ranges the task config refuses (overlapping).
    """
    kw: dict[str, Any] = {
        "train_lengths": tuple(train_lengths), "test_lengths": tuple(test_lengths),
        "split": split,
    }  # fmt: skip
    if name == "reversal":
        return ReversalTask(ReversalConfig(**kw))
    if name == "dyck2":
        return DyckTask(DyckConfig(n_pairs=2, **kw))
    if name in ("anbn", "anbncn"):
        return AnBnTask(AnBnConfig(letters=2 if name == "anbn" else 3, **kw))
    raise RnnaiError(f"task must be one of {TASK_NAMES}, got {name!r}")


class LengthNet(nn.Module):
    """A sequence net for the length tasks: a core (B, T, I) -> (B, T, O) logits.

    ``forward(x, lengths)`` returns what the task's criterion reads (sigmoid probabilities or
    softmax logits) so that `rnnai.train.sequence.evaluate` and `TaskCriterion` apply;
    ``logits(x)`` is what the loss reads.

    Args:
        core: A module whose ``core(x)[0]`` is (B, T, O) (`StackRNN`, `NeuralStackRNN`, `NTM`,
            or an LSTM with a readout).
        activation: The task's ``output_activation`` ("sigmoid" or "softmax").
    """

    def __init__(self, core: nn.Module, activation: str) -> None:
        super().__init__()
        if activation not in ("sigmoid", "softmax"):
            raise RnnaiError(f"activation must be 'sigmoid' or 'softmax', got {activation!r}")
        self.core, self.activation = core, activation

    def logits(self, x: Tensor) -> Tensor:
        """Pre-activation outputs (B, T, O)."""
        out: Tensor = self.core(x)[0]
        return out

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(B, T, I) -> (B, T, O): sigmoid outputs, or logits for softmax tasks (argmax read)."""
        del lengths  # causal nets: padding never changes the outputs at a string's own steps
        z = self.logits(x)
        return torch.sigmoid(z) if self.activation == "sigmoid" else z


class LSTMReadout(nn.Module):
    """`rnnai.nn.lstm.LSTM` (batch first) and a linear readout: x -> (y, state)."""

    def __init__(self, n_in: int, hidden: int, n_out: int, num_layers: int = 1) -> None:
        super().__init__()
        self.lstm = LSTM(n_in, hidden, num_layers=num_layers, batch_first=True)
        self.readout = nn.Linear(hidden, n_out)

    def forward(self, x: Tensor) -> tuple[Tensor, Any]:
        """(B, T, I) -> ((B, T, O), the LSTM state)."""
        h, state = self.lstm(x)
        return self.readout(h), state


def build_net(
    model: str,
    task: SequenceTask,
    *,
    hidden: int,
    generator: torch.Generator,
    stack_size: int = 64,
    cell_size: int = 1,
    value_size: int = 8,
) -> LengthNet:
    """A `LengthNet` of one of `MODEL_NAMES` for ``task``, initialised from ``generator``.

    Args:
        model: ``lstm``, ``stack_rnn``, ``neural_stack`` or ``nnpda``.
        task: Gives the input and output sizes and the output activation.
        hidden: Controller (or LSTM) cells.
        generator: Draws the initial weights (the same generator, the same net).
        stack_size: Joulin & Mikolov's stack cells p.
        cell_size: Their cell size m.
        value_size: Grefenstette et al.'s value size.
    """
    n_in, n_out = task.input_size, task.output_size
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        core: nn.Module
        if model == "lstm":
            core = LSTMReadout(n_in, hidden, n_out)
        elif model == "stack_rnn":
            core = StackRNN(n_in, hidden, n_out, stack_size=stack_size, cell_size=cell_size,
                            read_depth=min(2, stack_size))  # fmt: skip
        elif model in ("neural_stack", "nnpda"):
            core = NeuralStackRNN(n_in, hidden, n_out, value_size=value_size,
                                  nnpda=model == "nnpda")  # fmt: skip
        else:
            raise RnnaiError(f"model must be one of {MODEL_NAMES}, got {model!r}")
    return LengthNet(core, task.output_activation)


# ----------------------------------------------------------------------------- loss and data
def logit_loss(logits: Tensor, y: Tensor, mask: Tensor, activation: str) -> Tensor:
    """Cross-entropy at the judged steps, summed over steps (and bits), mean over sequences.

    Args:
        logits: (B, T, O).
        y: (B, T, O) targets (bits for "sigmoid", one-hot for "softmax").
        mask: (B, T) bool, the judged steps.
        activation: "sigmoid" (binary cross-entropy per output) or "softmax".

    Returns:
        The scalar loss (in nats).
    """
    m = mask.to(logits.dtype)
    if activation == "sigmoid":
        per = F.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(-1)
    else:
        per = -(torch.log_softmax(logits, dim=-1) * y).sum(-1)
    return (per * m).sum() / logits.shape[0]


class _LogitBatchData:
    def __init__(self, task: SequenceTask, rng: np.random.Generator, batch: int) -> None:
        self.task, self.rng, self.batch = task, rng, batch

    def next_loss(self, net: nn.Module) -> tuple[Tensor, int]:
        x, y, mask, _ = to_torch(self.task.sample(self.rng, self.batch))
        if not isinstance(net, LengthNet):
            raise RnnaiError(f"LogitBatches trains a LengthNet, got {type(net).__name__}")
        return logit_loss(net.logits(x), y, mask, self.task.output_activation), self.batch

    def due(self) -> bool:
        return False

    def state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        return {}, {"rng": numpy_rng_state(self.rng)}

    def restore(self, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
        set_numpy_rng_state(self.rng, state["rng"])


@dataclass(frozen=True)
class LogitBatches:
    """A `rnnai.train.run_trials` data source: fresh task batches, cross-entropy on logits.

    `rnnai.train.TaskBatches` minimizes the squared error of the outputs; the length tasks are
    trained with the cross-entropy (`logit_loss`) on `LengthNet.logits`.
    """

    task: SequenceTask
    batch: int = 32

    def open(self, streams: TrialStreams) -> _LogitBatchData:
        """Sample from ``streams.rng("data")``."""
        return _LogitBatchData(self.task, streams.rng("data"), self.batch)


# ----------------------------------------------------------------------------- measurements
def length_report(
    net: nn.Module, task: SequenceTask, per_length: int, rng: np.random.Generator
) -> dict[int, float]:
    """Accuracy (fraction of strings right) at every length of ``task``'s current split.

    Args:
        net: Maps (B, T, I) to what ``task.correct`` reads (a `LengthNet`).
        task: A length task; its split's range is swept (even lengths only for Dyck).
        per_length: Fresh strings per length.
        rng: Draws the strings.

    Returns:
        ``{length: accuracy}`` in increasing length.
    """
    lo, hi = task.config.lengths()  # type: ignore[attr-defined]
    step = 2 if isinstance(task, DyckTask) else 1
    lengths = [n for n in range(lo, hi + 1) if n % step == 0]
    batch = task.sample(rng, per_length * len(lengths) * 2)  # uniform draws: ~2 per_length each
    _, _, out = evaluate(net, task, batch, chunk=256)
    return accuracy_by_length(task.correct(out, batch), batch.info["length"])


def score(accuracies: list[float] | np.ndarray) -> float:
    """Delétang et al.'s score: the accuracy averaged over the (test) lengths."""
    return float(np.mean(accuracies))


# ----------------------------------------------------------------------------- configs
@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """One task of a sweep: its name and length ranges."""

    task: str
    train_lengths: tuple[int, int]
    test_lengths: tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class NetSpec:
    """The nets' sizes (the same controller for every model)."""

    hidden: int = 256
    cell_size: int = 8
    value_size: int = 8


PAPER_TASKS = (
    TaskSpec(task="reversal", train_lengths=(1, 40), test_lengths=(41, 500)),
    TaskSpec(task="dyck2", train_lengths=(2, 40), test_lengths=(42, 500)),
    TaskSpec(task="anbn", train_lengths=(1, 20), test_lengths=(21, 250)),
    TaskSpec(task="anbncn", train_lengths=(1, 13), test_lengths=(14, 166)),
)
PAPER_TRAIN = TrainConfig(
    optimizer="adam",
    lr=1e-3,
    batch=128,
    max_sequences=128_000_000,
    eval_every=128 * 500,
    eval_size=512,
    max_wrong=-1,
    grad_clip=1.0,
)


def run_label(task: str, model: str) -> str:
    """The label of one (task, model) call of `run_trials`, e.g. ``"reversal/stack_rnn"``."""
    return f"{task}/{model}"


def task_spec(t: dict[str, Any]) -> TaskSpec:
    """A `TaskSpec` from its config dict (JSON lists back to tuples)."""
    return TaskSpec(
        task=str(t["task"]),
        train_lengths=(int(t["train_lengths"][0]), int(t["train_lengths"][1])),
        test_lengths=(int(t["test_lengths"][0]), int(t["test_lengths"][1])),
    )


def is_paper_setup(cfg: dict[str, Any]) -> bool:
    """Whether the config is the paper's (its tasks, lengths, training and budget)."""
    return (
        [task_spec(t) for t in cfg["tasks"]] == list(PAPER_TASKS)
        and TrainConfig(**cfg["train"]) == PAPER_TRAIN
        and cfg["net"]["hidden"] >= 256
    )  # fmt: skip


def stack_judgement(cfg: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> Judgement:
    """The verdict of the module docstring.

    Args:
        cfg: The experiment config (``tasks``, ``models``, ``seeds``, ``train``, ``net``).
        runs: Per `run_label`, one dict per seed with ``test_score`` and ``train_score``.

    Returns:
        The `rnnai.runtime.verdict.Judgement`.
    """
    evidence: list[Evidence] = []
    models = cfg["models"]
    n = cfg["seeds"]
    tasks = [t["task"] for t in cfg["tasks"]]
    for t in tasks:
        if t not in CONTEXT_FREE or "lstm" not in models:
            continue
        base = [r["test_score"] for r in runs[run_label(t, "lstm")]]
        for m in models:
            if m in STACK_MODELS:
                evidence.append(comparison(
                    [r["test_score"] for r in runs[run_label(t, m)]], base,
                    lower_is_better=False, paired=True,
                    claim=f"{t}: {m} generalizes to longer strings better than the LSTM (mean "
                    "accuracy over the test lengths, paired by seed)",
                ))  # fmt: skip
    fits = {
        (t, m): float(np.median([r["train_score"] for r in runs[run_label(t, m)]]))
        for t in tasks for m in models
    }  # fmt: skip
    worst = min(fits, key=lambda k: fits[k])
    evidence.append(check(
        f"every model fits the training lengths (median in-distribution accuracy >= {FIT} on "
        f"every task; lowest: {worst[1]} on {worst[0]})",
        fits[worst] >= FIT, n=n * len(fits), ours=fits[worst],
    ))  # fmt: skip
    train = TrainConfig(**cfg["train"])
    return judge(
        evidence,
        paper_setup=is_paper_setup(cfg),
        setup=f"tasks {tasks}, models {models}, hidden {cfg['net']['hidden']}; {train.setup}, "
        f"up to {train.max_sequences:,} strings",
        trials=n,
        required=REQUIRED_SEEDS,
    )


# ----------------------------------------------------------------------------- experiment
def run_task_model(
    ctx: RunContext, cfg: dict[str, Any], spec: TaskSpec, model: str
) -> list[dict[str, Any]]:
    """Train the seeds of one (task, model) and measure them per length (resumable).

    Returns:
        One dict per seed: ``train_score``, ``test_score``, ``train_acc`` and ``test_acc``
        (``{length: accuracy}`` with string keys), ``sequences`` and ``curve``.
    """
    train = TrainConfig(**cfg["train"])
    net_spec = NetSpec(**cfg["net"])
    label = run_label(spec.task, model)
    data_task = make_task(spec.task, spec.train_lengths, spec.test_lengths, "train")
    test_task = make_task(spec.task, spec.train_lengths, spec.test_lengths, "test")
    longest = spec.test_lengths[1] * (3 if spec.task == "anbncn" else 2)

    def make_net(gen: torch.Generator) -> LengthNet:
        return build_net(model, data_task, hidden=net_spec.hidden, generator=gen,
                         stack_size=longest, cell_size=net_spec.cell_size,
                         value_size=net_spec.value_size)  # fmt: skip

    def measure(net: LengthNet, result: TrialResult) -> dict[str, Any]:
        rng = np.random.default_rng(derive_seed(ctx.seed, NAME, "test", label, result.trial))
        per = cfg["per_length"]
        tr = length_report(net, data_task, per, rng)
        te = length_report(net, test_task, per, rng)
        return {
            "train_acc": {str(k): v for k, v in tr.items()},
            "test_acc": {str(k): v for k, v in te.items()},
            "train_score": score(list(tr.values())),
            "test_score": score(list(te.values())),
        }

    run = run_trials(
        make_net=make_net,
        data=LogitBatches(data_task, train.batch),
        evaluation=TaskCriterion(task=data_task, eval_size=train.eval_size,
                                 max_wrong=train.max_wrong),
        config=train, trials=cfg["seeds"], seeds=ctx, hooks=ctx, label=label,
        on_trial_end=measure,
    )  # fmt: skip
    return [{**r.extra, "sequences": r.sequences, "curve": r.curve} for r in run.results]


@register
class StackLanguagesExperiment(Experiment):
    """Stack RNNs vs an LSTM on formal languages, tested on strictly longer strings."""

    name = NAME
    system = "Stack-augmented RNNs (Joulin & Mikolov 2015; Grefenstette et al. 2015; NNPDA)"
    claim = PaperClaim(
        citation="Delétang et al. 2023 (ICLR), Neural Networks and the Chomsky Hierarchy",
        metric="reverse string: accuracy averaged over test lengths 41-500, stack-RNN vs LSTM",
        value=None,
        lower_is_better=False,
        note="qualitative claim: only memory-augmented nets (stack, tape) generalize on the "
        "context-free tasks; LSTMs solve regular and counter languages; the table's numbers "
        "were not retrieved",
    )
    headline_metric = "median test score (accuracy over the longer lengths), reversal, StackRNN"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale tasks, models, nets and training."""
        if scale == "smoke":
            tasks = [TaskSpec(task="reversal", train_lengths=(1, 4), test_lengths=(5, 8)),
                     TaskSpec(task="anbn", train_lengths=(1, 4), test_lengths=(5, 8))]  # fmt: skip
            models = ["lstm", "stack_rnn"]
            train = TrainConfig(
                optimizer="adam",
                lr=1e-2,
                batch=16,
                max_sequences=16 * 20,
                eval_every=16 * 10,
                eval_size=32,
                max_wrong=0,
                grad_clip=1.0,
            )
            net, seeds, per = NetSpec(hidden=8, cell_size=1, value_size=4), 1, 4
        elif scale == "quick":
            tasks = [TaskSpec(task="reversal", train_lengths=(1, 8), test_lengths=(9, 30)),
                     TaskSpec(task="dyck2", train_lengths=(2, 12), test_lengths=(14, 40)),
                     TaskSpec(task="anbn", train_lengths=(1, 8), test_lengths=(9, 30))]  # fmt: skip
            models = ["lstm", "stack_rnn", "neural_stack"]
            train = TrainConfig(
                optimizer="adam",
                lr=1e-2,
                batch=32,
                max_sequences=32 * 600,
                eval_every=32 * 50,
                eval_size=128,
                max_wrong=-1,
                grad_clip=1.0,
            )
            net, seeds, per = NetSpec(hidden=32, cell_size=1, value_size=8), 3, 8
        else:
            tasks, models = list(PAPER_TASKS), list(MODEL_NAMES)
            train, net, seeds, per = PAPER_TRAIN, NetSpec(), REQUIRED_SEEDS, 32
        return {
            "tasks": [asdict(t) for t in tasks], "models": models, "train": asdict(train),
            "net": asdict(net), "seeds": seeds, "per_length": per,
        }  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Train every (task, model) over the seeds, judge, plot accuracy per length."""
        cfg = ctx.config
        runs: dict[str, list[dict[str, Any]]] = {}
        for t in cfg["tasks"]:
            spec = task_spec(t)
            for m in cfg["models"]:
                runs[run_label(spec.task, m)] = run_task_model(ctx, cfg, spec, m)
        judgement = stack_judgement(cfg, runs)
        table = {
            label: {
                "test_scores": [r["test_score"] for r in rs],
                "train_scores": [r["train_score"] for r in rs],
                "median_test": float(np.median([r["test_score"] for r in rs])),
                "median_train": float(np.median([r["train_score"] for r in rs])),
                "sequences": [r["sequences"] for r in rs],
            }
            for label, rs in runs.items()
        }
        head = runs.get(run_label(cfg["tasks"][0]["task"], "stack_rnn"))
        headline = float(np.median([r["test_score"] for r in head])) if head else None
        plots = [plot_per_length(cfg, runs, ctx, "stack_languages_accuracy_per_length.png")]
        notes = "; ".join(
            f"{k}: median accuracy {v['median_train']:.2f} (train lengths), "
            f"{v['median_test']:.2f} (test lengths)"
            for k, v in table.items()
        )
        return Outcome(headline=headline, metrics={"runs": table, "per_seed": runs},
                       verdict=judgement, plots=plots, notes=notes)  # fmt: skip


def plot_per_length(
    cfg: dict[str, Any], runs: dict[str, list[dict[str, Any]]], ctx: RunContext, filename: str
) -> str:
    """Accuracy against length (mean over seeds, seeds faint), one panel per task.

    The dotted line marks the longest training length.
    """
    from matplotlib.figure import Figure

    tasks = cfg["tasks"]
    fig = Figure(figsize=(4.2 * len(tasks), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(tasks)))
    for ax, t in zip(axes, tasks, strict=True):
        for k, m in enumerate(cfg["models"]):
            rs = runs[run_label(t["task"], m)]
            for i, r in enumerate(rs):
                acc = {**r["train_acc"], **r["test_acc"]}
                xs = sorted(int(v) for v in acc)
                ax.plot(xs, [acc[str(v)] for v in xs], color=f"C{k}", alpha=0.35, lw=0.8,
                        label=None if i else m)  # fmt: skip
            keys = sorted({int(v) for r in rs for v in {**r["train_acc"], **r["test_acc"]}})
            mean = [np.mean([{**r["train_acc"], **r["test_acc"]}.get(str(v), np.nan)
                             for r in rs]) for v in keys]  # fmt: skip
            ax.plot(keys, mean, color=f"C{k}", lw=2)
        ax.axvline(t["train_lengths"][1] + 0.5, color="grey", ls=":", lw=1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("length (string length; n for a^n b^n)")
        ax.set_ylabel("accuracy (strings right)")
        ax.set_title(f"{t['task']}: train {t['train_lengths'][0]}-{t['train_lengths'][1]}, "
                     f"test {t['test_lengths'][0]}-{t['test_lengths'][1]}", fontsize=9)  # fmt: skip
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / filename
    fig.savefig(path, dpi=90)
    return path.name
