"""`selfmod.ssa_levin`: adaptive Levin search with the success-story algorithm on maze sequences.

Paper: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), Sec. 3.5 ("Experiment 2: incremental learning / inductive transfer"); also M. Wiering &
J. Schmidhuber, "Solving POMDPs with Levin search and EIRA", ICML 1996.

Claim (qualitative): on a sequence of ever harder partially observable maze tasks, adaptive Levin
search (ALS), which keeps the probabilities raised by earlier solutions, needs much less total
search time than Levin search (LS) by itself; plugging ALS into SSA gives additional speed-ups
(SSA keeps only the probability modifications followed by reward accelerations); SSA + ALS is
"fairly learning rate independent", while ALS without SSA works only with small learning rates.

The paper's setup: one 23 x 23 maze, start and heading fixed, 7 goals at growing distance; 4
goalsets, G_i = goals 1..3+i; 40 epochs, epochs 10(i-1)+1..10i find every goal of G_i in order of
distance; finding a goal gives reward 1/(path length); the probability matrices are updated
whenever a goal is found and never reset (the paper's METHOD 2); the measure is the total number
of search steps. What runs here (`rnnai.selfmod.adaptive_levin`): per run (= task sequence) a
generated maze (`make_maze`) with goals at growing distance drawn from the run's own stream
(`goal_sequence`), and the learners (`SYSTEMS`) LS (uniform probabilities throughout; LS is
deterministic, so each goal's search time is computed once and counted at every repetition), ALS
and ALS + SSA at the learning rate ``gamma``, and ALS and ALS + SSA at ``gamma_high``, each
living through the same epochs. Held out (ours; the paper has no held-out mazes): after the
sequence, each learner's final policy searches for a goal in ``eval_mazes`` evaluation mazes that
are never one of the training mazes (content hashes differ, enforced by `evaluation_mazes`);
LS's held-out time is the uniform policy's.

Measures: total search steps per learner and run, search steps per epoch (plots), the held-out
search steps, SSA's stack size and pops.

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``: the maze, the goals and several
machine details are ours, and the paper's numbers were not available to us), all paired by run
(95% bootstrap interval of the mean difference of log10 total search steps), one per part of the
claim:

1. `comparison`: ALS's time is below LS's (at ``gamma``);
2. `comparison`: ALS + SSA's time is below ALS's (at ``gamma``);
3. `comparison`: ALS + SSA's time is below ALS's at the high learning rate ``gamma_high``.

Deviations: the maze and goal placement are generated (the paper's figure is not available); the
smoke and quick scales use smaller mazes, fewer goals, goalsets and epochs (see `config`); every
LS call gives up after ``max_steps`` steps (the paper's LS always ran to success); the learning
rates gamma = 0.1 and gamma_high = 0.5 are ours (the paper tried 0.01..0.95 and does not give
one value for this table in the text available to us).

Scales: ``smoke`` 2 runs on 11 x 11 mazes (seconds); ``quick`` 10 runs on 15 x 15 mazes, 5 goals,
3 goalsets x 5 epochs (about 5 minutes on one idle core); ``paper`` 10 runs on 23 x 23 mazes, 7
goals, 4 goalsets x 10 epochs (checkpointed after every epoch, resumable).

Examples:
    >>> epoch_goals(n_goals=7, n_sets=4, epochs_per_set=1)
    [[0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 6]]
    >>> speedup([1e6, 1e8], [1e4, 1e6])
    100.0
    >>> j = levin_judgement([6.0, 7.0, 6.5], als=[4.0, 5.0, 4.5], ssa=[3.0, 4.0, 3.5],
    ...                     als_high=[6.0, 7.0, 6.5], ssa_high=[4.0, 5.0, 4.5], setup="x")
    >>> j.verdict, [e.passed for e in j.evidence]
    ('partial', [True, True, True])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.verdict import Judgement, comparison, judge, required_trials
from rnnai.selfmod.adaptive_levin import (
    AdaptiveLevin,
    ALSConfig,
    MazeTask,
    goal_sequence,
    levin_search_maze,
    make_maze,
    maze_hash,
)

__all__ = [
    "MODES",
    "SYSTEMS",
    "SSALevinExperiment",
    "epoch_goals",
    "evaluation_mazes",
    "levin_judgement",
    "speedup",
    "training_maze",
]

MODES = ("ls", "als", "als+ssa")
SYSTEMS = ("ls", "als", "als+ssa", "als@high", "als+ssa@high")
"""Every learner of a run: the three at ``gamma``, and ALS and ALS + SSA at ``gamma_high``."""
START = (1, 1)
HEADING = 1  # east
LOOPS = 0.1


def epoch_goals(*, n_goals: int, n_sets: int, epochs_per_set: int) -> list[list[int]]:
    """The goals (0-based) of every epoch: goalset G_i = goals 1..n_goals - n_sets + i.

    Raises:
        RnnaiError: If there are more goalsets than goals.
    """
    if not 1 <= n_sets <= n_goals or epochs_per_set < 1:
        raise RnnaiError(
            f"need 1 <= n_sets <= n_goals and epochs_per_set >= 1, got n_sets={n_sets}, "
            f"n_goals={n_goals}, epochs_per_set={epochs_per_set}"
        )
    sets = [list(range(n_goals - n_sets + i)) for i in range(1, n_sets + 1)]
    return [g for g in sets for _ in range(epochs_per_set)]


def speedup(slow: Sequence[float], fast: Sequence[float]) -> float:
    """Geometric mean of ``slow / fast`` over runs."""
    a, b = np.asarray(slow, dtype=np.float64), np.asarray(fast, dtype=np.float64)
    return float(10 ** np.mean(np.log10(a) - np.log10(b)))


def training_maze(seed: int, run: int, size: int) -> np.ndarray:
    """The maze of one run's task sequence (its own random stream)."""
    rng = np.random.default_rng(derive_seed(seed, "selfmod.ssa_levin", "train", run))
    return make_maze(rng, size, loops=LOOPS)


def evaluation_mazes(seed: int, run: int, size: int, n: int,
                     exclude: set[str]) -> list[np.ndarray]:  # fmt: skip
    """``n`` held-out mazes from a stream disjoint from training, skipping any in ``exclude``.

    Args:
        seed: Run seed.
        run: Run index.
        size: Maze side.
        n: Number of mazes.
        exclude: Content hashes (`maze_hash`) of every training maze.

    Returns:
        ``n`` distinct mazes, none of whose hashes is in ``exclude``.
    """
    out: list[np.ndarray] = []
    seen = set(exclude)
    k = 0
    while len(out) < n:
        rng = np.random.default_rng(derive_seed(seed, "selfmod.ssa_levin", "eval", run, k))
        g = make_maze(rng, size, loops=LOOPS)
        k += 1
        h = maze_hash(g)
        if h not in seen:
            seen.add(h)
            out.append(g)
    return out


def levin_judgement(ls: Sequence[float] | np.ndarray, *, als: Sequence[float] | np.ndarray,
                    ssa: Sequence[float] | np.ndarray, als_high: Sequence[float] | np.ndarray,
                    ssa_high: Sequence[float] | np.ndarray, setup: str) -> Judgement:  # fmt: skip
    """The verdict of the module docstring from log10 total search times per run.

    Args:
        ls: LS's log10 total search steps per run.
        als: ALS's at ``gamma``, paired by run.
        ssa: ALS + SSA's at ``gamma``, paired by run.
        als_high: ALS's at ``gamma_high``.
        ssa_high: ALS + SSA's at ``gamma_high``.
        setup: The setup in words.
    """
    evidence = [
        comparison(als, ls, lower_is_better=True, paired=True,
                   claim="ALS needs less total search time than LS (log10 steps, paired by run)"),
        comparison(ssa, als, lower_is_better=True, paired=True,
                   claim="ALS + SSA needs less total search time than ALS (log10 steps, paired)"),
        comparison(ssa_high, als_high, lower_is_better=True, paired=True,
                   claim="at a high learning rate ALS + SSA needs less search time than ALS"),
    ]  # fmt: skip
    return judge(evidence, paper_setup=False, setup=setup, trials=len(ls),
                 required=required_trials(None, statistical=True))  # fmt: skip


def _goal_rng(seed: int, *keys: int | str) -> np.random.Generator:
    return np.random.default_rng(derive_seed(seed, "selfmod.ssa_levin", "goals", *keys))


def _config(cfg: dict[str, Any], system: str) -> ALSConfig:
    gamma = cfg["gamma_high"] if system.endswith("@high") else cfg["gamma"]
    return ALSConfig(max_len=cfg["max_len"], maxr=cfg["maxr"], gamma=gamma,
                     max_steps=cfg["max_steps"])  # fmt: skip


def _task(grid: np.ndarray, goal: tuple[int, int]) -> MazeTask:
    return MazeTask(grid=grid, start=START, heading=HEADING, goal=goal)


@register
class SSALevinExperiment(Experiment):
    """LS vs adaptive Levin search vs ALS + SSA on a sequence of maze tasks (1997)."""

    name = "selfmod.ssa_levin"
    system = "Adaptive Levin search with the success-story algorithm (1997)"
    claim = PaperClaim(
        citation="Schmidhuber, Zhao & Wiering 1997, Machine Learning 28, Sec. 3.5 (Experiment 2)",
        metric="total search time on a sequence of maze tasks: LS > ALS > ALS + SSA",
        value=None,
        lower_is_better=True,
        note="the paper's maze is a 23 x 23 figure with 7 goals; its step counts were not "
        "available to us, so the claim is the qualitative ordering",
    )
    headline_metric = "speed-up of ALS over LS (geometric mean of total search-time ratios)"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Runs, maze size, goals, goalsets, epochs and search limits per scale."""
        base = {"max_len": 12, "maxr": 4, "gamma": 0.1, "gamma_high": 0.5}
        if scale == "smoke":
            return {**base, "runs": 2, "size": 11, "n_goals": 4, "n_sets": 2,
                    "epochs_per_set": 2, "max_distance": 20, "max_steps": 2_000_000,
                    "eval_mazes": 1}  # fmt: skip
        if scale == "quick":
            return {**base, "runs": 10, "size": 15, "n_goals": 5, "n_sets": 3,
                    "epochs_per_set": 5, "max_distance": 30, "max_steps": 10_000_000,
                    "eval_mazes": 2}  # fmt: skip
        return {**base, "runs": 10, "size": 23, "n_goals": 7, "n_sets": 4, "epochs_per_set": 10,
                "max_distance": 10_000, "max_steps": 2_000_000_000, "eval_mazes": 3}  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Every (run, learner) life, epoch by epoch with checkpoints; held-out search; judge."""
        cfg = ctx.config
        loaded = ctx.checkpointer.load()
        state: dict[str, Any] = {"done": {}, "partial": {}} if loaded is None else loaded[1]
        epochs = epoch_goals(n_goals=cfg["n_goals"], n_sets=cfg["n_sets"],
                             epochs_per_set=cfg["epochs_per_set"])  # fmt: skip
        train_hashes = {maze_hash(training_maze(ctx.seed, r, cfg["size"]))
                        for r in range(cfg["runs"])}  # fmt: skip
        jobs = [(r, m) for r in range(cfg["runs"]) for m in SYSTEMS]
        with ctx.progress(len(jobs), "learner lives") as bar:
            for r, mode in jobs:
                key = f"{r}/{mode}"
                if key not in state["done"]:
                    state["done"][key] = self._life(ctx, state, key, r, mode, epochs,
                                                    train_hashes)  # fmt: skip
                    state["partial"].pop(key, None)
                    ctx.checkpointer.save({}, state)
                    d = state["done"][key]
                    ctx.log(f"run {r} {mode}: total {d['total']:,} search steps, "
                            f"{d['found']}/{d['calls']} found")  # fmt: skip
                bar.advance()
        return self._outcome(ctx, cfg, state["done"], epochs)

    def _life(self, ctx: RunContext, state: dict[str, Any], key: str, r: int, system: str,
              epochs: list[list[int]],
              train_hashes: set[str]) -> dict[str, Any]:  # fmt: skip
        cfg = ctx.config
        grid = training_maze(ctx.seed, r, cfg["size"])
        goals = goal_sequence(grid, START, cfg["n_goals"], cfg["max_distance"],
                              _goal_rng(ctx.seed, "train", r))  # fmt: skip
        mode = system.split("@")[0]
        als_cfg = _config(cfg, system)
        learner = AdaptiveLevin(mode, als_cfg)
        part = state["partial"].get(key)
        per_epoch: list[int] = []
        found = calls = pops = 0
        if part is not None:
            learner.load_state_dict(part["learner"])
            per_epoch, found, calls, pops = (
                part["per_epoch"],
                part["found"],
                part["calls"],
                part["pops"],
            )
        ls_cache: dict[int, tuple[int, bool]] = {}
        for e in range(len(per_epoch), len(epochs)):
            steps = 0
            for k in epochs[e]:
                if mode == "ls" and k in ls_cache:  # LS is deterministic: same time every time
                    s, ok = ls_cache[k]
                else:
                    rec = learner.solve(_task(grid, goals[k]))
                    s, ok = rec.search_steps, rec.found
                    pops += rec.popped
                    ls_cache[k] = (s, ok)
                steps += s
                found += int(ok)
                calls += 1
            per_epoch.append(steps)
            state["partial"][key] = {"learner": learner.state_dict(), "per_epoch": per_epoch,
                                     "found": found, "calls": calls, "pops": pops}  # fmt: skip
            ctx.checkpointer.save({}, state)
        held: list[int] = []
        mazes = evaluation_mazes(ctx.seed, r, cfg["size"], cfg["eval_mazes"], train_hashes)
        for e, g in enumerate(mazes):
            goal = goal_sequence(
                g, START, cfg["n_goals"], cfg["max_distance"], _goal_rng(ctx.seed, "eval", r, e)
            )[cfg["n_goals"] // 2]
            res = levin_search_maze(_task(g, goal), learner.policy, als_cfg)
            held.append(res.search_steps)
        return {"per_epoch": per_epoch, "total": int(sum(per_epoch)), "found": found,
                "calls": calls, "pops": pops, "stack": len(learner.stack),
                "held_out": held}  # fmt: skip

    def _outcome(self, ctx: RunContext, cfg: dict[str, Any], done: dict[str, Any],
                 epochs: list[list[int]]) -> Outcome:  # fmt: skip
        runs = range(cfg["runs"])
        tot = {m: [float(done[f"{r}/{m}"]["total"]) for r in runs] for m in SYSTEMS}
        logs = {m: np.log10(np.maximum(tot[m], 1.0)) for m in SYSTEMS}
        held = {m: [float(np.mean(done[f"{r}/{m}"]["held_out"])) for r in runs] for m in SYSTEMS}
        setup = (
            f"{cfg['runs']} task sequences, each a generated {cfg['size']}x{cfg['size']} maze "
            f"with {cfg['n_goals']} goals, {cfg['n_sets']} goalsets x {cfg['epochs_per_set']} "
            f"epochs; 9 instructions, programs <= {cfg['max_len']}, MAXR {cfg['maxr']}, "
            f"gamma {cfg['gamma']} (and {cfg['gamma_high']}); LS gives up after "
            f"{cfg['max_steps']:,} steps"
        )
        judgement = levin_judgement(logs["ls"], als=logs["als"], ssa=logs["als+ssa"],
                                    als_high=logs["als@high"], ssa_high=logs["als+ssa@high"],
                                    setup=setup)  # fmt: skip
        metrics: dict[str, Any] = {
            "total_search_steps": tot,
            "speedup_als_over_ls": speedup(tot["ls"], tot["als"]),
            "speedup_als_ssa_over_ls": speedup(tot["ls"], tot["als+ssa"]),
            "speedup_als_ssa_over_als": speedup(tot["als"], tot["als+ssa"]),
            "speedup_als_ssa_over_als_high_gamma": speedup(tot["als@high"], tot["als+ssa@high"]),
            "search_steps_per_epoch": {m: [done[f"{r}/{m}"]["per_epoch"] for r in runs]
                                       for m in SYSTEMS},
            "found": {m: [done[f"{r}/{m}"]["found"] for r in runs] for m in SYSTEMS},
            "calls": [done[f"{r}/ls"]["calls"] for r in runs],
            "ssa_pops": [done[f"{r}/als+ssa"]["pops"] for r in runs],
            "ssa_pops_high_gamma": [done[f"{r}/als+ssa@high"]["pops"] for r in runs],
            "ssa_final_stack": [done[f"{r}/als+ssa"]["stack"] for r in runs],
            "held_out_search_steps": held,
            "held_out_speedup_vs_uniform": {m: speedup(held["ls"], held[m]) for m in SYSTEMS},
            "epoch_goals": epochs,
        }  # fmt: skip
        headline = metrics["speedup_als_over_ls"]
        plots = [_plot_epochs(metrics["search_steps_per_epoch"], ctx.out_dir / "search_time.png"),
                 _plot_totals(tot, ctx.out_dir / "total_search_time.png")]  # fmt: skip
        notes = (
            f"Total search time, geometric mean over {cfg['runs']} task sequences: ALS is "
            f"{headline:.3g}x faster than LS, ALS + SSA {metrics['speedup_als_ssa_over_ls']:.3g}x "
            f"faster than LS and {metrics['speedup_als_ssa_over_als']:.3g}x faster than ALS "
            f"(below 1: slower); at gamma {cfg['gamma_high']} ALS + SSA is "
            f"{metrics['speedup_als_ssa_over_als_high_gamma']:.3g}x as fast as ALS. On held-out "
            "mazes the final policies at gamma "
            f"{cfg['gamma']} search "
            f"{metrics['held_out_speedup_vs_uniform']['als']:.3g}x (ALS) and "
            f"{metrics['held_out_speedup_vs_uniform']['als+ssa']:.3g}x (ALS + SSA) as fast as "
            "the uniform policy. SSA popped "
            f"{np.mean(metrics['ssa_pops']):.3g} of {np.mean(metrics['found']['als+ssa']):.3g} "
            "Adapt blocks per run on average (within an epoch each goal is harder than the one "
            "before, so the reward per time since a fresh modification usually falls). Mazes "
            "and goals are generated, not the paper's figure."
        )
        return Outcome(headline=headline, metrics=metrics, verdict=judgement, plots=plots,
                       notes=notes)  # fmt: skip


_COLORS = {"ls": "tab:gray", "als": "tab:blue", "als+ssa": "tab:green"}
_LABELS = {"ls": "LS", "als": "ALS", "als+ssa": "ALS + SSA", "als@high": "ALS\n(high gamma)",
           "als+ssa@high": "ALS + SSA\n(high gamma)"}  # fmt: skip


def _plot_epochs(per_epoch: dict[str, list[list[int]]], path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    for m in MODES:
        arr = np.maximum(np.asarray(per_epoch[m], dtype=np.float64), 1.0)  # (runs, epochs)
        geo = 10 ** np.log10(arr).mean(axis=0)
        x = np.arange(1, arr.shape[1] + 1)
        for row in arr:
            ax.plot(x, row, color=_COLORS[m], alpha=0.15)
        ax.plot(x, geo, color=_COLORS[m], marker=".", label=f"{_LABELS[m]} (geometric mean)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (all goals of the current goalset, in order)")
    ax.set_ylabel("search steps in the epoch")
    ax.set_title("Search time per epoch (thin lines: single task sequences)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_totals(tot: dict[str, list[float]], path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot(1, 1, 1)
    for r in range(len(tot["ls"])):
        ax.plot(range(3), [tot[m][r] for m in MODES], color="tab:gray", alpha=0.5, marker="o")
        ax.plot([3, 4], [tot[m][r] for m in SYSTEMS[3:]], color="tab:gray", alpha=0.5, marker="o")
    ax.set_xticks(range(len(SYSTEMS)), [_LABELS[m] for m in SYSTEMS])
    ax.set_yscale("log")
    ax.set_ylabel("total search steps (one line per task sequence)")
    ax.set_title("Total search time, paired by task sequence")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name
