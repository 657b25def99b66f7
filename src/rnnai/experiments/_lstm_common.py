"""Shared machinery of the LSTM reproductions (Hochreiter & Schmidhuber 1997; Gers et al. 2000,
2002; Greff et al. 2015): the network, training with the papers' stop criteria, checkpoints that
resume exactly, the verdict rule for "sequences to solve" claims, and the plots.

The network is one `rnnai.nn.lstm.LSTM` layer and a fully connected output layer with the
paper's output squashing (sigmoid for the 1997 tasks). Deviations from the 1997 architecture, for
every experiment that uses this module:

* one cell per memory block (the 1997 paper also uses blocks of 2 cells sharing their gates);
  `hidden` counts cells, each with its own gates;
* the output layer sees the cell outputs only (the 1997 nets sometimes also connect the input
  units directly to the outputs, and gates and cells also receive the gates' previous outputs);
* weights are drawn uniformly from [-init_range, init_range] and the paper's negative output-gate
  (and input-gate) biases are set per block, cycling through the given values.

Two training setups are supported and always labelled in the results:

* ``sgd`` with ``batch=1``: the 1997 setup, online gradient descent on the squared error
  (weights updated after every sequence) with the paper's learning rate;
* ``adam`` with minibatches: a modern optimizer, used where the 1997 setup does not fit a quick
  run; reported as such, never as the paper's setup.

A run counts training sequences; it is "solved" when a fixed evaluation set of fresh sequences
meets the task's criterion (at most ``max_wrong`` wrong sequences and, if given, mean absolute
error at most ``max_mean_error``), checked every ``eval_every`` sequences.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnai.experiments.base import RunContext
from rnnai.nn.lstm import LSTM, VARIANTS, LSTMVariant
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.seeding import numpy_rng_state, set_numpy_rng_state
from rnnai.tasks.base import SequenceBatch, SequenceTask

__all__ = [
    "NetConfig",
    "SequenceNet",
    "TrainConfig",
    "TrialResult",
    "combine_verdicts",
    "evaluate",
    "plot_internals",
    "plot_learning_curves",
    "sequences_verdict",
    "train_trials",
]


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class NetConfig:
    """The network of one reproduction."""

    variant: str | LSTMVariant = "lstm1997"
    """An `rnnai.nn.lstm.VARIANTS` preset name, or an `LSTMVariant` (e.g. a preset changed with
    `dataclasses.replace`)."""
    hidden: int = 4
    """Memory cells (one per block)."""
    init_range: float = 0.1
    """Weights uniform in [-init_range, init_range] (1997: 0.1 or 0.2)."""
    output_gate_bias: tuple[float, ...] = ()
    """Output-gate biases per block, cycled (1997: e.g. -1, -2, -3, -4); () keeps the draw."""
    input_gate_bias: tuple[float, ...] = ()
    """Input-gate biases per block, cycled; () keeps the draw."""
    forget_gate_bias: float | None = None
    """Forget-gate bias (Gers 2000 start with open forget gates, e.g. +1); None keeps the draw."""
    output: str = "sigmoid"
    """Output units' squashing: "sigmoid" or "linear"."""
    input_to_output: bool = False
    """Also connect the input units directly to the output units (some 1997 nets, e.g. Exp. 2a,
    where the local next-symbol predictions need no memory)."""

    def __post_init__(self) -> None:
        if self.output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {self.output!r}")
        if self.hidden < 1 or self.init_range <= 0:
            raise ValueError("hidden must be >= 1 and init_range > 0")


@dataclass(frozen=True)
class TrainConfig:
    """How a reproduction trains and when it stops."""

    optimizer: str = "sgd"
    """"sgd" (the papers' gradient descent) or "adam" (a modern optimizer, labelled as such)."""
    lr: float = 0.1
    """Learning rate."""
    batch: int = 1
    """Sequences per weight update (1 = online, the 1997 setup)."""
    max_sequences: int = 10_000
    """Training budget in sequences per trial."""
    eval_every: int = 1_000
    """Check the stop criterion every this many training sequences."""
    eval_size: int = 512
    """Fresh sequences in the evaluation set (drawn once per trial)."""
    max_wrong: int = 0
    """Solved when at most this many evaluation sequences are wrong ..."""
    max_mean_error: float | None = None
    """... and (if set) the mean absolute error at the judged steps is at most this."""
    grad_clip: float | None = None
    """Clip the gradient norm (None: no clipping, as in the papers)."""

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        for name in ("batch", "max_sequences", "eval_every", "eval_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    @property
    def setup(self) -> str:
        """A label saying which learning setup this is."""
        if self.optimizer == "sgd" and self.batch == 1:
            return f"1997 setup: online SGD, lr {self.lr}"
        return f"modern setup: {self.optimizer} lr {self.lr}, batch {self.batch}"


@dataclass
class TrialResult:
    """One trial (one seed) of a reproduction."""

    trial: int
    solved: bool
    sequences: int
    """Training sequences until solved (or the budget used when not solved)."""
    eval_wrong: int
    eval_size: int
    eval_error: float
    curve: list[list[float]] = field(default_factory=list)
    """Rows [sequences, mean training loss, evaluation wrong fraction, evaluation mean error]."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


# ----------------------------------------------------------------------------- the network
class SequenceNet(nn.Module):
    """LSTM layer + fully connected output layer with the task's squashing.

    Input (B, T, I), output (B, T, O) after the output squashing.
    """

    def __init__(self, n_in: int, n_out: int, cfg: NetConfig, generator: torch.Generator):
        super().__init__()
        self.cfg = cfg
        self.lstm = LSTM(n_in, cfg.hidden, batch_first=True, variant=cfg.variant)
        self.head = nn.Linear(cfg.hidden + (n_in if cfg.input_to_output else 0), n_out)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * cfg.init_range)
            self._set_gate_biases()

    def _set_gate_biases(self) -> None:
        lstm, cfg, H = self.lstm, self.cfg, self.cfg.hidden
        slices = lstm._plan.slices
        for gate, values in (("o", cfg.output_gate_bias), ("i", cfg.input_gate_bias)):
            if values and gate in slices:
                b = torch.tensor([values[k % len(values)] for k in range(H)], dtype=torch.float32)
                lstm.bias_ih_l0[slices[gate]] = b
                lstm.bias_hh_l0[slices[gate]] = 0.0
        if cfg.forget_gate_bias is not None and "f" in slices:
            lstm.bias_ih_l0[slices["f"]] = cfg.forget_gate_bias
            lstm.bias_hh_l0[slices["f"]] = 0.0

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, I) -> (B, T, O).

        `lengths` is accepted for symmetry but not used: the net is causal, so the outputs at a
        sequence's real steps do not depend on its padding, and padded steps are masked out of the
        loss and the criterion (this keeps the fused kernel off its slow packed path).
        """
        del lengths
        y, _ = self.lstm(x)
        if self.cfg.input_to_output:
            y = torch.cat([y, x], dim=-1)  # (B, T, H + I)
        out = self.head(y)
        return torch.sigmoid(out) if self.cfg.output == "sigmoid" else out


def _to_torch(batch: SequenceBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Any]:
    x = torch.from_numpy(batch.x)
    y = torch.from_numpy(batch.y)
    mask = torch.from_numpy(batch.mask)
    lengths = None
    if (batch.lengths != batch.x.shape[1]).any():
        lengths = torch.from_numpy(batch.lengths)
    return x, y, mask, lengths


def masked_sse(out: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Half the squared error summed over judged steps and outputs, averaged over sequences."""
    err = (out - y) ** 2 * mask.unsqueeze(-1)  # (B, T, O)
    return 0.5 * err.sum() / out.shape[0]


@torch.no_grad()
def evaluate(
    net: SequenceNet, task: SequenceTask, batch: SequenceBatch, chunk: int = 512
) -> tuple[int, float, np.ndarray]:
    """Judge the network on a fixed batch.

    Returns:
        (number of wrong sequences, mean absolute error at judged steps, outputs (B, T, O)).
    """
    was_training = net.training
    net.eval()
    outs = []
    for start in range(0, batch.batch_size, chunk):
        sub = _slice_batch(batch, start, start + chunk)
        x, _, _, lengths = _to_torch(sub)
        outs.append(net(x, lengths).numpy())
    net.train(was_training)
    out = np.concatenate(outs, axis=0)
    ok = task.correct(out, batch)
    err = np.abs(out - batch.y)[batch.mask].mean() if batch.mask.any() else 0.0
    return int((~ok).sum()), float(err), out


def _slice_batch(batch: SequenceBatch, a: int, b: int) -> SequenceBatch:
    info = {
        k: v[a:b]
        for k, v in batch.info.items()
        if hasattr(v, "__len__") and len(v) == batch.batch_size
    }
    return SequenceBatch(batch.x[a:b], batch.y[a:b], batch.mask[a:b], batch.lengths[a:b], info)


def _make_optimizer(net: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(net.parameters(), lr=cfg.lr)
    return torch.optim.Adam(net.parameters(), lr=cfg.lr)


# ----------------------------------------------------------------------------- training
def train_trials(
    ctx: RunContext,
    make_task: Callable[[], SequenceTask],
    net_cfg: NetConfig,
    train_cfg: TrainConfig,
    trials: int,
    label: str = "train",
) -> list[TrialResult]:
    """Train `trials` networks (one per derived seed) until solved or out of budget.

    Checkpoints at every evaluation (deterministic points): the finished trials, the current
    network and optimizer, the data generator and the counters, so that a killed run resumed
    with ``--resume`` ends with exactly the same results. The last finished trial's network of
    every label is kept in the checkpoint too, so `last_net` (the internal views) survives a
    resume. Several calls in one experiment need distinct ``label`` s.
    """
    task = make_task()
    results: list[TrialResult] = []
    state: dict[str, Any] | None = None
    loaded = ctx.checkpointer.load()
    tensors: dict[str, torch.Tensor] = {}
    # Last finished networks of every label so far: tensors named "last/<label>/..." and their
    # skeletons; carried through every save of this run.
    kept: dict[str, torch.Tensor] = {}
    last_skel: dict[str, Any] = {}
    if loaded is not None:
        tensors, saved = loaded
        kept = {k: v for k, v in tensors.items() if k.startswith("last/")}
        last_skel = dict(saved.get("last_nets", {}))
        done_labels = saved.get("done_labels", {})
        if label in done_labels:  # this whole call finished before the kill
            _remember(ctx, label, _restore_last(task, net_cfg, last_skel.get(label), kept))
            return [TrialResult(**r) for r in done_labels[label]]
        if saved.get("label") == label:
            state = saved
            results = [TrialResult(**r) for r in saved["results"]]
    prior = loaded[1].get("done_labels", {}) if loaded is not None else {}

    def save(t: dict[str, torch.Tensor], st: dict[str, Any]) -> None:
        ctx.checkpointer.save({**t, **kept}, {**st, "last_nets": last_skel})

    total = trials * train_cfg.max_sequences
    net = None
    with ctx.progress(total, f"{label} ({train_cfg.setup})") as bar:
        bar.advance(sum(min(r.sequences, train_cfg.max_sequences) for r in results))
        for trial in range(len(results), trials):
            gen = ctx.torch_generator(label, "init", trial)
            net = SequenceNet(task.input_size, task.output_size, net_cfg, gen)
            opt = _make_optimizer(net, train_cfg)
            data_rng = ctx.rng(label, "data", trial)
            eval_batch = task.sample(ctx.rng(label, "eval", trial), train_cfg.eval_size)
            seen, curve, loss_acc, loss_n = 0, [], 0.0, 0
            if state is not None and state.get("trial") == trial and "nets" in state:
                nets = unpack_state(state["nets"], tensors)
                net.load_state_dict(nets["net"])
                opt.load_state_dict(nets["opt"])
                set_numpy_rng_state(data_rng, state["data_rng"])
                seen, curve = state["seen"], state["curve"]
                bar.advance(seen)
            state = None
            solved = False
            wrong, err = train_cfg.eval_size, float("nan")
            if curve:
                wrong = round(curve[-1][2] * train_cfg.eval_size)
                err = curve[-1][3]
            while seen < train_cfg.max_sequences:
                batch = task.sample(data_rng, train_cfg.batch)
                x, y, mask, lengths = _to_torch(batch)
                loss = masked_sse(net(x, lengths), y, mask)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if train_cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(net.parameters(), train_cfg.grad_clip)
                opt.step()
                seen += train_cfg.batch
                loss_acc += float(loss.detach()) * train_cfg.batch
                loss_n += train_cfg.batch
                bar.advance(train_cfg.batch)
                if seen % train_cfg.eval_every < train_cfg.batch or seen >= train_cfg.max_sequences:
                    wrong, err, _ = evaluate(net, task, eval_batch)
                    curve.append(
                        [seen, loss_acc / max(loss_n, 1), wrong / train_cfg.eval_size, err]
                    )
                    loss_acc, loss_n = 0.0, 0
                    bar.update(trial=trial, seen=seen, wrong=f"{wrong}/{train_cfg.eval_size}")
                    solved = wrong <= train_cfg.max_wrong and (
                        train_cfg.max_mean_error is None or err <= train_cfg.max_mean_error
                    )
                    if solved:
                        break
                    t_packed, skel = pack_state({"net": net.state_dict(), "opt": opt.state_dict()})
                    save(
                        t_packed,
                        {
                            "label": label,
                            "trial": trial,
                            "seen": seen,
                            "curve": curve,
                            "data_rng": numpy_rng_state(data_rng),
                            "results": [r.to_dict() for r in results],
                            "nets": skel,
                            "done_labels": prior,
                        },
                    )
            results.append(TrialResult(trial, solved, seen, wrong, train_cfg.eval_size, err, curve))
            bar.advance(max(0, train_cfg.max_sequences - seen))
            prefix = f"last/{label}/"
            packed, last_skel[label] = pack_state(net.state_dict(), prefix=prefix)
            kept = {k: v for k, v in kept.items() if not k.startswith(prefix)} | packed
            save(
                {},
                {
                    "label": label,
                    "trial": trial + 1,
                    "results": [r.to_dict() for r in results],
                    "done_labels": prior,
                },
            )
            ctx.log(
                f"{label} trial {trial}: {'solved' if solved else 'not solved'} after "
                f"{seen:,} sequences ({wrong}/{train_cfg.eval_size} wrong, mean error {err:.4f})"
            )
    done = dict(prior)
    done[label] = [r.to_dict() for r in results]
    save({}, {"label": None, "done_labels": done})
    if net is None:  # every trial had finished before a resume
        net = _restore_last(task, net_cfg, last_skel.get(label), kept)
    _remember(ctx, label, net)
    return results


def _restore_last(
    task: SequenceTask, net_cfg: NetConfig, skeleton: Any, tensors: dict[str, torch.Tensor]
) -> SequenceNet | None:
    """Rebuild a last-trial network saved by `train_trials` (None if none was saved)."""
    if skeleton is None:
        return None
    net = SequenceNet(task.input_size, task.output_size, net_cfg, torch.Generator())
    net.load_state_dict(unpack_state(skeleton, tensors))
    return net


# The last trial's network per (run folder, label), for the internal views of the run that
# trained (or resumed) it; keyed by the run's folder so that runs in one process never mix.
_LAST_NETS: dict[tuple[str, str], SequenceNet] = {}


def _remember(ctx: RunContext, label: str, net: SequenceNet | None) -> None:
    key = (str(ctx.out_dir.resolve()), label)
    if net is None:
        _LAST_NETS.pop(key, None)
    else:
        _LAST_NETS[key] = net


def last_net(ctx: RunContext, label: str) -> SequenceNet | None:
    """The network of the last trial that `train_trials` trained under `label` in this run
    (restored from the checkpoint after a resume); None if it trained none."""
    return _LAST_NETS.get((str(ctx.out_dir.resolve()), label))


# ----------------------------------------------------------------------------- verdict
def sequences_verdict(
    results: list[TrialResult],
    paper_sequences: float,
    paper_success: float = 1.0,
    paper_task: bool = True,
    factor: float = 3.0,
) -> tuple[str, dict[str, Any]]:
    """The verdict rule for a "training sequences until solved" claim.

    reproduced: the run used the paper's task (`paper_task`), at least the paper's fraction of
    trials solved it, and the median sequences-to-solve of the solved trials is within `factor`
    times the paper's number. partial: at least one trial solved it, but slower, less often or
    on a reduced task. not_reproduced: no trial solved it.

    Returns:
        (verdict, summary metrics: trials, solved, success_rate, median/min/max sequences).
    """
    solved = [r.sequences for r in results if r.solved]
    rate = len(solved) / len(results) if results else 0.0
    summary: dict[str, Any] = {
        "trials": len(results),
        "solved": len(solved),
        "success_rate": rate,
        "median_sequences": statistics.median(solved) if solved else None,
        "min_sequences": min(solved) if solved else None,
        "max_sequences": max(solved) if solved else None,
    }
    if not solved:
        return "not_reproduced", summary
    fast = statistics.median(solved) <= factor * paper_sequences
    if paper_task and rate + 1e-9 >= paper_success and fast:
        return "reproduced", summary
    return "partial", summary


def combine_verdicts(verdicts: list[str]) -> str:
    """Several settings' verdicts in one.

    All reproduced -> reproduced; all not_reproduced -> not_reproduced; else partial.
    """
    if verdicts and all(v == "reproduced" for v in verdicts):
        return "reproduced"
    if all(v == "not_reproduced" for v in verdicts):
        return "not_reproduced"
    return "partial"


# ----------------------------------------------------------------------------- plots
def plot_learning_curves(
    groups: dict[str, list[TrialResult]], path: Path, title: str, paper: float | None = None
) -> str:
    """Evaluation error fraction against training sequences, one line per trial."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    colors = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    for k, (name, results) in enumerate(groups.items()):
        for j, r in enumerate(results):
            if not r.curve:
                continue
            c = np.asarray(r.curve)
            ax.plot(
                c[:, 0],
                np.maximum(c[:, 2], 1e-4),
                color=colors[k % 8],
                alpha=0.8,
                label=name if j == 0 else None,
            )
    if paper is not None:
        ax.axvline(paper, color="k", ls="--", lw=1, label="paper: sequences to solve")
    ax.set_yscale("log")
    ax.set_xlabel("training sequences")
    ax.set_ylabel("fraction of evaluation sequences wrong")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def plot_internals(
    net: SequenceNet,
    batch: SequenceBatch,
    path: Path,
    title: str,
    index: int = 0,
    symbols: list[str] | None = None,
    max_cells: int = 4,
) -> str:
    """One sequence: inputs, cell states, gate activity and output vs. target over time."""
    from matplotlib.figure import Figure

    L = int(batch.lengths[index])
    x = torch.from_numpy(batch.x[index : index + 1, :L])
    tr = net.lstm.trace(x)
    with torch.no_grad():
        out = net(x)[0].numpy()
    fig = Figure(figsize=(9, 7.5))
    axes = fig.subplots(4, 1, sharex=True)
    axes[0].imshow(batch.x[index, :L].T, aspect="auto", interpolation="nearest", cmap="Greys")
    axes[0].set_ylabel("input unit")
    if symbols is not None and len(symbols) == batch.x.shape[2]:
        axes[0].set_yticks(range(len(symbols)), symbols, fontsize=6)
    n_cells = min(max_cells, net.cfg.hidden)
    t = np.arange(L)
    for k in range(n_cells):
        axes[1].plot(t, tr["c"][:, 0, k].numpy(), label=f"cell {k}")
    axes[1].set_ylabel("cell state c")
    axes[1].legend(fontsize=7, ncol=n_cells)
    styles = {"i": "-", "o": "--", "f": ":"}
    for g, ls in styles.items():
        if g in tr:
            for k in range(n_cells):
                axes[2].plot(
                    t,
                    tr[g][:, 0, k].numpy(),
                    ls=ls,
                    color=f"C{k}",
                    label=f"{g} gate" if k == 0 else None,
                )
    axes[2].set_ylabel("gate activation")
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].legend(fontsize=7, ncol=3)
    m = batch.mask[index, :L]
    for o in range(out.shape[1]):
        axes[3].plot(t, out[:, o], color=f"C{o % 10}", lw=1)
        axes[3].plot(t[m], batch.y[index, :L, o][m], "o", color=f"C{o % 10}", ms=3)
    axes[3].set_ylabel("output (dots: targets)")
    axes[3].set_xlabel("time step")
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path.name


def fmt_setup(cfg: TrainConfig, net: NetConfig) -> str:
    """One line saying which network and learning setup a run used."""
    name = net.variant
    if isinstance(name, LSTMVariant):
        name = next((k for k, v in VARIANTS.items() if v == name), "custom-variant")
    return f"{name} LSTM, {net.hidden} cells; {cfg.setup}"


def nan_to_none(x: float) -> float | None:
    """JSON-friendly float."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x
