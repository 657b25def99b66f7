"""`memory.ntm_copy` and `memory.ntm_recall`: the Neural Turing Machine vs an LSTM.

Paper: A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014,
Sections 4.1 (copy) and 4.3 (associative recall). Stabilizers: M. Collier & J. Beel,
"Implementing Neural Turing Machines", ICANN 2018 (arXiv:1807.08518): memory initialised to a
small constant (their finding: about twice as fast as the next best initialisation), gradient
clipping, Adam.

The NTM (`rnnai.nn.ntm.NTM`, equations there): content addressing
w^c_t(i) = softmax_i(beta_t K[k_t, M_t(i)]) with the cosine similarity K, interpolation
w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}, circular shift w~_t(i) = sum_j w^g_t(j) s_t(i - j),
sharpening w_t(i) proportional to w~_t(i)^gamma_t, read r_t = sum_i w_t(i) M_t(i), and write
M_t(i) = M_{t-1}(i) [1 - w_t(i) e_t] + w_t(i) a_t.

What the paper reports (from its text; the figures' exact numbers are not quoted here): copy:
8-bit random vectors, sequence lengths drawn from 1-20 in training; the NTM (LSTM controller of
100 cells, one read and one write head, memory 128 x 20, RMSProp) learns much faster than an
LSTM (3 layers of 256 cells) (Fig. 3: cost per sequence in bits against sequences seen) and keeps
copying sequences of length 30, 50 and 120 with few errors, whereas the LSTM's copies fall apart
past length 20 (Figs. 4-5). Associative recall: items of 3 vectors of 6 bits, 2-6 items in
training; the NTM learns faster and generalizes to longer item lists (up to 12 and beyond, with
a slowly rising cost) where the LSTM's cost climbs (Figs. 10-11).

Reproduced here: NTM vs LSTM trained on the short lengths (`rnnai.train.run_trials` with the
`LogitBatches` source of `rnnai.experiments.memory_stack_languages`: the per-sequence binary
cross-entropy, Graves et al.'s cost, reported in bits), then tested on every longer length;
per-length bit errors and exact-copy accuracy, and the training cost curves.

Deviations and choices: Adam instead of RMSProp (with momentum 0.9), following Collier & Beel;
gradient norm clipped at 10 (the paper clips gradients without saying how); the memory is the
constant 1e-6 (`NTM` default) and the initial read vectors and weightings are learned; batches of
32 (the paper does not give its batch); training stops early once every evaluation sequence is
copied exactly (`rnnai.train.TaskCriterion`), the paper trains for its whole budget; the LSTM
baseline is `rnnai.nn.lstm.LSTM` (3 layers of 256 at paper scale, as in the paper; one layer of
the NTM's controller size at smoke and quick); bit errors count outputs on the wrong side of 0.5.

Scales:

* smoke: copy lengths 1-3 (test 4-6) and recall 2-3 items (test 4-5), tiny nets, 1 seed.
* quick: copy of 4-bit vectors, lengths 1-6, test 7-24; recall of 2-vector items of 4 bits,
  2-4 items, test 5-10; NTM controller 64, memory 32 x 8; LSTM 64 cells; Adam 3e-3, batch 32,
  at most 1,000 batches (copy) or 400 (recall); 3 seeds (copy about 5 minutes of one idle core,
  recall about 2).
* paper: copy 8 bits, lengths 1-20, test 21-120; recall 6 bits x 3, 2-6 items, test 7-20; NTM
  100 cells, memory 128 x 20; LSTM 3 x 256; Adam 1e-4, batch 32, 1,000,000 sequences; 10 seeds;
  checkpointed at every evaluation (`run_trials`).

Verdict (`rnnai.runtime.verdict.judge`), over the seeds:

1. `comparison` (paired by seed, lower is better): the NTM makes fewer bit errors per sequence
   than the LSTM on the longer test lengths (mean over the lengths);
2. `comparison` (paired by seed, lower is better): the NTM's final training cost (bits per
   sequence) is below the LSTM's (it learns faster, Fig. 3 / Fig. 10);
3. `check`: the NTM fits the training lengths (median in-distribution accuracy >= 0.9).
"Reproduced" needs the paper scale and 10 seeds; smoke and quick are at best partial.

Examples:
    >>> import numpy as np
    >>> bits_per_sequence(np.log(2.0))
    1.0
    >>> make_memory_task("copy", (1, 3), (4, 6), "test", bits=4, item_length=3).input_size
    5
    >>> error_by_length(np.array([[[0.9, 0.2]], [[0.1, 0.1]]]), np.array([[[1.0, 0.0]],
    ...                 [[1.0, 0.0]]]), np.array([[True], [True]]), np.array([1, 2]))
    {1: 0.0, 2: 1.0}
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.experiments.memory_stack_languages import (
    LengthNet,
    LogitBatches,
    LSTMReadout,
    score,
)
from rnnai.nn.ntm import NTM
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge
from rnnai.tasks.base import SequenceTask
from rnnai.tasks.memory_tasks import (
    AssociativeRecallConfig,
    AssociativeRecallTask,
    CopyConfig,
    CopyTask,
    accuracy_by_length,
)
from rnnai.train import TaskCriterion, TrainConfig, TrialResult, run_trials
from rnnai.train.sequence import evaluate

MODELS = ("ntm", "lstm")
FIT = 0.9
"""Median in-distribution accuracy the NTM must reach."""
REQUIRED_SEEDS = 10
"""Seeds a "reproduced" needs (a comparison of means: `rnnai.runtime.verdict`'s minimum)."""


# ----------------------------------------------------------------------------- pieces
def make_memory_task(
    task: str,
    train_lengths: tuple[int, int],
    test_lengths: tuple[int, int],
    split: str,
    *,
    bits: int,
    item_length: int,
) -> SequenceTask:
    """`CopyTask` (``"copy"``) or `AssociativeRecallTask` (``"recall"``) with these ranges.

    Raises:
        RnnaiError: For an unknown task or ranges the config refuses (overlapping).
    """
    kw: dict[str, Any] = {
        "train_lengths": tuple(train_lengths),
        "test_lengths": tuple(test_lengths),
        "split": split,
        "bits": bits,
    }
    if task == "copy":
        return CopyTask(CopyConfig(**kw))
    if task == "recall":
        return AssociativeRecallTask(AssociativeRecallConfig(item_length=item_length, **kw))
    raise RnnaiError(f"task must be 'copy' or 'recall', got {task!r}")


def bits_per_sequence(nats: float) -> float:
    """A cost in nats per sequence (summed cross-entropy) in bits: nats / ln 2."""
    return float(nats) / math.log(2.0)


def error_by_length(
    out: np.ndarray, y: np.ndarray, mask: np.ndarray, lengths: np.ndarray
) -> dict[int, float]:
    """Mean number of wrong output bits (on the wrong side of 0.5) per sequence, per length.

    Args:
        out: (B, T, O) sigmoid outputs.
        y: (B, T, O) target bits.
        mask: (B, T) judged steps.
        lengths: (B,) task lengths.

    Returns:
        ``{length: mean bit errors per sequence}``.
    """
    wrong = ((out > 0.5) != (y > 0.5)) & mask[..., None]  # (B, T, O)
    per_seq = wrong.sum(axis=(1, 2)).astype(np.float64)
    return {int(n): float(per_seq[lengths == n].mean()) for n in np.unique(lengths)}


def build_memory_net(
    model: str, task: SequenceTask, net: NetSpec, generator: torch.Generator
) -> LengthNet:
    """The NTM or the LSTM baseline for ``task``, initialised from ``generator``."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        core: torch.nn.Module
        if model == "ntm":
            core = NTM(task.input_size, task.output_size, hidden_size=net.controller,
                       memory_size=net.memory_size, memory_width=net.memory_width)  # fmt: skip
        elif model == "lstm":
            core = LSTMReadout(task.input_size, net.lstm_hidden, task.output_size,
                               num_layers=net.lstm_layers)  # fmt: skip
        else:
            raise RnnaiError(f"model must be one of {MODELS}, got {model!r}")
    return LengthNet(core, "sigmoid")


def measure(
    net: LengthNet, task: SequenceTask, per_length: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Per-length accuracy and bit errors on ``task``'s current split.

    Returns:
        ``acc`` and ``bit_errors`` (``{length: value}``, string keys), their means over the
        lengths ``score`` and ``mean_bit_errors``.
    """
    lo, hi = task.config.lengths()  # type: ignore[attr-defined]
    batch = task.sample(rng, per_length * (hi - lo + 1) * 2)
    _, _, out = evaluate(net, task, batch, chunk=256)
    lengths = batch.info["length"]
    acc = accuracy_by_length(task.correct(out, batch), lengths)
    err = error_by_length(out, batch.y, batch.mask, lengths)
    return {
        "acc": {str(k): v for k, v in acc.items()},
        "bit_errors": {str(k): v for k, v in err.items()},
        "score": score(list(acc.values())),
        "mean_bit_errors": float(np.mean(list(err.values()))),
    }


# ----------------------------------------------------------------------------- configs
@dataclass(frozen=True, kw_only=True)
class NetSpec:
    """Sizes of the NTM and the LSTM baseline."""

    controller: int = 100
    memory_size: int = 128
    memory_width: int = 20
    lstm_hidden: int = 256
    lstm_layers: int = 3


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """The task and its ranges."""

    task: str
    train_lengths: tuple[int, int]
    test_lengths: tuple[int, int]
    bits: int
    item_length: int = 3


PAPER_NET = NetSpec()
PAPER_TRAIN = TrainConfig(
    optimizer="adam",
    lr=1e-4,
    batch=32,
    max_sequences=1_000_000,
    eval_every=32 * 100,
    eval_size=256,
    max_wrong=0,
    grad_clip=10.0,
)
PAPER_TASKS = {
    "copy": TaskSpec(task="copy", train_lengths=(1, 20), test_lengths=(21, 120), bits=8),
    "recall": TaskSpec(task="recall", train_lengths=(2, 6), test_lengths=(7, 20), bits=6,
                       item_length=3),
}  # fmt: skip


def ntm_config(task: str, scale: str) -> dict[str, Any]:
    """The config of ``memory.ntm_<task>`` at ``scale``."""
    if scale == "smoke":
        spec = (TaskSpec(task="copy", train_lengths=(1, 3), test_lengths=(4, 6), bits=3)
                if task == "copy" else
                TaskSpec(task="recall", train_lengths=(2, 3), test_lengths=(4, 5), bits=3,
                         item_length=1))  # fmt: skip
        net = NetSpec(controller=8, memory_size=8, memory_width=4, lstm_hidden=8, lstm_layers=1)
        train = TrainConfig(
            optimizer="adam",
            lr=1e-2,
            batch=8,
            max_sequences=8 * 10,
            eval_every=8 * 5,
            eval_size=16,
            max_wrong=0,
            grad_clip=10.0,
        )
        seeds, per = 1, 2
    elif scale == "quick":
        spec = (TaskSpec(task="copy", train_lengths=(1, 6), test_lengths=(7, 24), bits=4)
                if task == "copy" else
                TaskSpec(task="recall", train_lengths=(2, 4), test_lengths=(5, 10), bits=4,
                         item_length=2))  # fmt: skip
        net = NetSpec(controller=64, memory_size=32, memory_width=8, lstm_hidden=64,
                      lstm_layers=1)  # fmt: skip
        batches = 1_000 if task == "copy" else 400
        train = TrainConfig(
            optimizer="adam",
            lr=3e-3,
            batch=32,
            max_sequences=32 * batches,
            eval_every=32 * 50,
            eval_size=128,
            max_wrong=0,
            grad_clip=10.0,
        )
        seeds, per = 3, 6
    else:
        spec, net, train, seeds, per = PAPER_TASKS[task], PAPER_NET, PAPER_TRAIN, REQUIRED_SEEDS, 32
    return {"task": asdict(spec), "net": asdict(net), "train": asdict(train), "seeds": seeds,
            "per_length": per}  # fmt: skip


def _task_spec(cfg: dict[str, Any]) -> TaskSpec:
    t = cfg["task"]
    return TaskSpec(**{**t, "train_lengths": tuple(t["train_lengths"]),
                       "test_lengths": tuple(t["test_lengths"])})  # fmt: skip


def is_paper_setup(cfg: dict[str, Any]) -> bool:
    """Whether the config is the paper's task, nets, budget and seeds."""
    spec = _task_spec(cfg)
    return (
        spec == PAPER_TASKS[spec.task] and NetSpec(**cfg["net"]) == PAPER_NET
        and TrainConfig(**cfg["train"]) == PAPER_TRAIN
    )  # fmt: skip


def final_cost(result: dict[str, Any]) -> float:
    """The last training cost of a run in bits per sequence (its curve's last row)."""
    curve = result["curve"]
    return bits_per_sequence(curve[-1][1]) if curve else math.inf


def ntm_judgement(cfg: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> Judgement:
    """The verdict of the module docstring from per-seed results of ``ntm`` and ``lstm``.

    Args:
        cfg: The experiment config.
        runs: ``{"ntm": [...], "lstm": [...]}``, one dict per seed with ``test``/``train``
            (`measure` results) and ``curve``.
    """
    spec = _task_spec(cfg)
    n = cfg["seeds"]
    ntm, lstm = runs["ntm"], runs["lstm"]
    fit = float(np.median([r["train"]["score"] for r in ntm]))
    evidence: list[Evidence] = [
        comparison(
            [r["test"]["mean_bit_errors"] for r in ntm],
            [r["test"]["mean_bit_errors"] for r in lstm],
            lower_is_better=True, paired=True,
            claim=f"{spec.task}: on the longer lengths {spec.test_lengths[0]}-"
            f"{spec.test_lengths[1]} the NTM makes fewer bit errors per sequence than the LSTM",
        ),
        comparison(
            [final_cost(r) for r in ntm], [final_cost(r) for r in lstm],
            lower_is_better=True, paired=True,
            claim=f"{spec.task}: the NTM's final training cost (bits per sequence) is below the "
            "LSTM's (it learns faster)",
        ),
        check(
            f"the NTM fits the training lengths {spec.train_lengths[0]}-{spec.train_lengths[1]} "
            f"(median accuracy >= {FIT})",
            fit >= FIT, n=n, ours=fit,
        ),
    ]  # fmt: skip
    train = TrainConfig(**cfg["train"])
    net = NetSpec(**cfg["net"])
    return judge(
        evidence,
        paper_setup=is_paper_setup(cfg),
        setup=f"{spec.task}: train {spec.train_lengths}, test {spec.test_lengths}, {spec.bits} "
        f"bits; NTM {net.controller} cells, memory {net.memory_size} x {net.memory_width}; LSTM "
        f"{net.lstm_layers} x {net.lstm_hidden}; {train.setup}, up to {train.max_sequences:,} "
        "sequences",
        trials=n,
        required=REQUIRED_SEEDS,
    )


def run_model(ctx: RunContext, cfg: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """Train and measure the seeds of one model (resumable through ``ctx.checkpointer``)."""
    spec = _task_spec(cfg)
    net_spec = NetSpec(**cfg["net"])
    train = TrainConfig(**cfg["train"])
    kw = {"bits": spec.bits, "item_length": spec.item_length}
    data_task = make_memory_task(spec.task, spec.train_lengths, spec.test_lengths, "train", **kw)
    test_task = make_memory_task(spec.task, spec.train_lengths, spec.test_lengths, "test", **kw)

    def after(net: LengthNet, result: TrialResult) -> dict[str, Any]:
        rng = np.random.default_rng(derive_seed(ctx.seed, ctx.name, "test", model, result.trial))
        return {"train": measure(net, data_task, cfg["per_length"], rng),
                "test": measure(net, test_task, cfg["per_length"], rng)}  # fmt: skip

    run = run_trials(
        make_net=lambda gen: build_memory_net(model, data_task, net_spec, gen),
        data=LogitBatches(data_task, train.batch),
        evaluation=TaskCriterion(task=data_task, eval_size=train.eval_size,
                                 max_wrong=train.max_wrong),
        config=train, trials=cfg["seeds"], seeds=ctx, hooks=ctx, label=model,
        on_trial_end=after,
    )  # fmt: skip
    return [{**r.extra, "sequences": r.sequences, "curve": r.curve} for r in run.results]


def run_ntm_experiment(ctx: RunContext) -> Outcome:
    """Train both models, judge, and plot the per-length errors and the training curves."""
    cfg = ctx.config
    runs = {m: run_model(ctx, cfg, m) for m in MODELS}
    judgement = ntm_judgement(cfg, runs)
    table = {
        m: {
            "test_mean_bit_errors": [r["test"]["mean_bit_errors"] for r in rs],
            "test_scores": [r["test"]["score"] for r in rs],
            "train_scores": [r["train"]["score"] for r in rs],
            "final_cost_bits": [final_cost(r) for r in rs],
            "sequences": [r["sequences"] for r in rs],
        }
        for m, rs in runs.items()
    }
    headline = float(np.median(table["ntm"]["test_mean_bit_errors"]))
    task = cfg["task"]["task"]
    plots = [plot_lengths(cfg, runs, ctx, f"ntm_{task}_per_length.png"),
             plot_curves(runs, ctx, f"ntm_{task}_training_cost.png")]  # fmt: skip
    notes = "; ".join(
        f"{m}: median bit errors per sequence on the test lengths "
        f"{np.median(v['test_mean_bit_errors']):.2f}, median accuracy train lengths "
        f"{np.median(v['train_scores']):.2f}, test lengths {np.median(v['test_scores']):.2f}"
        for m, v in table.items()
    )
    return Outcome(headline=headline, metrics={"runs": table, "per_seed": runs},
                   verdict=judgement, plots=plots, notes=notes)  # fmt: skip


def plot_lengths(
    cfg: dict[str, Any], runs: dict[str, list[dict[str, Any]]], ctx: RunContext, filename: str
) -> str:
    """Bit errors per sequence and exact accuracy against length, NTM and LSTM."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    ax_err, ax_acc = fig.subplots(1, 2)
    for k, (m, rs) in enumerate(runs.items()):
        for key, ax in (("bit_errors", ax_err), ("acc", ax_acc)):
            for i, r in enumerate(rs):
                d = {**r["train"][key], **r["test"][key]}
                xs = sorted(int(v) for v in d)
                ax.plot(xs, [d[str(v)] for v in xs], color=f"C{k}", lw=1, alpha=0.6,
                        label=None if i else m)  # fmt: skip
    for ax in (ax_err, ax_acc):
        ax.axvline(cfg["task"]["train_lengths"][1] + 0.5, color="grey", ls=":", lw=1)
        ax.set_xlabel("length (vectors copied / items)")
        ax.legend(fontsize=7)
    ax_err.set_ylabel("wrong bits per sequence")
    ax_acc.set_ylabel("sequences exactly right")
    fig.suptitle(f"{cfg['task']['task']}: trained on lengths up to "
                 f"{cfg['task']['train_lengths'][1]} (dotted line)", fontsize=9)  # fmt: skip
    fig.tight_layout()
    path = ctx.out_dir / filename
    fig.savefig(path, dpi=90)
    return path.name


def plot_curves(runs: dict[str, list[dict[str, Any]]], ctx: RunContext, filename: str) -> str:
    """Training cost (bits per sequence) against sequences seen, as Graves et al.'s Figs. 3, 10."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    for k, (m, rs) in enumerate(runs.items()):
        for i, r in enumerate(rs):
            c = np.asarray(r["curve"], dtype=float)
            if len(c):
                ax.plot(c[:, 0], c[:, 1] / math.log(2.0), color=f"C{k}", lw=1,
                        label=None if i else m)  # fmt: skip
    ax.set_xlabel("training sequences")
    ax.set_ylabel("cost per sequence (bits)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = ctx.out_dir / filename
    fig.savefig(path, dpi=90)
    return path.name


_CLAIM_NOTE = ("qualitative: the figures' numbers are not quoted; NTM 100-cell LSTM controller, "
               "memory 128 x 20, vs LSTM 3 x 256, RMSProp")  # fmt: skip


@register
class NTMCopyExperiment(Experiment):
    """NTM vs LSTM on the copy task, tested on longer sequences (Graves et al. 2014, Sec. 4.1)."""

    name = "memory.ntm_copy"
    system = "Neural Turing Machine (Graves, Wayne & Danihelka 2014)"
    claim = PaperClaim(
        citation="Graves, Wayne & Danihelka 2014, Sec. 4.1, Figs. 3-5",
        metric="copy: the NTM trained on lengths 1-20 copies up to 120 with few errors, the "
        "LSTM fails past 20",
        value=None,
        note=_CLAIM_NOTE,
    )
    headline_metric = "median bit errors per sequence of the NTM on the test lengths"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """The copy config at ``scale``."""
        return ntm_config("copy", scale)

    def run(self, ctx: RunContext) -> Outcome:
        """See `run_ntm_experiment`."""
        return run_ntm_experiment(ctx)


@register
class NTMRecallExperiment(Experiment):
    """NTM vs LSTM on associative recall, tested on more items (Graves et al. 2014, Sec. 4.3)."""

    name = "memory.ntm_recall"
    system = "Neural Turing Machine (Graves, Wayne & Danihelka 2014)"
    claim = PaperClaim(
        citation="Graves, Wayne & Danihelka 2014, Sec. 4.3, Figs. 10-11",
        metric="associative recall: the NTM trained on 2-6 items learns faster than the LSTM and "
        "generalizes to longer item lists",
        value=None,
        note=_CLAIM_NOTE,
    )
    headline_metric = "median bit errors per sequence of the NTM on the test lengths"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """The recall config at ``scale``."""
        return ntm_config("recall", scale)

    def run(self, ctx: RunContext) -> Outcome:
        """See `run_ntm_experiment`."""
        return run_ntm_experiment(ctx)
