"""`lstm.adding`: the adding problem, Hochreiter & Schmidhuber 1997, Experiment 4.

Paper: S. Hochreiter & J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997,
Section 5.4. Task (`rnnai.tasks.AddingTask`): pairs (value in [-1, 1], marker); two marked
values X1 (among the first 10) and X2 (among the first T/2 - 1); the target at the end is
0.5 + (X1 + X2)/4; a sequence is right if |error| < 0.04. The paper stops when the average
training error is below 0.01 and the 2,000 most recent sequences were right, then tests on 2,560
sequences: T = 100 needs 74,000 training sequences (T = 500: 209,000; T = 1000: 853,000; mean of
10 trials), with at most 1 of 2,560 test sequences wrong.

Network: 2 memory blocks of 2 cells in the paper; here 4 cells (one per block, see
`rnnai.train.sequence`), 1997 LSTM (no forget gate, truncated gradient, g = 4 sigma - 2,
h = 2 sigma - 1), sigmoid output, weights in [-0.1, 0.1], online SGD with learning rate 0.5 (the
1997 setup; our reading of the paper's Exp. 4 parameters). Input-gate biases -3, -6 and
output-gate biases -1, -2 (blocks start closed: the paper's remedy against cells being "abused"
and drifting early in training); the exact values are our recollection of the paper, not
verified. Measured while tuning quick: without the input-gate biases, Adam stayed on the
constant-guess plateau (433 of 512 wrong after 40,000 sequences, and 2 more seeds at 12,000);
with them, two seeds reached 4-5 wrong after 15,000-17,000 sequences.

Stop criterion here: an evaluation set of fresh sequences (2,560 at paper scale, as the paper's
test set) with at most 1 wrong and mean absolute error below 0.01 (the paper's average-error
threshold), checked every `eval_every` sequences; sequences-to-solve counts training sequences.

Scales:
* smoke: T = 20, tiny budget (CI: checks the machinery, not the claim).
* quick: T = 100, modern setup (Adam, lr 0.01, batch 8), 1 trial, budget 40,000 sequences.
* paper: T = 100, 500, 1000 in the 1997 setup (online SGD), 10 trials at T = 100 (3 at 500/1000),
  the paper's budgets.

Verdict (`rnnai.runtime.verdict`, on T = 100 only; the other lengths are reported): the tests are
the success rate (not significantly below the paper's 100%, one-sided exact binomial at 5%) and
the mean sequences-to-solve (74,000 inside our 95% bootstrap interval of the mean, or ours
better; an unsolved trial counts as never solved). Reproduced needs both, the 1997 setup and at
least 10 trials (the paper's 10), so only the paper scale can reproduce; quick (Adam, 1 trial)
is at most partial; an unsolved T = 100 is not reproduced whatever the other lengths did. Smoke
runs only T = 20, where the paper gives no number: partial if a trial solved it, else not
reproduced. The headline is T = 100's median sequences-to-solve (None when no trial solved it).

Examples:
    >>> cfg = AddingExperiment().config("paper")
    >>> [run["T"] for run in cfg["runs"]], cfg["runs"][0]["train"]["optimizer"]
    ([100, 500, 1000], 'sgd')
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.verdict import Evidence, Judgement, check, judge, required_trials
from rnnai.tasks import AddingConfig, AddingTask
from rnnai.train.loop import (
    TrainConfig,
    TrialResult,
    describe_setup,
    sequences_evidence,
    summarize,
    train_trials,
)
from rnnai.train.plots import plot_internals, plot_learning_curves
from rnnai.train.sequence import NetConfig, SequenceNet

PAPER_SEQUENCES = {100: 74_000, 500: 209_000, 1000: 853_000}
"""1997, Exp. 4: mean training sequences until solved (10 trials) per T; none for other T."""
PAPER_TRIALS = 10

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
            runs: list[dict[str, Any]] = [
                {
                    "T": 20,
                    "trials": 1,
                    "train": TrainConfig(
                        optimizer="adam",
                        lr=0.01,
                        batch=16,
                        max_sequences=512,
                        eval_every=256,
                        eval_size=128,
                        max_wrong=1,
                        max_mean_error=0.01,
                    ),
                }
            ]
        elif scale == "quick":
            # Tuned under load: Adam lr 0.03 or batch 32 (fewer updates) did not learn in budget.
            runs = [
                {
                    "T": 100,
                    "trials": 1,
                    "train": TrainConfig(
                        optimizer="adam",
                        lr=0.01,
                        batch=8,
                        max_sequences=40_000,
                        eval_every=1_024,
                        eval_size=512,
                        max_wrong=1,
                        max_mean_error=0.01,
                    ),
                }
            ]
        else:
            runs = [
                {
                    "T": 100,
                    "trials": 10,
                    "train": TrainConfig(
                        optimizer="sgd",
                        lr=0.5,
                        batch=1,
                        max_sequences=300_000,
                        eval_every=2_000,
                        eval_size=2_560,
                        max_wrong=1,
                        max_mean_error=0.01,
                    ),
                },
                {
                    "T": 500,
                    "trials": 3,
                    "train": TrainConfig(
                        optimizer="sgd",
                        lr=0.5,
                        batch=1,
                        max_sequences=600_000,
                        eval_every=5_000,
                        eval_size=2_560,
                        max_wrong=1,
                        max_mean_error=0.01,
                    ),
                },
                {
                    "T": 1000,
                    "trials": 3,
                    "train": TrainConfig(
                        optimizer="sgd",
                        lr=0.5,
                        batch=1,
                        max_sequences=2_000_000,
                        eval_every=10_000,
                        eval_size=2_560,
                        max_wrong=1,
                        max_mean_error=0.01,
                    ),
                },
            ]
        return {"net": asdict(NET), "runs": [{**r, "train": asdict(r["train"])} for r in runs]}

    def run(self, ctx: RunContext) -> Outcome:
        """Train at each T, judge T = 100 against the paper, plot curves and one sequence."""
        cfg = ctx.config
        groups: dict[str, list[TrialResult]] = {}
        metrics: dict[str, Any] = {}
        notes: list[str] = []
        first_net: SequenceNet | None = None
        for k, run in enumerate(cfg["runs"]):
            T = run["T"]
            train = TrainConfig(**run["train"])
            label = f"T{T}"
            trained = train_trials(
                AddingTask(AddingConfig(T=T)), NET, train,
                trials=run["trials"], seeds=ctx, hooks=ctx, label=label,
            )  # fmt: skip
            results = trained.results
            if k == 0:
                first_net = trained.net
            groups[f"T={T}"] = results
            summary = summarize(results)
            metrics[label] = summary | {
                "setup": describe_setup(train, NET),
                "paper_sequences": PAPER_SEQUENCES.get(T),
            }
            metrics[label]["final_eval_wrong"] = [r.eval_wrong for r in results]
            notes.append(
                f"T={T} ({describe_setup(train, NET)}): {summary['solved']}/{summary['trials']} "
                f"trials solved; median sequences {summary['median_sequences']} (paper "
                f"{PAPER_SEQUENCES.get(T) or 'none at this T'} in the 1997 setup)."
            )
        judgement, headline = adding_judgement(cfg["runs"], groups)
        plots = [
            plot_learning_curves(
                groups,
                ctx.out_dir / "learning_curve.png",
                "Adding problem: evaluation error",
                paper=PAPER_SEQUENCES[100],
            )
        ]
        if first_net is not None:
            task = AddingTask(AddingConfig(T=cfg["runs"][0]["T"]))
            batch = task.sample(ctx.rng("view"), 1)
            plots.append(
                plot_internals(
                    first_net,
                    batch,
                    ctx.out_dir / "internals.png",
                    "Adding: cells store the marked values until the end",
                    symbols=["value", "marker"],
                )
            )
        return Outcome(
            headline=headline, metrics=metrics, verdict=judgement, plots=plots,
            notes=" ".join(notes),
        )  # fmt: skip


def adding_judgement(
    runs: list[dict[str, Any]], groups: dict[str, list[TrialResult]]
) -> tuple[Judgement, float | int | None]:
    """The verdict of the module docstring and the headline, from each T's trial results.

    Args:
        runs: The config's runs (``T``, ``train`` as a dict).
        groups: Trial results per ``"T=<T>"``.

    Returns:
        (the `rnnai.runtime.verdict.Judgement`, the headline median sequences-to-solve).
    """
    by_t = {r["T"]: r for r in runs}
    if 100 in by_t:
        results, train = groups["T=100"], TrainConfig(**by_t[100]["train"])
        evidence: list[Evidence] = sequences_evidence(
            results, paper_sequences=PAPER_SEQUENCES[100], statistic="mean", setting="T=100"
        )
        judgement = judge(
            evidence,
            paper_setup=train.setup.startswith("1997"),
            setup=f"T=100, {describe_setup(train, NET)}",
            trials=len(results),
            required=required_trials(PAPER_TRIALS, statistical=True),
        )
        return judgement, summarize(results)["median_sequences"]
    T = runs[0]["T"]
    results, train = groups[f"T={T}"], TrainConfig(**runs[0]["train"])
    solved = sum(r.solved for r in results)
    judgement = judge(
        [
            check(
                f"a trial solves the adding problem at T={T} (the paper's claim is at T=100)",
                solved > 0,
                n=len(results),
                ours=solved,
            )
        ],
        paper_setup=False,
        setup=f"T={T} only (the paper's claim is T=100), {describe_setup(train, NET)}",
        trials=len(results),
        required=required_trials(PAPER_TRIALS, statistical=True),
    )
    return judgement, summarize(results)["median_sequences"]
