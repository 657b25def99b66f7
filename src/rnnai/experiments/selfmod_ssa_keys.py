"""`selfmod.ssa_keys`: SSA with self-modifying policies in the two-agent keys-and-doors world.

Paper: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), the multi-agent experiment of incremental self-improvement (also in Schmidhuber, Zhao &
Schraudolph, "Reinforcement learning with self-modifying policies", Learning to Learn, 1997).

Claim: two agents with self-modifying policies (SMPs) and the success-story algorithm (SSA) learn
to cooperate in a partially observable world (`rnnai.selfmod.keys_world`): at first the goal is
found about once per 300,000 steps; within 130,000 trials the average trial length drops by a
factor of 60 (mean of 4 runs); TD(lambda) Q-learning on the same inputs fails.

What runs: per run, one lifelong simulation of both SMP + SSA agents (`rnnai.selfmod.policy`,
`rnnai.selfmod.ssa`, kernel `rnnai.selfmod._kernels.run_smp_life`), no resets of the agents
between trials (only the world restarts after each goal), until ``max_trials`` trials or
``max_ticks`` time steps. The baseline is two independent tabular Watkins Q(lambda) learners
(`rnnai.selfmod._kernels.run_qlambda_life`) on the same five observation bits (32 states x 9
actions each; replacing traces, epsilon-greedy, alpha `Q_ALPHA`, gamma `Q_GAMMA`, lambda
`Q_LAMBDA`, epsilon `Q_EPS`), given the trial ends as terminal states (an advantage the SMPs do
not have), acting in every time step. Trial length: time steps from a trial's start to its goal.

Measures (per run): the mean trial length of the first and of the last ``window`` trials (at most
a quarter of the trials the run finished each), their ratio (the drop factor), the trials done,
the SSA stack sizes, modifications made and popped.

Deviations (so the verdict is at most "partial"): the world's layout, step length and sensors and
several instructions and parameters of the SMP are our reading (each module's docstring lists what
is verified); the Q(lambda) baseline's features and parameters are ours (the paper does not give
them here). The quick scale runs far fewer trials than the paper's 130,000.

Scales: ``smoke`` one run of each learner, 2 million time steps each (seconds); ``quick`` two runs
of each, 2.5e8 time steps per SSA run and 5e7 per Q(lambda) run (about 5 minutes on one idle
core); ``paper`` four runs of each, 130,000 trials per SSA run (at most 2e10 time steps) and 2e9
time steps per Q(lambda) run, checkpointed every chunk of `CHUNK` time steps and resumable.

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``):

1. `location` over the SSA runs: the paper's drop factor 60 lies in our 95% bootstrap interval
   of the mean drop factor, or the interval lies above it;
2. `comparison` paired by run: SSA's final mean trial length (log10) is below Q(lambda)'s;
3. `check`: the world is as hard as the paper's at first, the SSA runs' mean initial trial
   length is within a factor `START_TOLERANCE` of 300,000 steps.

Examples:
    >>> drop_factor([100.0, 300.0, 200.0, 50.0, 20.0, 10.0, 10.0, 30.0], window=2)
    (200.0, 20.0, 10.0)
    >>> window_size(1000, 100), window_size(10, 100)
    (100, 2)
    >>> ssa_judgement([60.0, 70.0], ssa_final=[5e3, 6e3], q_final=[2e5, 3e5],
    ...               initial=[3e5, 2e5], setup="x").verdict
    'partial'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.verdict import Judgement, check, comparison, judge, location
from rnnai.selfmod import _kernels as K
from rnnai.selfmod.keys_world import N_OBS
from rnnai.selfmod.policy import N_OPS, SMPConfig

__all__ = [
    "CHUNK",
    "PAPER_DROP",
    "PAPER_START",
    "SSAKeysExperiment",
    "drop_factor",
    "run_seed",
    "ssa_judgement",
    "start_life",
    "window_size",
]

PAPER_DROP = 60.0
"""The paper's drop of the average trial length within 130,000 trials (mean of 4 runs)."""
PAPER_START = 300_000.0
"""The paper's steps per goal at first."""
START_TOLERANCE = 3.0
"""The initial trial length must be within this factor of `PAPER_START` for check 3."""
CHUNK = 20_000_000
"""Time steps per kernel call; a checkpoint is saved after each."""
Q_ALPHA, Q_GAMMA, Q_LAMBDA, Q_EPS = 0.1, 0.99, 0.9, 0.1
"""The Q(lambda) baseline's learning rate, discount, trace decay and exploration rate."""
TRIAL_CAP = 200_000
"""Trial records kept per run (the paper's 130,000 fit)."""


def window_size(n_trials: int, window: int) -> int:
    """Trials averaged at the start and at the end: ``window``, at most a quarter of the trials.

    Raises:
        RnnaiError: If fewer than 2 trials were finished.
    """
    if n_trials < 2:
        raise RnnaiError(f"a drop factor needs at least 2 finished trials, got {n_trials}")
    return max(1, min(window, n_trials // 4))


def drop_factor(
    lengths: Sequence[float] | np.ndarray, *, window: int
) -> tuple[float, float, float]:
    """Mean trial length of the first and last ``window`` trials and their ratio.

    Returns:
        (initial, final, initial / final).
    """
    x = np.asarray(lengths, dtype=np.float64)
    w = window_size(len(x), window)
    first, last = float(x[:w].mean()), float(x[-w:].mean())
    return first, last, first / last


def run_seed(seed: int, system: str, run: int) -> int:
    """The seed of one lifelong run: distinct streams per (system, run).

    Examples:
        >>> run_seed(0, "ssa", 0) != run_seed(0, "q", 0) != run_seed(0, "ssa", 1)
        True
    """
    return derive_seed(seed, "selfmod.ssa_keys", system, run) % (2**63)


def start_life(system: str, seed: int, smp: SMPConfig) -> dict[str, np.ndarray]:
    """The arrays of a newborn life of ``system`` ("ssa" or "q"): uniform policies or zero Q
    values, empty stacks, clock 0, and the first trial placed."""
    a: dict[str, np.ndarray] = {
        "pos": np.zeros((2, 2)), "heading": np.zeros(2, np.int64),
        "has_key": np.zeros(2, np.int64), "door_open": np.zeros(2, np.int64),
        "obs": np.zeros((2, N_OBS)), "rng": np.array([seed], dtype=np.uint64),
        "clk": np.zeros(4, np.int64), "trial_len": np.zeros(TRIAL_CAP, np.int64),
        "trial_end": np.zeros(TRIAL_CAP, np.int64),
    }  # fmt: skip
    K.new_trial(a["pos"], a["heading"], a["has_key"], a["door_open"], a["obs"], a["rng"])
    if system == "ssa":
        m, tags, mods = smp.n_cells, smp.max_tags, smp.max_mods
        a.update({
            "P": np.full((2, m, N_OPS), 1.0 / N_OPS), "c": np.zeros((2, N_OPS)),
            "ist": np.zeros((2, 8), np.int64), "R": np.zeros(2),
            "tag_t": np.zeros((2, tags)), "tag_r": np.zeros((2, tags)),
            "tag_first": np.zeros((2, tags), np.int64),
            "mod_cell": np.zeros((2, mods), np.int64), "mod_old": np.zeros((2, mods, N_OPS)),
            "trial_stack": np.zeros((TRIAL_CAP, 2), np.int64),
        })  # fmt: skip
        a["c"][:, :5] = a["obs"]
    elif system == "q":
        a.update({"Q": np.zeros((2, 32, 9)), "E": np.zeros((2, 32, 9)),
                  "cur": np.zeros((2, 2), np.int64)})  # fmt: skip
        for i in range(2):
            a["cur"][i, 0] = K._obs_state(a["obs"], i)
            a["cur"][i, 1] = K._choose(a["Q"], i, a["cur"][i, 0], Q_EPS, a["rng"])
    else:
        raise RnnaiError(f"system must be 'ssa' or 'q', got {system!r}")
    return a


def _advance(system: str, a: dict[str, np.ndarray], smp: SMPConfig, t_end: int,
             max_trials: int) -> None:  # fmt: skip
    if system == "ssa":
        K.run_smp_life(
            a["P"], a["c"], a["ist"], a["R"], a["tag_t"], a["tag_r"], a["tag_first"],
            a["mod_cell"], a["mod_old"], a["pos"], a["heading"], a["has_key"], a["door_open"],
            a["obs"], a["rng"], a["clk"], a["trial_len"], a["trial_end"], a["trial_stack"],
            smp.lam, smp.min_p, t_end, max_trials,
        )  # fmt: skip
    else:
        K.run_qlambda_life(
            a["Q"], a["E"], a["cur"], a["pos"], a["heading"], a["has_key"], a["door_open"],
            a["obs"], a["rng"], a["clk"], a["trial_len"], a["trial_end"], Q_ALPHA, Q_GAMMA,
            Q_LAMBDA, Q_EPS, t_end, max_trials,
        )  # fmt: skip


def _to_tensors(prefix: str, a: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in a.items():
        if v.size == 0:  # safetensors cannot hash empty tensors; `_finished` restores them
            continue
        arr = v.view(np.int64) if v.dtype == np.uint64 else v
        out[f"{prefix}/{k}"] = torch.from_numpy(np.ascontiguousarray(arr))
    return out


def _from_tensors(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    a = {}
    for name, t in tensors.items():
        if name.startswith(prefix + "/"):
            k = name[len(prefix) + 1 :]
            v = t.numpy().copy()
            a[k] = v.view(np.uint64) if k == "rng" else v
    return a


def _finished(key: str, tensors: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """A finished run's records, with empty arrays for what an empty run did not store."""
    a = {"trial_len": np.zeros(0, np.int64), "trial_end": np.zeros(0, np.int64),
         "trial_stack": np.zeros((0, 2), np.int64)}  # fmt: skip
    a.update(_from_tensors(key, tensors))
    return a


def ssa_judgement(
    drops: Sequence[float], *, ssa_final: Sequence[float], q_final: Sequence[float],
    initial: Sequence[float], setup: str,
) -> Judgement:  # fmt: skip
    """The verdict of the module docstring.

    Args:
        drops: SSA drop factor per run.
        ssa_final: SSA final mean trial length per run.
        q_final: Q(lambda) final mean trial length per run (paired with ``ssa_final``).
        initial: SSA initial mean trial length per run.
        setup: The setup in words.
    """
    start = float(np.mean(initial))
    evidence = [
        location(drops, paper_value=PAPER_DROP, lower_is_better=False, statistic="mean",
                 claim="the average trial length drops about 60-fold (mean over runs)"),
        comparison(np.log10(ssa_final), np.log10(q_final), lower_is_better=True, paired=True,
                   claim="SSA + SMP ends with shorter trials than Q(lambda) (log10 trial length)"),
        check(f"at first the goal is found about once per 300,000 steps (ours {start:,.0f}, "
              f"within a factor {START_TOLERANCE:g})",
              PAPER_START / START_TOLERANCE <= start <= PAPER_START * START_TOLERANCE,
              n=len(initial), test="mean initial trial length of the SSA runs",
              ours=start, paper=PAPER_START),
    ]  # fmt: skip
    return judge(evidence, paper_setup=False, setup=setup, trials=len(drops), required=4)


@register
class SSAKeysExperiment(Experiment):
    """SSA + self-modifying policies vs Q(lambda) in the two-agent keys world (1997)."""

    name = "selfmod.ssa_keys"
    system = "Success-story algorithm with self-modifying policies (1997)"
    claim = PaperClaim(
        citation="Schmidhuber, Zhao & Wiering 1997, Machine Learning 28, multi-agent experiment",
        metric="drop of the average trial length within 130,000 trials (mean of 4 runs)",
        value=PAPER_DROP,
        lower_is_better=False,
        note="at first the goal is found about once per 300,000 steps; TD(lambda) Q-learning "
        "fails on the same task",
    )
    headline_metric = "mean drop factor of the average trial length (SSA + SMP runs)"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Runs, budgets and the averaging window per scale."""
        if scale == "smoke":
            return {"runs": 1, "ssa_ticks": 2_000_000, "q_ticks": 2_000_000,
                    "max_trials": 130_000, "window": 100}  # fmt: skip
        if scale == "quick":
            return {"runs": 2, "ssa_ticks": 250_000_000, "q_ticks": 50_000_000,
                    "max_trials": 130_000, "window": 100}  # fmt: skip
        return {"runs": 4, "ssa_ticks": 20_000_000_000, "q_ticks": 2_000_000_000,
                "max_trials": 130_000, "window": 1000}  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Run every (learner, run) life in chunks with checkpoints; judge; plot."""
        cfg = ctx.config
        smp = SMPConfig()
        loaded = ctx.checkpointer.load()
        tensors: dict[str, torch.Tensor] = {} if loaded is None else dict(loaded[0])
        state: dict[str, Any] = {"done": []} if loaded is None else loaded[1]
        jobs = [(s, r) for r in range(cfg["runs"]) for s in ("ssa", "q")]
        results: dict[str, dict[str, np.ndarray]] = {}
        with ctx.progress(len(jobs), "lifelong runs") as task:
            for system, r in jobs:
                key = f"{system}{r}"
                budget = cfg["ssa_ticks"] if system == "ssa" else cfg["q_ticks"]
                if key not in state["done"]:
                    a = _from_tensors(key, tensors)
                    if not a:
                        a = start_life(system, run_seed(ctx.seed, system, r), smp)
                    while a["clk"][0] < budget and a["clk"][2] < cfg["max_trials"]:
                        t_end = min(budget, int(a["clk"][0]) + CHUNK)
                        _advance(system, a, smp, t_end, cfg["max_trials"])
                        tensors.update(_to_tensors(key, a))
                        ctx.checkpointer.save(tensors, state)
                        task.update(status=f"{key}: {int(a['clk'][0]):,} steps, "
                                    f"{int(a['clk'][2]):,} trials")  # fmt: skip
                    n = int(a["clk"][2])
                    keep = {"trial_len": a["trial_len"][:n].copy(),
                            "trial_end": a["trial_end"][:n].copy(),
                            "clk": a["clk"].copy()}  # fmt: skip
                    if system == "ssa":
                        keep["trial_stack"] = a["trial_stack"][:n].copy()
                        keep["ist"] = a["ist"].copy()
                    for name in [k for k in tensors if k.startswith(key + "/")]:
                        del tensors[name]
                    tensors.update(_to_tensors(key, keep))
                    state["done"].append(key)
                    ctx.checkpointer.save(tensors, state)
                    ctx.log(f"{key}: {n} trials in {int(a['clk'][0]):,} time steps")
                results[key] = _finished(key, tensors)
                task.advance()
        return self._outcome(ctx, cfg, results)

    def _outcome(self, ctx: RunContext, cfg: dict[str, Any],
                 results: dict[str, dict[str, np.ndarray]]) -> Outcome:  # fmt: skip
        runs = range(cfg["runs"])
        per: dict[str, dict[str, list[float]]] = {}
        for system in ("ssa", "q"):
            rows: dict[str, list[float]] = {"initial": [], "final": [], "drop": [], "trials": [],
                                            "ticks": []}  # fmt: skip
            for r in runs:
                res = results[f"{system}{r}"]
                lengths = res["trial_len"]
                n = len(lengths)
                if n >= 2:
                    i0, i1, d = drop_factor(lengths, window=cfg["window"])
                else:  # fewer than two goals: no improvement measurable, the trial never ends
                    ticks = float(res["clk"][0])
                    i0 = float(lengths[0]) if n else ticks
                    i1, d = max(ticks - float(res["trial_end"][-1] if n else 0.0), i0), 1.0
                rows["initial"].append(i0)
                rows["final"].append(i1)
                rows["drop"].append(d)
                rows["trials"].append(float(n))
                rows["ticks"].append(float(res["clk"][0]))
            per[system] = rows
        setup = (
            f"{cfg['runs']} lifelong runs per learner; SSA + SMP (48 cells, 12 instructions, "
            f"lambda 0.3) for at most {cfg['ssa_ticks']:,} steps / {cfg['max_trials']:,} trials; "
            f"tabular Q(lambda) on 5 observation bits for {cfg['q_ticks']:,} steps; "
            f"window {cfg['window']} trials"
        )
        judgement = ssa_judgement(per["ssa"]["drop"], ssa_final=per["ssa"]["final"],
                                  q_final=per["q"]["final"], initial=per["ssa"]["initial"],
                                  setup=setup)  # fmt: skip
        ist = [results[f"ssa{r}"]["ist"] for r in runs]
        metrics: dict[str, Any] = {
            "ssa": per["ssa"], "q_lambda": per["q"],
            "ssa_modifications_made": [[int(x[a, 5]) for a in range(2)] for x in ist],
            "ssa_tags_popped": [[int(x[a, 6]) for a in range(2)] for x in ist],
            "ssa_final_stack_tags": [[int(x[a, 3]) for a in range(2)] for x in ist],
            "ssa_trial_length_curve": [_binned(results[f"ssa{r}"]["trial_len"]) for r in runs],
            "q_trial_length_curve": [_binned(results[f"q{r}"]["trial_len"]) for r in runs],
            "q_parameters": {"alpha": Q_ALPHA, "gamma": Q_GAMMA, "lambda": Q_LAMBDA,
                             "epsilon": Q_EPS, "states": 32, "actions": 9},
        }  # fmt: skip
        headline = float(np.mean(per["ssa"]["drop"]))
        plots = [
            _plot_lengths(results, runs, ctx.out_dir / "trial_length.png"),
            _plot_stack(results, runs, ctx.out_dir / "ssa_stack.png"),
        ]
        notes = (
            f"SSA + SMP: mean drop factor {headline:.3g} (paper 60) over "
            f"{np.mean(per['ssa']['trials']):,.0f} trials per run on average; initial mean trial "
            f"length {np.mean(per['ssa']['initial']):,.0f} steps (paper about 300,000); "
            f"Q(lambda): drop {np.mean(per['q']['drop']):.3g}, final mean trial length "
            f"{np.mean(per['q']['final']):,.0f}. World layout, sensors and parts of the "
            "instruction set are our reading of the paper, so the verdict is at most partial."
        )
        return Outcome(headline=headline, metrics=metrics, verdict=judgement, plots=plots,
                       notes=notes)  # fmt: skip


def _binned(lengths: np.ndarray, bins: int = 50) -> dict[str, list[float]]:
    """Mean trial length per bin of consecutive trials (at most ``bins`` bins)."""
    n = len(lengths)
    if n == 0:
        return {"trial": [], "mean_length": []}
    edges = np.unique(np.linspace(0, n, min(bins, n) + 1).astype(int))
    mids = [float((lo + hi) / 2) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    means = [float(lengths[lo:hi].mean()) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return {"trial": mids, "mean_length": means}


def _plot_lengths(results: dict[str, dict[str, np.ndarray]], runs: range, path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    for system, color, label in (("ssa", "tab:blue", "SSA + SMP"), ("q", "tab:red", "Q(lambda)")):
        for r in runs:
            curve = _binned(results[f"{system}{r}"]["trial_len"])
            ax.plot(np.array(curve["trial"]) + 1, curve["mean_length"], color=color, alpha=0.8,
                    marker=".", label=label if r == 0 else None)  # fmt: skip
    ax.axhline(PAPER_START, color="gray", linestyle=":", label="paper: 300,000 at first")
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean trial length (time steps)")
    ax.set_title("Trial length over trials (binned means, one line per run)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_stack(results: dict[str, dict[str, np.ndarray]], runs: range, path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    for r in runs:
        res = results[f"ssa{r}"]
        if len(res["trial_end"]) == 0:
            continue
        for a, style in ((0, "-"), (1, "--")):
            ax.plot(res["trial_end"], res["trial_stack"][:, a], style, alpha=0.8,
                    label=f"run {r}, agent {'AB'[a]}")  # fmt: skip
    ax.set_xlabel("time step (end of each trial)")
    ax.set_ylabel("SSA stack size (valid blocks)")
    ax.set_title("SSA stack size over time")
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name
