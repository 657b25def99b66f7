"""`lstm.timing`: peephole LSTM learns precise timing, Gers, Schraudolph & Schmidhuber 2002.

Paper: F. A. Gers, N. N. Schraudolph & J. Schmidhuber, "Learning Precise Timing with LSTM
Recurrent Networks", Journal of Machine Learning Research 3:115-143, 2002. Peephole connections
let the gates see the cell state (i, f see c^{t-1}, o sees c^t; equations in `rnnai.nn.lstm`).
Claims (abstract, verified at jmlr.org/papers/v3/gers02a.html): peephole LSTM learns "the fine
distinction between sequences of spikes spaced either 50 or 49 time steps apart" (MSD) and,
"without external resets or teacher forcing", generates "stable streams of precisely timed
spikes" (GTS). From a secondary summary (unverified): GTS is shown only for peephole nets
because LSTM without peepholes cannot do it; nets without forget gates did not learn GTS;
peepholes matter little for MSD.

Tasks (`rnnai.tasks.timing`; its docstring says which parts are verified): MSD: spikes at
T(n) = T(n-1) + F + I(n), I(n) in {0, 1}; the single output gives I(n) at every spike. GTS: the
net must itself emit the spike train T(n) = T(n-1) + F (I(n) = 0 here), from a reset state with
an all-zero input; the error counts at every step. A stream is right if every judged error is
below 0.49 (paper, unverified).

The paper's network and learning (secondary summary, unverified): 1 input, 1 block of 1 cell,
1 output (17 weights: the summary's table says the input is *not* connected to the output unit,
although its general equations include that connection; we follow the table:
`INPUT_TO_OUTPUT = False`); cell squashing g = h = identity; sigmoid output; biases forget -2,
input 0, output +2; weights in [-0.1, 0.1]; online truncated RTRL, lr 1e-5, momentum 0.999
(GTS), 0.9999 (continual MSD), 0.99 (non-continual MSD); a training stream is cut at the first
error >= 0.49; training succeeds after 100 correct spikes in a row, the test after 1,000; at most
10^7 training streams (10^8 for MSD), 10 trials.

Our network: `paper_variant` = the "gers2002" (forget gate + peepholes) or "gers2000" (forget
gate, no peepholes) preset with identity g and h (via `dataclasses.replace`), 1 cell at every
scale, the paper's biases and init range, sigmoid output.

Deviations (every scale): full BPTT through each stream, not truncated RTRL; training streams of
a fixed number of spikes (``n_spikes``) from a reset state, judged as a whole, instead of one
continual stream cut at its first error (the criterion "stream right" = all its spikes right
stands in for "100 correct spikes in a row"). The paper scale uses online SGD with the paper's
lr 1e-5 and momentum (0.999 for GTS, 0.9999 for MSD; `rnnai.train.loop.make_optimizer`). GTS
periods F are our choice (the paper's list is unverified). Quick scale uses Adam with gradient
clipping (a modern setup, labelled) and a reduced MSD (F = 10).

Scales:
* smoke: GTS F = 5 (4 training spikes, test 10), MSD F = 4, 1 trial per variant, tiny budgets.
* quick: GTS F = 10 (training streams of 10 spikes, free-running test of 100), MSD F = 10 with
  10 spikes per stream; 1 trial per variant; Adam lr 0.01, clip 1.0; a few thousand streams.
  In our short tuning runs (Adam lr 0.01-0.1, 1 and 4 cells) no net left the all-zero output
  minimum for GTS or the constant 0.5 output for MSD within about a minute.
* paper: GTS F = 10 and 50 (training streams of 100 spikes, test 1,000), continual MSD F = 49
  (100 spikes per stream), 10 trials per variant, online SGD lr 1e-5 with momentum 0.999 (GTS)
  and 0.9999 (MSD), budgets 10^7 (GTS) and 10^8 (MSD) streams.

Verdict (`timing_judgement`, by `rnnai.runtime.verdict`, on GTS at the largest F of the scale;
a net solves GTS when every step of its free-running test stream is within 0.49 of the target):
the peephole nets' success rate is not significantly below the claimed 100% (one-sided exact
binomial at 5%), and peephole nets solve it more often than nets without peepholes (95% bootstrap
interval of the difference of the solved fractions above 0). Reproduced needs both, the paper's
learning (online SGD with momentum; Adam never counts) and the paper's 10 trials per variant;
partial when one test passes or the setup or trial count falls short; not reproduced when none
passes. MSD is reported, not judged.

Each GTS net's long free-running test runs right after its training (``on_trial_end`` of
`rnnai.train.loop.run_trials`) and is stored with its result in the checkpoint, so a resumed run
never tests a net twice or loses a test.

Examples:
    >>> v = paper_variant("gers2002")
    >>> v.peepholes, v.input_activation, v.output_activation
    (True, 'identity', 'identity')
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.nn.lstm import VARIANTS as LSTM_VARIANTS
from rnnai.nn.lstm import LSTMVariant
from rnnai.runtime.verdict import Judgement, comparison, judge, required_trials, success_rate
from rnnai.tasks import GTSConfig, GTSTask, MSDConfig, MSDTask
from rnnai.tasks.base import SequenceBatch
from rnnai.train.loop import TrainConfig, TrialResult, train_trials
from rnnai.train.plots import plot_internals, plot_learning_curves
from rnnai.train.sequence import NetConfig, SequenceNet

PEEPHOLE, NO_PEEPHOLE = "gers2002", "gers2000"
VARIANTS = (PEEPHOLE, NO_PEEPHOLE)

# The paper's initial gate biases (forget -2, input 0, output +2; unverified, see docstring).
BIASES: dict[str, Any] = {
    "forget_gate_bias": -2.0,
    "input_gate_bias": (0.0,),
    "output_gate_bias": (2.0,),
}
INPUT_TO_OUTPUT = False  # the summary's 17-weight table: no input -> output connection
PAPER_TRIALS = 10
"""Trials per variant in the paper (secondary summary, unverified)."""
PAPER_FRACTION = 1.0
"""The claim: peephole nets learn GTS (the fraction is unverified; taken as all)."""


def paper_variant(name: str) -> LSTMVariant:
    """The preset `name` with the paper's identity cell squashing g and h."""
    return dataclasses.replace(
        LSTM_VARIANTS[name], input_activation="identity", output_activation="identity"
    )


def _adam(batch: int, budget: int, every: int, eval_size: int) -> TrainConfig:
    """The quick/smoke setup: Adam lr 0.01 with gradient-norm clipping at 1.0 (modern)."""
    return TrainConfig(
        optimizer="adam", lr=0.01, batch=batch, max_sequences=budget, eval_every=every,
        eval_size=eval_size, max_wrong=0, grad_clip=1.0,
    )  # fmt: skip


def _paper(budget: int, eval_size: int, momentum: float) -> TrainConfig:
    """The paper scale: online SGD, lr 1e-5 with the paper's momentum."""
    return TrainConfig(
        optimizer="sgd", lr=1e-5, momentum=momentum, batch=1, max_sequences=budget,
        eval_every=10_000, eval_size=eval_size, max_wrong=0,
    )  # fmt: skip


def _setup(train: TrainConfig, variant: str, hidden: int) -> str:
    clip = f", grad clip {train.grad_clip}" if train.grad_clip is not None else ""
    return f"{variant} LSTM (g = h = identity), {hidden} cell; {train.setup}{clip}"


# ----------------------------------------------------------------------------- rule and tests
def timing_judgement(
    peephole: list[bool], no_peephole: list[bool], train: TrainConfig, setup: str
) -> Judgement:
    """The module's verdict (see the docstring) from each net's GTS long-stream test."""
    evidence = [
        success_rate(
            successes=sum(peephole),
            n=len(peephole),
            paper_rate=PAPER_FRACTION,
            claim="peephole nets generate the timed spikes free-running (claimed: all)",
        ),
        comparison(
            [float(x) for x in peephole],
            [float(x) for x in no_peephole],
            lower_is_better=False,
            paired=False,
            claim="peephole nets solve GTS more often than nets without peepholes",
        ),
    ]
    return judge(
        evidence,
        paper_setup=train.optimizer == "sgd" and train.momentum > 0,
        setup=setup,
        trials=min(len(peephole), len(no_peephole)),
        required=required_trials(PAPER_TRIALS, statistical=True),
    )


@torch.no_grad()
def free_run(net: SequenceNet, batch: SequenceBatch) -> np.ndarray:
    """The net's outputs (B, T, O) on a batch, state carried over the whole stream."""
    net.eval()
    return net(torch.from_numpy(batch.x)).numpy()


def long_stream_test(net: SequenceNet, task: GTSTask, n_spikes: int) -> dict[str, Any]:
    """Free-running GTS test on one stream of `n_spikes` target spikes.

    Returns:
        {"solved": every step within the task's tolerance, "spike_train": exactly one detected
        spike at every target step and none elsewhere (`check_spike_train`, no timing slack),
        "max_error": the largest absolute error, "spikes_right": target spikes hit in a row}.
    """
    batch = task.test_batch(n_spikes)
    out = free_run(net, batch)
    err = np.abs(out - batch.y)[0, :, 0]  # (T,)
    bad = np.flatnonzero(err >= task.config.tolerance)
    targets = np.flatnonzero(batch.y[0, :, 0] > 0.5)
    in_row = int((targets < bad[0]).sum()) if bad.size else int(targets.size)
    return {
        "solved": bool(bad.size == 0),
        "spike_train": bool(task.spike_train_correct(out, batch)[0]),
        "max_error": float(err.max()),
        "spikes_right": in_row,
    }


def _trial_keys(name: str) -> Callable[[str, int], tuple[int | str, ...]]:
    """Stream keys of GTS trial k: those of its own label ``name_k`` (trial 0)."""
    return lambda purpose, k: (f"{name}_{k}", purpose, 0)


def _long_test(task: GTSTask, n_spikes: int) -> Callable[[SequenceNet, Any], dict[str, Any]]:
    """The hook that tests each trained GTS net on a long free-running stream."""
    return lambda net, _: long_stream_test(net, task, n_spikes)


# ----------------------------------------------------------------------------- plots
def plot_spike_trains(nets: dict[str, SequenceNet], task: GTSTask, n: int, path: Path) -> str:
    """Free-running output of each variant against the target spike train."""
    from matplotlib.figure import Figure

    batch = task.test_batch(n)
    fig = Figure(figsize=(9, 1.8 + 1.6 * len(nets)))
    axes = np.atleast_1d(fig.subplots(len(nets), 1, sharex=True))
    t = np.arange(batch.x.shape[1])
    for ax, (name, net) in zip(axes, nets.items(), strict=True):
        out = free_run(net, batch)[0, :, 0]
        ax.vlines(t[batch.y[0, :, 0] > 0.5], 0, 1, color="k", lw=0.8, alpha=0.4, label="target")
        ax.plot(t, out, color="C0" if name == PEEPHOLE else "C3", lw=1, label="output")
        ax.axhline(0.5, color="grey", ls=":", lw=0.8)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel(name, fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    axes[0].set_title(
        f"GTS free run (F = {task.config.period}, zero input, no teacher forcing)",
        fontsize=10,
    )
    axes[-1].set_xlabel("time step")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path.name


# ----------------------------------------------------------------------------- experiment
@register
class TimingExperiment(Experiment):
    """Precise timing (Gers et al. 2002): peephole LSTM generates timed spikes (GTS), MSD."""

    name = "lstm.timing"
    system = "Peephole LSTM (Gers et al. 2002)"
    claim = PaperClaim(
        citation="Gers, Schraudolph & Schmidhuber 2002, JMLR 3:115-143",
        metric="fraction of peephole LSTM nets that generate timed spikes (GTS) free-running",
        value=1.0,
        lower_is_better=False,
        note="Paper: peephole nets learn GTS, nets without peepholes fail (fraction unverified).",
    )
    headline_metric = "fraction of peephole nets solving GTS (largest F, long free run)"
    tour = False  # quick learns nothing yet (see the docstring); about 2 min

    def config(self, scale: str) -> dict[str, Any]:
        """Per-scale config: GTS periods, MSD task, trials and budgets (1 cell throughout)."""
        gts: list[dict[str, Any]]
        msd: dict[str, Any]
        if scale == "smoke":
            gts = [{"period": 5, "n_spikes": 4, "test_spikes": 10, "trials": 1,
                    "train": _adam(1, 40, 20, 1)}]  # fmt: skip
            msd = {"period": 4, "delays": [0, 1], "n_spikes": 3, "trials": 1,
                   "train": _adam(8, 80, 40, 32)}  # fmt: skip
        elif scale == "quick":
            gts = [{"period": 10, "n_spikes": 10, "test_spikes": 100, "trials": 1,
                    "train": _adam(1, 2_000, 200, 1)}]  # fmt: skip
            msd = {"period": 10, "delays": [0, 1], "n_spikes": 10, "trials": 1,
                   "train": _adam(16, 4_000, 800, 128)}  # fmt: skip
        else:
            gts = [
                {"period": p, "n_spikes": 100, "test_spikes": 1_000, "trials": PAPER_TRIALS,
                 "train": _paper(10_000_000, 1, 0.999)}
                for p in (10, 50)
            ]  # fmt: skip
            msd = {"period": 49, "delays": [0, 1], "n_spikes": 100, "trials": PAPER_TRIALS,
                   "train": _paper(100_000_000, 100, 0.9999)}  # fmt: skip
        return {
            "variants": list(VARIANTS),
            "hidden": 1,
            "cell_squashing": "identity",
            "input_to_output": INPUT_TO_OUTPUT,
            "biases": {k: list(v) if isinstance(v, tuple) else v for k, v in BIASES.items()},
            "gts": [g | {"train": asdict(g["train"])} for g in gts],
            "msd": msd | {"train": asdict(msd["train"])},
        }

    def _net(self, variant: str, hidden: int) -> NetConfig:
        return NetConfig(
            variant=paper_variant(variant),
            hidden=hidden,
            init_range=0.1,
            input_to_output=INPUT_TO_OUTPUT,
            **BIASES,
        )

    def run(self, ctx: RunContext) -> Outcome:
        """Train both variants on GTS (each period) and MSD; long free-run tests; plots."""
        cfg = ctx.config
        metrics: dict[str, Any] = {"gts": {}, "msd": {}}
        curves: dict[str, list[TrialResult]] = {}
        fractions: dict[str, float] = {}
        solved_by: dict[str, list[bool]] = {}
        views: dict[str, SequenceNet] = {}
        for g in cfg["gts"]:
            period = g["period"]
            train = TrainConfig(**g["train"])
            task = GTSTask(GTSConfig(period=period, n_spikes=g["n_spikes"]))
            row: dict[str, Any] = {}
            for variant in cfg["variants"]:
                net_cfg = self._net(variant, cfg["hidden"])
                name = f"gts{period}_{variant}"
                trained = train_trials(
                    task,
                    net_cfg,
                    train,
                    trials=g["trials"],
                    seeds=ctx,
                    hooks=ctx,
                    label=name,
                    keys=_trial_keys(name),
                    on_trial_end=_long_test(task, g["test_spikes"]),
                )
                results = trained.results
                tests = [r.extra for r in results]
                if trained.net is not None:
                    views[variant] = trained.net
                solved = [bool(t["solved"]) for t in tests]
                solved_by[variant] = solved
                row[variant] = {
                    "setup": _setup(train, variant, cfg["hidden"]),
                    "solved_long_stream": sum(solved),
                    "trials": len(tests),
                    "fraction": sum(solved) / len(tests),
                    "solved_training_length": sum(r.solved for r in results),
                    "exact_spike_train": sum(bool(t.get("spike_train")) for t in tests),
                    "spikes_right_in_row": [t.get("spikes_right") for t in tests],
                    "final_eval_error": [r.eval_error for r in results],
                }
                curves[f"GTS F={period} {variant}"] = results
            metrics["gts"][f"period_{period}"] = row
            fractions = {v: row[v]["fraction"] for v in cfg["variants"]}
        m = cfg["msd"]
        msd_task = MSDTask(
            MSDConfig(period=m["period"], delays=tuple(m["delays"]), n_spikes=m["n_spikes"])
        )
        msd_views: dict[str, SequenceNet] = {}
        for variant in cfg["variants"]:
            net_cfg = self._net(variant, cfg["hidden"])
            train = TrainConfig(**m["train"])
            label = f"msd_{variant}"
            trained = train_trials(
                msd_task, net_cfg, train, trials=m["trials"], seeds=ctx, hooks=ctx, label=label
            )
            results = trained.results
            if trained.net is not None:
                msd_views[variant] = trained.net
            solved_at = [r.sequences for r in results if r.solved]
            metrics["msd"][variant] = {
                "setup": _setup(train, variant, cfg["hidden"]),
                "period": m["period"],
                "delays": m["delays"],
                "solved": len(solved_at),
                "trials": len(results),
                "median_sequences": statistics.median(solved_at) if solved_at else None,
                "final_eval_wrong_fraction": [r.eval_wrong / r.eval_size for r in results],
                "final_eval_error": [r.eval_error for r in results],
            }
            curves[f"MSD {variant}"] = results
        p, q = fractions[PEEPHOLE], fractions[NO_PEEPHOLE]
        last_train = TrainConfig(**cfg["gts"][-1]["train"])
        judgement = timing_judgement(
            solved_by[PEEPHOLE],
            solved_by[NO_PEEPHOLE],
            last_train,
            _setup(last_train, PEEPHOLE, cfg["hidden"]),
        )
        metrics["headline_fractions"] = {"peephole": p, "no_peephole": q}
        plots = [
            plot_learning_curves(
                curves, ctx.out_dir / "learning_curve.png", "Timing tasks: evaluation error"
            )
        ]
        last = cfg["gts"][-1]
        task = GTSTask(GTSConfig(period=last["period"], n_spikes=last["n_spikes"]))
        n_view = min(last["test_spikes"], 30)
        if len(views) == len(cfg["variants"]):
            plots.append(plot_spike_trains(views, task, n_view, ctx.out_dir / "spike_trains.png"))
        for variant, net in views.items():
            plots.append(
                plot_internals(
                    net,
                    task.test_batch(min(n_view, 12)),
                    ctx.out_dir / f"internals_gts_{variant}.png",
                    f"GTS F={last['period']}, {variant}: cell state and gates (free run)",
                    symbols=["I(n)"],
                )
            )
        if PEEPHOLE in msd_views:
            plots.append(
                plot_internals(
                    msd_views[PEEPHOLE],
                    msd_task.sample(np.random.default_rng(0), 1),
                    ctx.out_dir / "internals_msd.png",
                    f"MSD F={m['period']}, {PEEPHOLE}: input spikes, cell, gates, output vs I(n)",
                    symbols=["spike"],
                )
            )
        setup = _setup(TrainConfig(**last["train"]), PEEPHOLE, cfg["hidden"])
        msd_txt = "; ".join(
            f"{v} {metrics['msd'][v]['solved']}/{metrics['msd'][v]['trials']}"
            for v in cfg["variants"]
        )
        notes = (
            f"GTS F={last['period']} (free run of {last['test_spikes']} spikes): peephole "
            f"nets solved {p:.0%}, no-peephole nets {q:.0%}. MSD F={m['period']} + I(n), "
            f"I(n) in {m['delays']}, solved: {msd_txt}. Setup: {setup}. Paper (unverified): "
            "online truncated RTRL, lr 1e-5 with momentum; here full BPTT on fixed-length streams."
        )
        return Outcome(headline=p, metrics=metrics, verdict=judgement, plots=plots, notes=notes)
