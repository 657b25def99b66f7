"""`lstm.reber`: the embedded Reber grammar, Hochreiter & Schmidhuber 1997, Experiment 1.

Paper: S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8),
1735-1780, 1997, Section 5.1. Task (`rnnai.tasks.reber`): next-symbol prediction on embedded
Reber strings ``B c <Reber string> c E`` (c = T or P), 7 one-hot inputs and 7 sigmoid outputs;
the target at each step is the set of legal next symbols. The net must keep c (the second symbol)
across the inner string to predict the second-to-last one. 256 training strings and 256 test
strings (not in the training set), drawn once per trial (`reber_datasets`). A string is right if
at every step every output is on the correct side of 0.5; the task is solved when every test
string is right. Paper: LSTM with 3 memory blocks of 2 cells, learning rate 0.5, solved it in
100% of the trials after 8,440 training sequences (range 3,800-24,100); 4 blocks of 1 cell with
learning rate 0.1 needed 39,740.

Training (all scales): the 1997 setup: online gradient descent on the squared error, one
training string per weight update, learning rate 0.5, strings drawn uniformly (with replacement,
by the trial's data generator) from the trial's fixed training set; the net is reset after each
string. Every `eval_every` sequences the net is judged on the fixed test set; "sequences to solve"
counts the training strings presented until the first check with 0 test strings wrong. This needs
a fixed training set, so the module has its own loop (`train_on_fixed_sets`), with the same
network (`SequenceNet`), criterion (`evaluate`) and exact checkpoint/resume as `train_trials`.

Network: `lstm1997` variant (no forget gate, g = 4 sigma - 2, h = 2 sigma - 1, the 1997 truncated
gradient), 6 memory cells, sigmoid outputs fed by the cell outputs, weights uniform in
[-0.2, 0.2], output-gate biases -1, -1, -2, -2, -3, -3 (the paper's negative output-gate
biases per block, blocks 1-3; values from memory, unverified).

Deviations from the paper:
* 6 cells with one set of gates each instead of 3 blocks of 2 cells sharing their gates
  (`_lstm_common`); output units see the cell outputs only.
* The paper's order of training-set presentation is not known to us; we draw strings uniformly
  with replacement. Success is judged on the test set only, every `eval_every` sequences, so
  sequences-to-solve is resolved to that step (100 sequences).

Scales:
* smoke: 1 trial, 300 sequences (checks the machinery, not the claim).
* quick: 3 trials of the 1997 setup, budget 40,000 sequences each.
* paper: 10 trials of the 1997 setup, budget 100,000 sequences each.

Verdict (`sequences_verdict`): reproduced when the run is the paper's setup, every trial solves
the task and the median sequences-to-solve is within 3x of 8,440; partial when some but not all
trials solve it or they are slower; not_reproduced when no trial solves it. Quick and paper
scales both use the paper's setup (the quick scale only has fewer trials and a smaller budget).

Internal views: the learning curves (test strings wrong against training sequences), one test
string through the trained net (`plot_internals`), and the cell that carries c: its state over a
T-string and a P-string, which stay apart across the inner string until c must be predicted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.experiments._lstm_common import (
    NetConfig,
    SequenceNet,
    TrainConfig,
    TrialResult,
    evaluate,
    fmt_setup,
    masked_sse,
    plot_internals,
    plot_learning_curves,
    sequences_verdict,
)
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.seeding import numpy_rng_state, set_numpy_rng_state
from rnnai.tasks.base import SequenceBatch
from rnnai.tasks.reber import SYMBOLS, ReberTask, reber_datasets, strings_to_batch

PAPER_SEQUENCES = 8_440
"""1997, Table 1: LSTM 3 blocks x 2 cells, learning rate 0.5 (mean of the successful trials)."""

NET = NetConfig(
    variant="lstm1997",
    hidden=6,
    init_range=0.2,
    output_gate_bias=(-1.0, -1.0, -2.0, -2.0, -3.0, -3.0),
)


# ----------------------------------------------------------------------------- training
def _rows(batch: SequenceBatch, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    """Rows `idx` of a fixed set, trimmed to their longest length: x, y, mask, lengths|None."""
    lengths = batch.lengths[idx]
    L = int(lengths.max())
    x = torch.from_numpy(batch.x[idx, :L])  # (B, L, 7)
    y = torch.from_numpy(batch.y[idx, :L])
    mask = torch.from_numpy(batch.mask[idx, :L])
    lens = None if (lengths == L).all() else torch.from_numpy(lengths)
    return x, y, mask, lens


def _make_optimizer(net: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(net.parameters(), lr=cfg.lr)
    return torch.optim.Adam(net.parameters(), lr=cfg.lr)


def train_on_fixed_sets(
    ctx: RunContext,
    net_cfg: NetConfig,
    train_cfg: TrainConfig,
    trials: int,
    n_train: int = 256,
    n_test: int = 256,
    checkpoint_every: int = 1_000,
    label: str = "reber",
) -> tuple[list[TrialResult], SequenceNet | None]:
    """Train `trials` nets, each on its own fixed training set, until its test set is solved.

    Per trial: the training and test sets come from ``ctx.rng(label, "sets", trial)``, the
    weights from ``ctx.torch_generator(label, "init", trial)``, the order of presentation from
    ``ctx.rng(label, "data", trial)``. Evaluates on the whole test set every
    ``train_cfg.eval_every`` sequences (solved: at most ``train_cfg.max_wrong`` strings wrong) and
    checkpoints every ``checkpoint_every`` sequences (a multiple of ``eval_every``) and after each
    trial, so that a killed run resumed with ``--resume`` ends with identical results.

    Returns:
        The trial results and the last trial's trained net (None only if ``trials`` is 0).
    """
    if checkpoint_every % train_cfg.eval_every:
        raise ValueError("checkpoint_every must be a multiple of eval_every")
    task = ReberTask()
    results: list[TrialResult] = []
    state: dict[str, Any] | None = None
    tensors: dict[str, torch.Tensor] = {}
    loaded = ctx.checkpointer.load()
    if loaded is not None:
        tensors, state = loaded
        results = [TrialResult(**r) for r in state["results"]]
    net: SequenceNet | None = None
    B = train_cfg.batch
    with ctx.progress(trials * train_cfg.max_sequences, f"{label} ({train_cfg.setup})") as bar:
        bar.advance(sum(train_cfg.max_sequences for _ in results))
        for trial in range(len(results), trials):
            train_set, test_set = reber_datasets(ctx.rng(label, "sets", trial), n_train, n_test)
            net = SequenceNet(7, 7, net_cfg, ctx.torch_generator(label, "init", trial))
            opt = _make_optimizer(net, train_cfg)
            data_rng = ctx.rng(label, "data", trial)
            seen, curve, loss_acc, loss_n = 0, [], 0.0, 0
            if state is not None and state.get("trial") == trial and "nets" in state:
                nets = unpack_state(state["nets"], tensors)
                net.load_state_dict(nets["net"])
                opt.load_state_dict(nets["opt"])
                set_numpy_rng_state(data_rng, state["data_rng"])
                seen, curve = state["seen"], state["curve"]
                bar.advance(seen)
            state = None
            solved, wrong, err = False, n_test, float("nan")
            while seen < train_cfg.max_sequences:
                idx = data_rng.integers(0, n_train, size=B)  # strings of the fixed training set
                x, y, mask, lens = _rows(train_set, idx)
                loss = masked_sse(net(x, lens), y, mask)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                seen += B
                loss_acc, loss_n = loss_acc + float(loss.detach()) * B, loss_n + B
                bar.advance(B)
                if seen % train_cfg.eval_every < B or seen >= train_cfg.max_sequences:
                    wrong, err, _ = evaluate(net, task, test_set)
                    curve.append([seen, loss_acc / max(loss_n, 1), wrong / n_test, err])
                    loss_acc, loss_n = 0.0, 0
                    bar.update(trial=trial, seen=seen, wrong=f"{wrong}/{n_test}")
                    solved = wrong <= train_cfg.max_wrong
                    if solved:
                        break
                    if seen % checkpoint_every < B and seen < train_cfg.max_sequences:
                        packed, skel = pack_state(
                            {"net": net.state_dict(), "opt": opt.state_dict()}
                        )
                        ctx.checkpointer.save(
                            packed,
                            {
                                "trial": trial,
                                "seen": seen,
                                "curve": curve,
                                "data_rng": numpy_rng_state(data_rng),
                                "results": [r.to_dict() for r in results],
                                "nets": skel,
                            },
                        )
            results.append(TrialResult(trial, solved, seen, wrong, n_test, err, curve))
            bar.advance(train_cfg.max_sequences - seen)
            # After each trial: the results so far and this trial's net (for the internal view).
            packed, skel = pack_state({"last": net.state_dict()})
            ctx.checkpointer.save(
                packed,
                {"trial": trial + 1, "results": [r.to_dict() for r in results], "last": skel},
            )
            ctx.log(
                f"trial {trial}: {'solved' if solved else 'not solved'} after {seen:,} sequences "
                f"({wrong}/{n_test} test strings wrong, mean error {err:.4f})"
            )
    if net is None and loaded is not None and "last" in loaded[1]:  # all trials done before
        net = SequenceNet(7, 7, net_cfg, torch.Generator().manual_seed(0))
        net.load_state_dict(unpack_state(loaded[1]["last"], loaded[0])["last"])
    return results, net


# ----------------------------------------------------------------------------- internal view
def carrier_cell(net: SequenceNet, t_string: SequenceBatch, p_string: SequenceBatch) -> int:
    """The cell whose state differs most between twin T- and P-strings just before c is due."""
    c_t = net.lstm.trace(torch.from_numpy(t_string.x))["c"][:, 0]  # (L, H)
    c_p = net.lstm.trace(torch.from_numpy(p_string.x))["c"][:, 0]
    # The prediction of c (the second-to-last symbol) is made at input step L-2.
    gap = (c_t[int(t_string.lengths[0]) - 2] - c_p[int(p_string.lengths[0]) - 2]).abs()
    return int(gap.argmax())


def plot_carrier(net: SequenceNet, strings: list[str], path: Path) -> str:
    """Cell states over a T-string and a P-string: the carrier cell keeps them apart."""
    from matplotlib.figure import Figure

    t_b, p_b = strings_to_batch([strings[0]]), strings_to_batch([strings[1]])
    k = carrier_cell(net, t_b, p_b)
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    for s, b, ls in ((strings[0], t_b, "-"), (strings[1], p_b, "--")):
        c = net.lstm.trace(torch.from_numpy(b.x))["c"][:, 0].numpy()  # (L, H)
        for j in range(c.shape[1]):
            ax.plot(
                c[:, j],
                ls=ls,
                color=f"C{j}",
                lw=2.5 if j == k else 0.8,
                alpha=1 if j == k else 0.5,
                label=f"cell {j}, 2nd symbol {s[1]}" if j == k else None,
            )
        ax.text(len(s) - 2, c[-1, k], f" {s[1]}", fontsize=9)
    ax.set_xlabel("time step (input symbol index)")
    ax.set_ylabel("cell state c")
    ax.set_title(
        f"Cell {k} keeps the 2nd symbol: twin strings that differ only in it\n"
        f"{strings[0]} (solid) vs {strings[1]} (dashed); thick: cell {k}",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def _view_strings(test: SequenceBatch) -> list[str]:
    """The longest test string ``B T <inner> T E`` and its twin ``B P <inner> P E``.

    The twins differ only in c, so a cell whose state differs between them at the end carries c.
    """
    sym = test.info["symbols"]
    strings = ["".join(SYMBOLS[s] for s in row if s >= 0) for row in sym]
    t = "BT" + max((s[2:-2] for s in strings), key=len) + "TE"
    return [t, "BP" + t[2:-2] + "PE"]


# ----------------------------------------------------------------------------- experiment
@register
class ReberExperiment(Experiment):
    """Embedded Reber grammar (1997 Exp. 1): training sequences until the test set is solved."""

    name = "lstm.reber"
    system = "LSTM (1997)"
    claim = PaperClaim(
        citation="Hochreiter & Schmidhuber 1997, Exp. 1",
        metric="training sequences until all 256 test strings are predicted right "
        "(3 blocks x 2 cells, lr 0.5)",
        value=PAPER_SEQUENCES,
        lower_is_better=True,
        note="100% of trials solved it; range 3,800-24,100",
    )
    headline_metric = "median training sequences until all test strings are right"
    tour = True  # the one quick run in the 1997 setup; about 2.5 min of CPU time (3 trials)

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: trials, budget and the (1997) learning setup."""
        trials, budget = {"smoke": (1, 300), "quick": (3, 40_000), "paper": (10, 100_000)}[scale]
        train = TrainConfig("sgd", 0.5, 1, budget, 100, 256, 0)
        return {
            "net": NET.__dict__ | {"output_gate_bias": list(NET.output_gate_bias)},
            "train": train.__dict__,
            "trials": trials,
            "n_train": 256,
            "n_test": 256,
            "checkpoint_every": 1_000,
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train the trials, judge them against the paper, plot curves and the carrier cell."""
        cfg = ctx.config
        train = TrainConfig(**cfg["train"])
        results, net = train_on_fixed_sets(
            ctx, NET, train, cfg["trials"], cfg["n_train"], cfg["n_test"], cfg["checkpoint_every"]
        )
        paper_setup = train.setup.startswith("1997")
        verdict, summary = sequences_verdict(results, PAPER_SEQUENCES, 1.0, paper_setup)
        metrics = summary | {
            "setup": fmt_setup(train, NET),
            "paper_sequences": PAPER_SEQUENCES,
            "sequences_per_trial": [r.sequences for r in results],
            "final_test_wrong": [r.eval_wrong for r in results],
        }
        plots = [
            plot_learning_curves(
                {"LSTM 1997 setup": results},
                ctx.out_dir / "learning_curve.png",
                "Embedded Reber: test strings wrong",
                paper=PAPER_SEQUENCES,
            )
        ]
        if net is not None:
            _, test = reber_datasets(ctx.rng("reber", "sets", cfg["trials"] - 1))
            strings = _view_strings(test)
            plots.append(
                plot_internals(
                    net,
                    strings_to_batch([strings[0]]),
                    ctx.out_dir / "internals.png",
                    f"Embedded Reber, last trial's net on {strings[0]}",
                    symbols=list(SYMBOLS),
                    max_cells=6,
                )
            )
            plots.append(plot_carrier(net, strings, ctx.out_dir / "carrier_cell.png"))
        notes = (
            f"{fmt_setup(train, NET)}: {summary['solved']}/{summary['trials']} trials solved; "
            f"median sequences {summary['median_sequences']} (range {summary['min_sequences']}-"
            f"{summary['max_sequences']}; paper {PAPER_SEQUENCES:,}, 3,800-24,100)."
        )
        return Outcome(
            headline=summary["median_sequences"],
            metrics=metrics,
            verdict=verdict,
            plots=plots,
            notes=notes,
        )
