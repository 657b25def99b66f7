"""`lstm.adding`: the adding problem, Hochreiter & Schmidhuber 1997, Experiment 4.

Paper: S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997,
Section 5.4. Task (`rnnai.tasks.AddingTask`): pairs (value in [-1, 1], marker); two marked
values X1 (among the first 10) and X2 (among the first T/2 - 1); the target at the end is
0.5 + (X1 + X2)/4; a sequence is right if |error| < 0.04. The paper stops when the average
training error is below 0.01 and the 2,000 most recent sequences were right, then tests on 2,560
sequences: T = 100 needs 74,000 training sequences (T = 500: 209,000; T = 1000: 853,000; mean of
10 trials), with at most 1 of 2,560 test sequences wrong.

Network: 2 memory blocks of 2 cells in the paper; here 4 cells (one per block, see
`_lstm_common`), 1997 LSTM (no forget gate, truncated gradient, g = 4 sigma - 2, h = 2 sigma - 1),
sigmoid output, weights in [-0.1, 0.1], online SGD with learning rate 0.5 (the 1997 setup; our
reading of the paper's Exp. 4 parameters). Input-gate biases -3, -6 and output-gate biases -1, -2
(blocks start closed: the paper's remedy against cells being "abused" and drifting early in
training); the exact values are our recollection of the paper, not verified. Measured while
tuning quick: without the input-gate biases, Adam stayed on the constant-guess plateau (433 of 512
wrong after 40,000 sequences, and 2 more seeds at 12,000); with them, two seeds reached 4-5 wrong
after 15,000-17,000 sequences.

Stop criterion here: an evaluation set of fresh sequences (2,560 at paper scale, as the paper's
test set) with at most 1 wrong and mean absolute error below 0.01 (the paper's average-error
threshold), checked every `eval_every` sequences; sequences-to-solve counts training sequences.

Scales:
* smoke: T = 20, tiny budget (CI: checks the machinery, not the claim).
* quick: T = 100, modern setup (Adam, lr 0.01, batch 8), 1 trial, budget 40,000 sequences.
* paper: T = 100, 500, 1000 in the 1997 setup (online SGD), 10 trials at T = 100 (3 at 500/1000),
  the paper's budgets.

Verdict (`sequences_verdict`): reproduced when, at T = 100, every trial solves the task and the
median sequences-to-solve is within 3x of 74,000; partial when solved but slower, not in every
trial, or only by the modern setup at quick scale (a modern optimizer is not the paper's claim);
not_reproduced when no trial solves it.
"""

from __future__ import annotations

from typing import Any

from rnnai.experiments._lstm_common import (
    NetConfig,
    TrainConfig,
    fmt_setup,
    last_net,
    plot_internals,
    plot_learning_curves,
    sequences_verdict,
    train_trials,
)
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.tasks import AddingConfig, AddingTask

PAPER_SEQUENCES = {20: None, 100: 74_000, 500: 209_000, 1000: 853_000}

NET = NetConfig(
    variant="lstm1997",
    hidden=4,
    init_range=0.1,
    output_gate_bias=(-1.0, -2.0),
    input_gate_bias=(-3.0, -6.0),
)


@register
class AddingExperiment(Experiment):
    """Adding problem (1997 Exp. 4): training sequences until the stop criterion."""

    name = "lstm.adding"
    system = "LSTM (1997)"
    claim = PaperClaim(
        citation="Hochreiter & Schmidhuber 1997, Exp. 4",
        metric="training sequences until solved, T=100 (mean of 10 trials)",
        value=74_000,
        lower_is_better=True,
    )
    headline_metric = "median training sequences until solved, T=100"
    tour = True

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: task lengths, trials, and the learning setup."""
        if scale == "smoke":
            runs = [
                {
                    "T": 20,
                    "trials": 1,
                    "train": TrainConfig("adam", 0.01, 16, 512, 256, 128, 1, 0.01),
                }
            ]
        elif scale == "quick":
            # Tuned under load: Adam lr 0.03 or batch 32 (fewer updates) did not learn in budget.
            runs = [
                {
                    "T": 100,
                    "trials": 1,
                    "train": TrainConfig("adam", 0.01, 8, 40_000, 1_024, 512, 1, 0.01),
                }
            ]
        else:
            runs = [
                {
                    "T": 100,
                    "trials": 10,
                    "train": TrainConfig("sgd", 0.5, 1, 300_000, 2_000, 2_560, 1, 0.01),
                },
                {
                    "T": 500,
                    "trials": 3,
                    "train": TrainConfig("sgd", 0.5, 1, 600_000, 5_000, 2_560, 1, 0.01),
                },
                {
                    "T": 1000,
                    "trials": 3,
                    "train": TrainConfig("sgd", 0.5, 1, 2_000_000, 10_000, 2_560, 1, 0.01),
                },
            ]
        return {
            "net": NET.__dict__ | {"output_gate_bias": list(NET.output_gate_bias)},
            "runs": [{**r, "train": r["train"].__dict__} for r in runs],
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train at each T, judge T = 100 against the paper, plot curves and one sequence."""
        cfg = ctx.config
        groups, metrics, notes = {}, {}, []
        verdict = "not_reproduced"
        headline = None
        for run in cfg["runs"]:
            T = run["T"]
            train = TrainConfig(**run["train"])
            label = f"T{T}"
            results = train_trials(
                ctx, lambda T=T: AddingTask(AddingConfig(T=T)), NET, train, run["trials"], label
            )
            groups[f"T={T}"] = results
            paper_task = T == 100 and train.setup.startswith("1997")
            v, summary = sequences_verdict(results, PAPER_SEQUENCES.get(T, 74_000), 1.0, paper_task)
            metrics[label] = summary | {
                "setup": fmt_setup(train, NET),
                "paper_sequences": PAPER_SEQUENCES.get(T),
            }
            metrics[label]["final_eval_wrong"] = [r.eval_wrong for r in results]
            if T == 100 or headline is None:
                verdict = v
                headline = summary["median_sequences"]
            notes.append(
                f"T={T} ({fmt_setup(train, NET)}): {summary['solved']}/{summary['trials']} trials "
                f"solved; median sequences {summary['median_sequences']} (paper "
                f"{PAPER_SEQUENCES[T] or 'none at this T'} in the 1997 setup)."
            )
        plots = [
            plot_learning_curves(
                groups,
                ctx.out_dir / "learning_curve.png",
                "Adding problem: evaluation error",
                paper=PAPER_SEQUENCES[100],
            )
        ]
        net = last_net(ctx, f"T{cfg['runs'][0]['T']}")
        if net is not None:
            task = AddingTask(AddingConfig(T=cfg["runs"][0]["T"]))
            batch = task.sample(ctx.rng("view"), 1)
            plots.append(
                plot_internals(
                    net,
                    batch,
                    ctx.out_dir / "internals.png",
                    "Adding: cells store the marked values until the end",
                    symbols=["value", "marker"],
                )
            )
        return Outcome(
            headline=headline, metrics=metrics, verdict=verdict, plots=plots, notes=" ".join(notes)
        )
