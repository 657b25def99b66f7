"""`lstm.multiplication`: the multiplication problem, Hochreiter & Schmidhuber 1997, Experiment 5.

Paper: S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8):1735-1780,
1997, Section 5.5. Task (`rnnai.tasks.MultiplicationTask`): as the adding problem (Exp. 4), pairs
(value, marker) of length T .. T + T/10, T = 100, the first marked value X1 among the first 10
pairs and X2 among the first T/2 - 1, but values are drawn from [0, 1] and the target at the end is
X1 * X2. A sequence counts as wrong if the absolute error at its end is 0.04 or more (as Exp. 4).

What the paper reports, and what we could check. `docs/PAPERS.md` reads the result as "MSE 0.0223
after 482,000 sequences, 0.0139 after 1,273,000"; the task author recalls instead the number of
wrong test sequences, 140 and 13 out of 2,560, at two stop thresholds on the average training error.
We searched for the journal text (docslib.org and other copies) and did not find the Exp. 5 passage
or its table; the one secondary page found (cybertronai "schmidhuber-problems", multiplication)
repeats "MSE 0.0223 after 482k sequences". So the question is not settled by a primary source. Two
facts favour the wrong-count reading: a constant guess of E[X1 X2] = 1/4 already has MSE
Var(X1 X2) = 1/9 - 1/16 = 0.0486, so "MSE 0.0223" would describe a net that barely learned; and an
average error of about 0.02 (0.0223, 0.0139) fits a net with a few percent of errors above 0.04,
i.e. with 140 or 13 wrong of 2,560. We therefore take as the claim 140 wrong test sequences of
2,560 after 482,000 training sequences (and 13 after 1,273,000), flagged as unverified, and report
our test MSE, mean absolute error and training MSE beside it so either reading can be compared.

Network (1997, "as in Exp. 4"): 2 memory blocks of 2 cells, sigmoid output fed by the cells only;
here 4 cells (one per block, see `rnnai.train.sequence`), 1997 LSTM (no forget gate, truncated
gradient), weights in [-0.1, 0.1], output-gate biases -1, -2 and input-gate biases -3, -6 cycled
over the cells, as in `lstm.adding` (the paper's remedies against abuse and internal state drift;
the values are our recollection of the 1997 paper, not verified). The quick scale's 8 cells use
output-gate biases -1, -2, -3 and input-gate biases -2, -4, -6. Learning rate: online SGD with
0.5, our reading of Exp. 4's setup, not verified for Exp. 5.

The claim is what LSTM reaches after a budget, so training never stops early: the net trains for
the whole budget and a fixed set of fresh test sequences (2,560 at quick and paper scale) is
judged at the checkpoints ("stages"): after 482,000 and 1,273,000 sequences at paper scale, at the
end of the (smaller) budget at quick scale.

Scales:
* smoke: T = 100, tiny budget (CI: checks the machinery, not the claim).
* quick: T = 100, modern setup (Adam, lr 0.01, batch 8, 8 cells), 1 trial, 61,440 sequences:
  a budget 8x smaller than the paper's first stage and a modern optimizer, so at most partial.
  Tuning (seed 0, 512 fresh test sequences, CPU time): with input-gate biases -2 only (Adam lr
  0.01, batch 32, 8 cells) the net stayed on the constant-guess plateau (2,284 of 2,560 wrong
  after 61,440 sequences, training MSE 0.059; a constant guess has MSE 0.0486). With 4 cells,
  batch 8 and input-gate biases -3, -6 it left the plateau after 16,000 sequences and had 64-66
  of 512 wrong (mean |error| 0.023) at 28,000-30,000; with 8 cells and input-gate biases -2, -4,
  -6 it left it after 8,000 and had 51-60 of 512 wrong (about 10%, mean |error| 0.019) at
  32,000-38,000, still falling slowly. Batch 8 matters: one update costs about the same at any
  batch size, so it gives 4x the updates of batch 32 for the same time. Measured with this
  setting (`rnnai run --scale quick`, seed 0, loaded 2-core machine, 3 min 34 s wall, 2 min 36 s
  CPU): 84 of 2,560 test sequences wrong after 61,440 sequences (test mean |error| 0.0137,
  training MSE 0.0003): fewer than the paper's 140 after 482,000, but by a modern optimizer and
  one trial, so partial.
* paper: T = 100, the 1997 setup (online SGD, lr 0.5, 4 cells), 3 trials, 1,273,000 sequences,
  judged at 482,000 and 1,273,000.

Verdict (`multiplication_judgement`, by `rnnai.runtime.verdict`): at each measured stage, the
paper's count of wrong test sequences per 2,560 (140 after 482,000, 13 after 1,273,000; a stage
before 482,000 is compared with 140) must lie inside our 95% bootstrap interval of the median over
trials, or the interval below it. Reproduced needs every stage's test, the 1997 setup and budget
(both paper stages measured) and at least 10 trials (the paper's count is not in our sources), so
the paper scale's 3 trials give at most partial; partial when some stage passes; not reproduced
when none does.

Internal view: one sequence's inputs, cell states and gates (`plot_internals`: cells jump at the
two marks and hold their values to the end), and for many test sequences the correlation of each
cell's final state with X1 and with X2 (which cell stores which marked value) beside predicted
against true products.

Examples:
    >>> MultiplicationExperiment().config("paper")["stages"]
    [482000, 1273000]
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.verdict import Evidence, Judgement, check, judge, location, required_trials
from rnnai.tasks import MultiplicationConfig, MultiplicationTask
from rnnai.train.loop import TrainConfig, TrialResult, describe_setup, train_trials
from rnnai.train.plots import plot_internals, plot_learning_curves
from rnnai.train.sequence import NetConfig, SequenceNet

TEST_SIZE = 2_560
"""The paper's test set size."""
PAPER_STAGES = {482_000: 140, 1_273_000: 13}
"""Training sequences -> wrong test sequences of 2,560 (unverified reading, see the docstring)."""
PAPER_ERRORS = {482_000: 0.0223, 1_273_000: 0.0139}
"""The same stages as `docs/PAPERS.md` reads them (MSE)."""
PAPER_TRIALS = None
"""Not in our sources: the rule's minimum of 10 trials applies."""


def _net(hidden: int, output_gate_bias: list[float], input_gate_bias: list[float]) -> NetConfig:
    """The 1997 LSTM with `hidden` cells, output and input gates biased towards closed (the
    biases are cycled over the cells)."""
    return NetConfig(
        variant="lstm1997",
        hidden=hidden,
        init_range=0.1,
        output_gate_bias=tuple(output_gate_bias),
        input_gate_bias=tuple(input_gate_bias),
    )


# ----------------------------------------------------------------------------- measuring stages
def stage_row(result: TrialResult, at: int) -> list[float] | None:
    """The learning-curve row [sequences, train loss, wrong fraction, mean error] at `at`
    training sequences (the last evaluation at or before it), or None if none was made."""
    rows = [r for r in result.curve if r[0] <= at]
    return rows[-1] if rows else None


def stage_summary(results: list[TrialResult], at: int) -> dict[str, Any] | None:
    """Median over trials at one stage: wrong test sequences per 2,560, test mean absolute
    error, and training MSE (twice the mean half squared error of the last evaluation window:
    one output, one judged step). None when a trial has no evaluation by then."""
    found = [stage_row(r, at) for r in results]
    rows = [r for r in found if r is not None]
    if not rows or len(rows) < len(found):
        return None
    wrong = [r[2] * TEST_SIZE for r in rows]
    return {
        "sequences": at,
        "wrong_per_2560": [round(w, 1) for w in wrong],
        "median_wrong_per_2560": statistics.median(wrong),
        "median_test_mean_abs_error": statistics.median(r[3] for r in rows),
        "median_train_mse": statistics.median(2.0 * r[1] for r in rows),
    }


def multiplication_judgement(
    stages: dict[int, dict[str, Any] | None], paper_setup: bool, setup: str, trials: int
) -> Judgement:
    """The verdict of the module docstring from each measured stage's `stage_summary`.

    Args:
        stages: training sequences -> `stage_summary` (None: not measured).
        paper_setup: whether the run used the 1997 setup and the paper's budget.
        setup: the learning setup in words.
        trials: independent trials.
    """
    evidence: list[Evidence] = []
    for at, summary in stages.items():
        if summary is None:
            continue
        ref = at if at in PAPER_STAGES else 482_000  # a smaller budget is compared with 140
        paper = PAPER_STAGES[ref]
        evidence.append(
            location(
                summary["wrong_per_2560"],
                paper_value=paper,
                lower_is_better=True,
                statistic="median",
                claim=f"median wrong test sequences of 2,560 after {at:,} sequences at or below "
                f"the paper's {paper} after {ref:,}",
            )
        )
    if not evidence:
        evidence.append(check("a stage was measured", False, n=trials))
    measured = {at for at, v in stages.items() if v is not None}
    return judge(
        evidence,
        paper_setup=paper_setup and set(PAPER_STAGES) <= measured,
        setup=setup,
        trials=trials,
        required=required_trials(PAPER_TRIALS, statistical=True),
    )


# ----------------------------------------------------------------------------- internal view
@torch.no_grad()
def plot_storage(
    net: SequenceNet, task: MultiplicationTask, rng: np.random.Generator, path: Path
) -> str:
    """Left: predicted vs. true X1*X2 on fresh sequences. Right: correlation of each cell's
    final state with X1 and with X2 (which cell stores which marked value)."""
    from matplotlib.figure import Figure

    batch = task.sample(rng, 512)
    x = torch.from_numpy(batch.x)
    lengths = torch.from_numpy(batch.lengths)
    out = net(x, lengths).numpy()  # (B, T, 1)
    rows = np.arange(batch.batch_size)
    end = batch.lengths - 1
    pred = out[rows, end, 0]
    target = batch.y[rows, end, 0]
    H = net.cfg.hidden
    # The net is causal, so tracing the padded batch leaves every step up to a sequence's end
    # unchanged; read each cell state at its own end.
    c_all = net.lstm.trace(x)["c"].numpy()  # (T, B, H)
    c_end = c_all[end, rows]  # (B, H)
    corr = np.array(
        [[np.corrcoef(c_end[:, k], batch.info[v])[0, 1] for v in ("X1", "X2")] for k in range(H)]
    )  # (H, 2)
    fig = Figure(figsize=(9, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(target, pred, ".", ms=3, alpha=0.6)
    ax1.plot([0, 1], [0, 1], "k--", lw=1)
    ax1.fill_between(
        [0, 1], [-0.04, 0.96], [0.04, 1.04], color="C2", alpha=0.2, label="|error| < 0.04"
    )
    ax1.set_xlabel("target X1 * X2")
    ax1.set_ylabel("network output at the end")
    ax1.legend(fontsize=8)
    k = np.arange(H)
    ax2.bar(k - 0.2, corr[:, 0], 0.4, label="corr(c_end, X1)")
    ax2.bar(k + 0.2, corr[:, 1], 0.4, label="corr(c_end, X2)")
    ax2.axhline(0, color="k", lw=0.5)
    ax2.set_xticks(k, [f"cell {j}" for j in k], fontsize=8)
    ax2.set_ylim(-1.05, 1.05)
    ax2.set_ylabel("correlation over 512 sequences")
    ax2.legend(fontsize=8)
    fig.suptitle("Multiplication: which cells store the marked values", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path.name


# ----------------------------------------------------------------------------- the experiment
@register
class MultiplicationExperiment(Experiment):
    """Multiplication problem (1997 Exp. 5): wrong test sequences after a training budget."""

    name = "lstm.multiplication"
    system = "LSTM (1997)"
    claim = PaperClaim(
        citation="Hochreiter & Schmidhuber 1997, Exp. 5",
        metric="wrong test sequences of 2,560 (|error| >= 0.04) after 482,000 training sequences",
        value=PAPER_STAGES[482_000],
        lower_is_better=True,
        note=(
            "Unverified reading (13 wrong after 1,273,000); docs/PAPERS.md reads the stages as "
            "MSE 0.0223 / 0.0139. See the module docstring."
        ),
    )
    headline_metric = (
        "median wrong test sequences of 2,560 after the budget (482,000 at paper scale; the "
        "quick budget is smaller)"
    )
    tour = False  # quick scale is minutes: kept out of the ~15-minute default tour

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: cells, trials, learning setup (no early stop) and the stages."""
        no_stop = -1  # never "solved": the claim is about what a fixed budget reaches
        if scale == "smoke":
            hidden, trials, out_bias, in_bias = 4, 1, [-1.0, -2.0], [-3.0, -6.0]
            train = TrainConfig(
                optimizer="adam",
                lr=0.01,
                batch=16,
                max_sequences=256,
                eval_every=128,
                eval_size=128,
                max_wrong=no_stop,
            )
            stages = [256]
        elif scale == "quick":
            hidden, trials, out_bias, in_bias = 8, 1, [-1.0, -2.0, -3.0], [-2.0, -4.0, -6.0]
            train = TrainConfig(
                optimizer="adam",
                lr=0.01,
                batch=8,
                max_sequences=61_440,
                eval_every=6_144,
                eval_size=TEST_SIZE,
                max_wrong=no_stop,
            )
            stages = [61_440]
        else:
            hidden, trials, out_bias, in_bias = 4, 3, [-1.0, -2.0], [-3.0, -6.0]
            train = TrainConfig(
                optimizer="sgd",
                lr=0.5,
                batch=1,
                max_sequences=1_273_000,
                eval_every=1_000,
                eval_size=TEST_SIZE,
                max_wrong=no_stop,
            )
            stages = list(PAPER_STAGES)
        return {
            "T": 100,
            "hidden": hidden,
            "output_gate_bias": out_bias,
            "input_gate_bias": in_bias,
            "trials": trials,
            "train": asdict(train),
            "stages": stages,
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train for the budget, judge the test set at each stage, plot curves and internals."""
        cfg = ctx.config
        train = TrainConfig(**cfg["train"])
        net_cfg = _net(cfg["hidden"], cfg["output_gate_bias"], cfg["input_gate_bias"])
        T = cfg["T"]
        trained = train_trials(
            MultiplicationTask(MultiplicationConfig(T=T)), net_cfg, train,
            trials=cfg["trials"], seeds=ctx, hooks=ctx, label="mult",
        )  # fmt: skip
        results = trained.results
        stages = {s: stage_summary(results, s) for s in cfg["stages"]}
        medians = {s: v["median_wrong_per_2560"] for s, v in stages.items() if v is not None}
        paper_setup = (
            T == 100
            and train.setup.startswith("1997")
            and net_cfg.variant == "lstm1997"
            and train.max_sequences >= max(PAPER_STAGES)
        )
        judgement = multiplication_judgement(
            stages, paper_setup, describe_setup(train, net_cfg), len(results)
        )
        first = cfg["stages"][0]
        headline = medians.get(first)
        metrics: dict[str, Any] = {
            "setup": describe_setup(train, net_cfg),
            "paper_setup": paper_setup,
            "trials": len(results),
            "eval_size": train.eval_size,
            "stages": {str(s): v for s, v in stages.items()},
            "paper_wrong_per_2560": {str(s): w for s, w in PAPER_STAGES.items()},
            "paper_errors_as_read_in_PAPERS_md": {str(s): e for s, e in PAPER_ERRORS.items()},
        }
        notes = [
            f"{describe_setup(train, net_cfg)}; {len(results)} trial(s)."
            + ("" if paper_setup else " Not the paper's setup and budget: at most partial.")
        ]
        for s, v in stages.items():
            if v is not None:
                notes.append(
                    f"After {s:,} sequences: median {v['median_wrong_per_2560']:.0f} of 2,560 test "
                    f"sequences wrong, test mean |error| {v['median_test_mean_abs_error']:.4f}, "
                    f"training MSE {v['median_train_mse']:.4f}."
                )
        notes.append(
            "Paper (unverified reading): 140 wrong after 482,000, 13 after 1,273,000; "
            "docs/PAPERS.md: MSE 0.0223 / 0.0139."
        )
        plots = [
            plot_learning_curves(
                {"T=100": results},
                ctx.out_dir / "learning_curve.png",
                "Multiplication: fraction of test sequences wrong (|error| >= 0.04)",
                paper=482_000 if paper_setup else None,
            )
        ]
        net = trained.net
        if net is not None:
            task = MultiplicationTask(MultiplicationConfig(T=T))
            plots.append(
                plot_internals(
                    net,
                    task.sample(ctx.rng("view"), 1),
                    ctx.out_dir / "internals.png",
                    "Multiplication: cells store the marked values until the end",
                    symbols=["value", "marker"],
                )
            )
            plots.append(plot_storage(net, task, ctx.rng("storage"), ctx.out_dir / "storage.png"))
        return Outcome(
            headline=headline,
            metrics=metrics,
            verdict=judgement,
            plots=plots,
            notes=" ".join(notes),
        )
