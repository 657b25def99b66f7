"""`lstm.odyssey`: the eight LSTM variants against vanilla LSTM, Greff et al. 2015/2017.

Paper: K. Greff, R. K. Srivastava, J. Koutnik, B. R. Steunebrink & J. Schmidhuber, "LSTM: A Search
Space Odyssey", IEEE Transactions on Neural Networks and Learning Systems 28(10):2222-2232, 2017
(arXiv:1503.04069, 2015). Vanilla LSTM (forget gate and peepholes) against eight variants that
each change one piece: NIG (no input gate), NFG (no forget gate), NOG (no output gate), NIAF (no
input activation function), NOAF (no output activation function), NP (no peepholes), CIFG
(coupled input and forget gate, f = 1 - i), FGR (full gate recurrence); equations in
`rnnai.nn.lstm`. The paper ran a random hyperparameter search (learning rate, momentum, hidden
size, input noise) per variant on TIMIT, IAM online handwriting and JSB chorales (5,400 runs) and
concluded: no variant improves significantly on vanilla; the forget gate and the output
activation function are its most critical parts (NFG and NOAF hurt significantly); CIFG and NP do
no significant harm; the learning rate is by far the most important hyperparameter.

Our small-scale version (deviations: the task, the search, the scale):

* Task: the embedded Reber grammar (`rnnai.tasks.ReberTask`, Hochreiter & Schmidhuber 1997
  Exp. 1): next-symbol prediction, 7 one-hot inputs/outputs, net reset after every string; a
  string is right if every output is on the correct side of 0.5 at every step. It needs a long
  memory (the second symbol decides the second-to-last) and is cheap enough to train 27+ nets in
  minutes. None of Greff's three data sets is used.
* Network: one LSTM layer of `hidden` cells (one per block) with the variant's equations, a
  sigmoid output layer, squared error (`rnnai.train.sequence`); weights uniform in [-0.1, 0.1], no
  special gate biases.
* Training: Adam with minibatches (a modern setup, not Greff's SGD with momentum), the same budget
  of training sequences for every variant and seed; a fresh evaluation set of 512 strings per
  trial, checked every `eval_every` sequences (training stops early once all are right).
* Score per run: the final evaluation error, the mean absolute output error at every judged step
  (continuous, so runs that all fail can still be ranked); also reported: the fraction of wrong
  evaluation strings, solved runs and sequences to solve.
* Search: instead of Greff's random search, a fixed grid of learning rates (quick: one learning
  rate; paper scale: three); a variant's score is the median over seeds at its best learning rate
  (Greff compare the best runs per variant).

Scales:
* smoke: 2 seeds x 3 variants (vanilla, NFG, NOAF), a few hundred sequences (CI).
* quick: 3 seeds x 9 variants, hidden 8, Adam lr 0.03, batch 32, 6,400 sequences per run
  (evaluation set of 256 strings).
* paper: 20 seeds x 9 variants x lr in {0.003, 0.01, 0.03}, 64,000 sequences per run.

Tests (two-sided Mann-Whitney U test, scipy, of each variant's per-seed scores against vanilla's
at the variants' best learning rates, p < 0.05). Four conclusions of the paper are checked and
reported (``checks``, the headline counts them): (1) NFG significantly worse than vanilla; (2)
NOAF significantly worse; (3) no variant significantly better; (4) neither CIFG nor NP
significantly worse. With 3 seeds per variant the smallest possible two-sided p is 0.1 (exact
test; the scores have no ties in practice), so at quick scale (1) and (2) cannot hold: the quick
run shows the medians, not significance.

Verdict (`odyssey_judgement`, by `rnnai.runtime.verdict`): three pieces of evidence, (1), (2),
and (3) with (4) together (the paper's "no variant helps, CIFG and NP do no harm"; it needs every
variant run). This run is never the paper's setup (another task, Adam, a grid instead of Greff's
random search), so the verdict is at most partial: partial when some evidence holds, not
reproduced when none does.

Examples:
    >>> stats = compare_to_vanilla({"vanilla": [0.1, 0.2, 0.3], "nfg": [0.5, 0.6, 0.7]})
    >>> stats["nfg"]["worse"]  # 3 seeds: p >= 0.1, never significant
    False
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.verdict import Evidence, Judgement, judge, required_trials
from rnnai.tasks import ReberTask
from rnnai.train.loop import TrainConfig, TrialResult, train_trials
from rnnai.train.plots import plot_internals
from rnnai.train.sequence import NetConfig, SequenceNet

VARIANTS = ("vanilla", "nig", "nfg", "nog", "niaf", "noaf", "np", "cifg", "fgr")
"""Greff's vanilla LSTM and its eight one-change variants (`rnnai.nn.lstm.VARIANTS`)."""

ALPHA = 0.05
"""Significance level of the Mann-Whitney U tests."""

REBER_SYMBOLS = ["B", "T", "P", "S", "X", "V", "E"]


# ----------------------------------------------------------------------------- the verdict
def compare_to_vanilla(scores: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """Two-sided Mann-Whitney U test of each variant's scores against vanilla's.

    Args:
        scores: variant -> per-seed scores (lower is better); must hold "vanilla".

    Returns:
        variant -> {median, q1, q3, p (None for vanilla), worse, better} where worse/better mean
        significantly (p < ALPHA) worse/better than vanilla by the median.
    """
    from scipy.stats import mannwhitneyu

    base = scores["vanilla"]
    out: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        q1, med, q3 = (float(v) for v in np.percentile(s, [25, 50, 75]))
        row: dict[str, Any] = {"median": med, "q1": q1, "q3": q3, "p": None}
        row["worse"] = row["better"] = False
        if name != "vanilla":
            exact = len(set(s) | set(base)) == len(s) + len(base)  # no ties: the exact test
            method = "exact" if exact else "asymptotic"
            p = float(mannwhitneyu(s, base, alternative="two-sided", method=method).pvalue)
            row["p"] = p
            diff = statistics.median(s) - statistics.median(base)
            row["worse"] = p < ALPHA and diff > 0
            row["better"] = p < ALPHA and diff < 0
        out[name] = row
    return out


def odyssey_checks(stats: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """The paper's four conclusions on the output of `compare_to_vanilla` (see the docstring).

    Variants missing from ``stats`` (smoke runs) count as not showing the conclusion.
    """

    def flag(name: str, key: str, default: bool = False) -> bool:
        return bool(stats[name][key]) if name in stats else default

    return {
        "nfg_significantly_worse": flag("nfg", "worse"),
        "noaf_significantly_worse": flag("noaf", "worse"),
        "none_significantly_better": not any(r["better"] for r in stats.values()),
        "cifg_np_not_significantly_worse": "cifg" in stats
        and "np" in stats
        and not (flag("cifg", "worse") or flag("np", "worse")),
    }


def odyssey_judgement(stats: dict[str, dict[str, Any]], seeds: int, setup: str) -> Judgement:
    """The module's verdict (see the docstring) from `compare_to_vanilla`'s output."""
    checks = odyssey_checks(stats)
    test = "two-sided Mann-Whitney U test against vanilla, 5%"

    def worse(name: str) -> Evidence:
        row = stats.get(name, {})
        return Evidence(
            claim=f"{name.upper()} significantly worse than vanilla",
            passed=checks[f"{name}_significantly_worse"],
            test=test,
            n=seeds,
            ours=row.get("median"),
            p_value=row.get("p"),
        )

    null = Evidence(
        claim="no variant significantly better than vanilla, and neither CIFG nor NP "
        "significantly worse (every variant run)",
        passed=checks["none_significantly_better"] and checks["cifg_np_not_significantly_worse"],
        test=test,
        n=seeds,
    )
    return judge(
        [worse("nfg"), worse("noaf"), null],
        paper_setup=False,
        setup=setup + "; embedded Reber, not Greff's data sets or random search",
        trials=seeds,
        required=required_trials(None, statistical=True),
    )


# ----------------------------------------------------------------------------- plots
def plot_scores(stats_scores: dict[str, list[float]], path: Path, title: str) -> str:
    """Box plot with the per-seed points on top, one box per variant."""
    from matplotlib.figure import Figure

    names = list(stats_scores)
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    ax.boxplot([stats_scores[n] for n in names], widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only, not part of any result
    for k, n in enumerate(names):
        s = np.asarray(stats_scores[n])
        ax.plot(k + 1 + rng.uniform(-0.12, 0.12, len(s)), s, "o", ms=4, alpha=0.7, color="C3")
    ax.set_xticks(range(1, len(names) + 1), [n.upper() for n in names])
    ax.set_ylabel("final eval. mean abs. error")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


def plot_median_curves(groups: dict[str, list[TrialResult]], path: Path, title: str) -> str:
    """Median (over seeds) evaluation error against training sequences, one line per variant."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    for k, (name, results) in enumerate(groups.items()):
        curves = [np.asarray(r.curve) for r in results if r.curve]
        if not curves:
            continue
        n = min(len(c) for c in curves)  # runs that solved early stop early
        x = curves[0][:n, 0]
        med = np.median(np.stack([c[:n, 3] for c in curves]), axis=0)
        ls = "-" if k < 10 else "--"
        ax.plot(x, med, ls, color=f"C{k % 10}", lw=2 if name == "vanilla" else 1, label=name)
    ax.set_xlabel("training sequences")
    ax.set_ylabel("median eval. mean abs. error")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path.name


# ----------------------------------------------------------------------------- experiment
@register
class OdysseyExperiment(Experiment):
    """LSTM variants (Greff et al. 2015): none beats vanilla; NFG and NOAF hurt."""

    name = "lstm.odyssey"
    system = "LSTM variants (Greff et al. 2015)"
    claim = PaperClaim(
        citation="Greff et al. 2015/2017, LSTM: A Search Space Odyssey",
        metric="conclusions that hold (of 4: NFG worse, NOAF worse, none better, CIFG/NP no harm)",
        value=4,
        lower_is_better=False,
        note="Greff: TIMIT, IAM online, JSB chorales with random search; ours: embedded Reber.",
    )
    headline_metric = "conclusions that hold (Mann-Whitney U vs. vanilla, p < 0.05), of 4"
    tour = False  # quick scale is minutes: kept out of the ~15-minute default tour

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: variants, seeds, learning rates, the network and the budget."""
        variants: tuple[str, ...]
        lrs: tuple[float, ...]
        if scale == "smoke":
            variants, seeds, lrs, hidden = ("vanilla", "nfg", "noaf"), 2, (0.02,), 4
            train = TrainConfig(
                optimizer="adam", lr=0.02, batch=16, max_sequences=320, eval_every=160,
                eval_size=64, max_wrong=0,
            )  # fmt: skip
        elif scale == "quick":
            variants, seeds, lrs, hidden = VARIANTS, 3, (0.03,), 8
            train = TrainConfig(
                optimizer="adam", lr=0.03, batch=32, max_sequences=6_400, eval_every=3_200,
                eval_size=256, max_wrong=0,
            )  # fmt: skip
        else:
            variants, seeds, lrs, hidden = VARIANTS, 20, (0.003, 0.01, 0.03), 8
            train = TrainConfig(
                optimizer="adam", lr=0.01, batch=32, max_sequences=64_000, eval_every=3_200,
                eval_size=512, max_wrong=0,
            )  # fmt: skip
        return {
            "variants": list(variants),
            "seeds": seeds,
            "learning_rates": list(lrs),
            "hidden": hidden,
            "train": asdict(train),
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Train every variant at every learning rate, test against vanilla, plot."""
        cfg = ctx.config
        base = TrainConfig(**cfg["train"])
        per_lr: dict[str, dict[float, list[TrialResult]]] = {}
        nets: dict[tuple[str, float], SequenceNet] = {}
        for variant in cfg["variants"]:
            net_cfg = NetConfig(variant=variant, hidden=cfg["hidden"], output="sigmoid")
            per_lr[variant] = {}
            for lr in cfg["learning_rates"]:
                train = TrainConfig(**(cfg["train"] | {"lr": lr}))
                trained = train_trials(
                    ReberTask(), net_cfg, train,
                    trials=cfg["seeds"], seeds=ctx, hooks=ctx, label=f"{variant}_lr{lr:g}",
                )  # fmt: skip
                per_lr[variant][lr] = trained.results
                if trained.net is not None:
                    nets[(variant, lr)] = trained.net
        # Each variant at its best learning rate (lowest median score), as Greff compare the
        # best runs of each variant.
        best_lr: dict[str, float] = {}
        groups: dict[str, list[TrialResult]] = {}
        for variant, by_lr in per_lr.items():
            best_lr[variant] = min(
                by_lr, key=lambda lr: (statistics.median(r.eval_error for r in by_lr[lr]), lr)
            )
            groups[variant] = by_lr[best_lr[variant]]
        scores = {v: [r.eval_error for r in rs] for v, rs in groups.items()}
        stats = compare_to_vanilla(scores)
        checks = odyssey_checks(stats)
        setup = f"{cfg['hidden']} cells; {base.setup} (lr per variant: best of the grid)"
        judgement = odyssey_judgement(stats, cfg["seeds"], setup)
        metrics: dict[str, Any] = {
            "setup": setup,
            "checks": checks,
            "variants": {
                v: stats[v]
                | {
                    "best_lr": best_lr[v],
                    "scores": scores[v],
                    "wrong_fraction": [r.eval_wrong / r.eval_size for r in groups[v]],
                    "solved": sum(r.solved for r in groups[v]),
                    "median_sequences_solved": statistics.median(
                        [r.sequences for r in groups[v] if r.solved]
                    )
                    if any(r.solved for r in groups[v])
                    else None,
                    "median_score_per_lr": {
                        f"{lr:g}": statistics.median(r.eval_error for r in rs)
                        for lr, rs in per_lr[v].items()
                    },
                }
                for v in scores
            },
        }
        plots = [
            plot_scores(
                scores,
                ctx.out_dir / "variants_box.png",
                f"Embedded Reber, {cfg['seeds']} seeds per variant: final evaluation error",
            ),
            plot_median_curves(
                groups, ctx.out_dir / "learning_curve.png", "Median learning curves per variant"
            ),
        ]
        net = nets.get(("vanilla", best_lr["vanilla"]))
        if net is not None:
            batch = ReberTask().sample(ctx.rng("view"), 1)
            plots.append(
                plot_internals(
                    net,
                    batch,
                    ctx.out_dir / "internals.png",
                    "Vanilla LSTM on embedded Reber: cells keep the 2nd symbol to the end",
                    symbols=REBER_SYMBOLS,
                )
            )
        held = sum(checks.values())
        ranked = sorted(stats, key=lambda v: stats[v]["median"])
        notes = (
            f"{held}/4 of Greff's conclusions hold at p < {ALPHA} with {cfg['seeds']} seeds "
            f"({', '.join(k for k, ok in checks.items() if ok) or 'none'}). Variants by median "
            f"final error: "
            + ", ".join(f"{v} {stats[v]['median']:.3f}" for v in ranked)
            + f". Task: embedded Reber (not Greff's data sets); {metrics['setup']}."
        )
        return Outcome(headline=held, metrics=metrics, verdict=judgement, plots=plots, notes=notes)
