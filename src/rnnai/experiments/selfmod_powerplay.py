"""`selfmod.powerplay_patterns` and `selfmod.powerplay_fovea`: PowerPlay invents and learns tasks.

Papers: J. Schmidhuber, "PowerPlay: Training an Increasingly General Problem Solver by Continually
Searching for the Simplest Still Unsolvable Problem", Frontiers in Psychology 4:313, 2013
(arXiv:1112.5309); R. K. Srivastava, B. R. Steunebrink, M. Stollenga & J. Schmidhuber,
"Continually Adding Self-Invented Problems to the Repertoire: First Experiments with PowerPlay",
IEEE ICDL-EpiRob 2012; R. K. Srivastava, B. R. Steunebrink & J. Schmidhuber, "First Experiments
with PowerPlay", Neural Networks 41:130-136, 2013 (arXiv:1210.8385).

The claims are qualitative: a PowerPlay-driven self-delimiting net keeps inventing tasks it cannot
yet solve and learns them without forgetting the old ones (acceptance rule of
`rnnai.selfmod.powerplay`); the tasks found get harder to find over time; new skills reuse the
existing weights, few weights change per new task; and validation stays cheap because only the
tasks whose computation a change touches are re-tested. We could read only the papers' abstracts:
their task definitions (which patterns, which fovea goals), net sizes, budgets and results (as
far as we know plots, no headline number) are not checked, so there is no number to compare with
and the task spaces below are ours.

What runs: `rnnai.selfmod.powerplay.PowerPlay` from an all-zero net, one independent run per seed,
until ``max_tasks`` tasks are in the repertoire or a step's search gives up after
``max_candidates`` candidates. Patterns: every non-zero pattern of ``n_bits`` bits, two classes,
prior favouring patterns with few ones; outputs: the class units. Fovea: a random binary image
(one per seed), a 3x3 view (18 inputs), four motor units; a task is a start cell and a goal cell,
prior 2^-distance. Reported per step: the task, its description length -log2 P(T) and domain
complexity (ones / distance), the net steps the solver takes on it, the search cost (net steps of
all candidates: PowerPlay's measure of "simplest"), weights changed, reuse (the fraction of all
weights left unchanged) and the old tasks re-tested for the accepted pair with dependency tracking
and without it (then all old tasks are re-tested).

Verdict (`rnnai.runtime.verdict.judge`; not the papers' net, sizes or search, so at most
"partial"; one trial = one seed's run; "reproduced" would need 10), four tests of ours:

1. `check` over every task of every seed: the final solver still solves it (a fresh run, not the
   dependency records);
2. `comparison`, paired by seed: the mean log2 search cost of the later half of the tasks exceeds
   that of the earlier half (the problems get harder to find);
3. `comparison`, paired by seed: fewer old tasks are re-tested per step with dependency tracking
   than without it (re-test saving > 1);
4. `comparison`, paired by seed: a second run per seed with the same random stream but without
   dependency tracking (every old task re-tested, and paid for in the candidates' time limits)
   needs more search (log2 of the summed net steps) for its first m tasks than the run with
   tracking, m the shorter run's task count.

There is no training or test set: every task is invented by the system. What keeps the check
honest is that it re-runs every task from scratch on the final weights, independent of the
records the search used to skip re-tests; the records themselves are compared with fresh runs
(``records_exact`` in the metrics).

Scales (each seed runs twice, with and without tracking): ``smoke`` 2 seeds x 5 tasks (seconds);
``quick`` 10 seeds x up to 40 tasks, 4 million candidates per step (a few minutes); ``paper``
20 seeds x up to 200 tasks, bigger nets
(8-bit patterns, a 12x12 image), 50 million candidates per step (hours; checkpointed after every
accepted task).

Examples:
    >>> halves_gap([1.0, 1.0, 5.0, 5.0])
    4.0
    >>> retention_check([[True, True], [True]]).passed
    True
    >>> prefix_costs([10, 20, 30], [40, 40])  # m = 2
    (4.906890595608519, 6.321928094887363)
    >>> j = powerplay_judgement([[True]] * 3, [2.0, 3.0, 1.5], [1.0, 2.0, 1.0],
    ...                         [1.0, 2.0, 1.0], [4.0, 5.0, 6.0], cost_with=[9.0, 9.5, 9.0],
    ...                         cost_without=[9.5, 9.0, 9.2], setup="s")
    >>> j.verdict
    'partial'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge, required_trials
from rnnai.selfmod.powerplay import (
    Domain,
    PowerPlay,
    PowerPlayConfig,
    SlimConfig,
    fovea_domain,
    pattern_domain,
    random_image,
    run_task,
)

__all__ = [
    "build_domain",
    "halves_gap",
    "powerplay_judgement",
    "prefix_costs",
    "records_exact",
    "retention_check",
]


def halves_gap(values: Sequence[float]) -> float:
    """Mean of the later half minus mean of the earlier half (the middle one of an odd count
    goes to neither)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        raise RnnaiError(f"halves_gap needs at least 2 values, got {len(x)}")
    h = len(x) // 2
    return float(x[len(x) - h :].mean() - x[:h].mean())


def prefix_costs(with_: Sequence[int], without: Sequence[int]) -> tuple[float, float]:
    """log2 of the summed search cost of the first m tasks of two runs, m the shorter length."""
    m = min(len(with_), len(without))
    if m < 1:
        raise RnnaiError(f"prefix_costs needs two runs with a task each, got {len(with_)} and "
                         f"{len(without)}")  # fmt: skip
    return float(np.log2(max(sum(with_[:m]), 1))), float(np.log2(max(sum(without[:m]), 1)))


def retention_check(solved: Sequence[Sequence[bool]]) -> Evidence:
    """`check`: every task of every run is solved by that run's final solver."""
    flat = [bool(s) for run in solved for s in run]
    return check(
        "the final solver of every run still solves every task it ever accepted",
        passed=bool(flat) and all(flat),
        n=len(flat),
        test="fresh run of every task on the final weights",
        ours=float(sum(flat)),
        paper=float(len(flat)),
    )


def powerplay_judgement(
    solved: Sequence[Sequence[bool]],
    late_cost: Sequence[float],
    early_cost: Sequence[float],
    retested_with: Sequence[float],
    retested_without: Sequence[float],
    *,
    cost_with: Sequence[float],
    cost_without: Sequence[float],
    setup: str,
) -> Judgement:
    """The verdict of the module docstring.

    Args:
        solved: Per run, whether the final solver solves each of its tasks.
        late_cost: Per run, the mean log2 search cost of the later half of its tasks.
        early_cost: Per run, the same for the earlier half.
        retested_with: Per run, mean old tasks re-tested per step with dependency tracking.
        retested_without: Per run, the same without tracking (all old tasks).
        cost_with: Per seed, log2 of the search cost of the first m tasks with tracking.
        cost_without: Per seed, the same for the run without tracking (`prefix_costs`).
        setup: The setup in words.

    Returns:
        The judgement (never "reproduced": not the papers' setup).
    """
    tests = [
        retention_check(solved),
        comparison(
            late_cost,
            early_cost,
            lower_is_better=False,
            paired=True,
            claim="later tasks cost more search than earlier ones (mean log2 net steps, "
            "later half minus earlier half)",
        ),  # fmt: skip
        comparison(
            retested_with,
            retested_without,
            lower_is_better=True,
            paired=True,
            claim="dependency tracking re-tests fewer old tasks per step than re-testing all",
        ),  # fmt: skip
        comparison(
            cost_with,
            cost_without,
            lower_is_better=True,
            paired=True,
            claim="with dependency tracking the first m tasks cost less search than without "
            "(log2 net steps, same seed)",
        ),
    ]
    return judge(tests, paper_setup=False, setup=setup, trials=len(late_cost),
                 required=required_trials(None, statistical=True))  # fmt: skip


def build_domain(cfg: dict[str, Any], rng: np.random.Generator) -> tuple[Domain, SlimConfig]:
    """The task space and net of a config (``domain`` "patterns" or "fovea")."""
    if cfg["domain"] == "patterns":
        dom = pattern_domain(n_bits=cfg["n_bits"], n_classes=cfg["n_classes"])
        n_out = cfg["n_classes"]
    elif cfg["domain"] == "fovea":
        img = random_image(rng, cfg["image"][0], cfg["image"][1])
        dom = fovea_domain(img, view=cfg["view"])
        n_out = 4
    else:
        raise RnnaiError(f"domain must be 'patterns' or 'fovea', got {cfg['domain']!r}")
    net = SlimConfig(n_in=dom.n_inputs, n_hidden=cfg["hidden"], group=cfg["group"],
                     n_out=n_out, max_steps=cfg["max_steps"])  # fmt: skip
    return dom, net


def records_exact(pp: PowerPlay) -> bool:
    """Whether every task's dependency record equals its used sources in a fresh run."""
    for r, t in enumerate(pp.repertoire):
        fresh = np.zeros(pp.net.n_src, dtype=bool)
        fresh[run_task(pp.W, pp.net, pp.domain, t)[2]] = True
        if not np.array_equal(fresh, pp.used[r]):
            return False
    return True


def _plot_costs(runs: list[dict[str, Any]], path: Path, title: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for k, run in enumerate(runs):
        h = run["history"]
        steps = [r["step"] for r in h]
        ax1.plot(steps, [r["search_steps"] for r in h], color=f"C{k % 10}", alpha=0.7, lw=1)
        ax2.plot(steps, [r["complexity"] for r in h], color=f"C{k % 10}", alpha=0.7, lw=1)
    ax1.set_yscale("log")
    ax1.set_xlabel("task (repertoire size)")
    ax1.set_ylabel("search cost (net steps)")
    ax2.set_xlabel("task (repertoire size)")
    ax2.set_ylabel("task complexity (ones / distance)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_reuse(runs: list[dict[str, Any]], path: Path, title: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    for k, run in enumerate(runs):
        h = run["history"]
        steps = [r["step"] for r in h]
        ax1.plot(steps, [r["weights_changed"] for r in h], color=f"C{k % 10}", alpha=0.7, lw=1)
        ax2.plot(steps, [r["retested"] for r in h], color=f"C{k % 10}", alpha=0.7, lw=1,
                 label="with tracking" if k == 0 else None)  # fmt: skip
    mx = max((len(run["history"]) for run in runs), default=1)
    ax2.plot([1, mx], [0, mx - 1], color="k", ls="--", lw=1, label="without (all old tasks)")
    ax1.set_xlabel("task (repertoire size)")
    ax1.set_ylabel("weights changed")
    ax2.set_xlabel("task (repertoire size)")
    ax2.set_ylabel("old tasks re-tested")
    ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


class _PowerPlayExperiment(Experiment):
    """Shared run loop of the two PowerPlay experiments."""

    domain: ClassVar[str]
    scales: ClassVar[dict[str, dict[str, Any]]]

    def config(self, scale: str) -> dict[str, Any]:
        """The domain, net, search budget and seeds per scale."""
        return dict(self.scales[scale])

    def run(self, ctx: RunContext) -> Outcome:
        """Run PowerPlay once per seed, checkpointing after every accepted task, and judge."""
        c = ctx.config
        search = PowerPlayConfig(max_changes=c["max_changes"], base_time=c["base_time"],
                                 max_doublings=c["max_doublings"],
                                 max_candidates=c["max_candidates"])  # fmt: skip
        loaded = ctx.checkpointer.load()
        state: dict[str, Any] = {"runs": {}, "baseline": {}} if loaded is None else loaded[1]
        players: dict[str, list[PowerPlay]] = {"runs": [], "baseline": []}
        with ctx.progress(2 * c["seeds"] * c["max_tasks"], "tasks") as task:
            for key, track in (("runs", True), ("baseline", False)):
                cfg = replace(search, track_dependencies=track)
                for s in range(c["seeds"]):
                    dom, net = build_domain(c, ctx.rng("image", s))
                    seed = derive_seed(ctx.seed, ctx.name, "run", s)  # the same for both
                    pp = PowerPlay(dom, net, cfg, seed=seed)
                    saved = state[key].get(str(s))
                    if saved is not None:
                        pp.load_state_dict(saved["player"])
                    done = saved is not None and saved["done"]
                    task.advance(len(pp.repertoire))
                    while not done:
                        rec = pp.step()
                        done = rec is None or len(pp.repertoire) >= c["max_tasks"]
                        state[key][str(s)] = {"player": pp.state_dict(), "done": done}
                        ctx.checkpointer.save({}, state)
                        if rec is not None:
                            task.advance()
                            ctx.log(
                                f"{'tracking' if track else 'no tracking'}, seed {s}, task "
                                f"{rec.step}: {rec.description} (search {rec.search_steps} "
                                f"steps, {rec.weights_changed} weights changed, re-tested "
                                f"{rec.retested}/{rec.retested_without_tracking})"
                            )
                    players[key].append(pp)
        return self._outcome(ctx, players["runs"], players["baseline"])

    def _outcome(
        self, ctx: RunContext, players: list[PowerPlay], baselines: list[PowerPlay]
    ) -> Outcome:
        c = ctx.config
        runs: list[dict[str, Any]] = []
        solved, late, early, with_, without = [], [], [], [], []
        for pp in players:
            h = [r.to_dict() for r in pp.history]
            cost = [float(np.log2(max(r["search_steps"], 1))) for r in h]
            ok = [pp.solves(t) for t in pp.repertoire]
            solved.append(ok)
            n = len(h)
            if n >= 2:
                hh = n // 2
                late.append(float(np.mean(cost[n - hh :])))
                early.append(float(np.mean(cost[:hh])))
            with_.append(float(np.mean([r["retested"] for r in h])) if h else 0.0)
            without.append(float(np.mean([r["retested_without_tracking"] for r in h]))
                           if h else 0.0)  # fmt: skip
            runs.append({
                "tasks": n,
                "stalled": n < c["max_tasks"],
                "all_solved": all(ok),
                "records_exact": records_exact(pp),
                "weights": int(pp.W.size),
                "nonzero_weights": int(np.count_nonzero(pp.W)),
                "history": h,
            })  # fmt: skip
        if len(late) < 2:
            raise RnnaiError(f"too few tasks to judge: need at least 2 runs with 2 tasks, got "
                             f"{len(late)}")  # fmt: skip
        setup = (f"{c['domain']}: WTA threshold net ({c['hidden']} hidden), randomized Levin "
                 f"search over (task, modification, time limit), {c['seeds']} seeds x up to "
                 f"{c['max_tasks']} tasks")  # fmt: skip
        prefix = [
            prefix_costs([r.search_steps for r in a.history], [r.search_steps for r in b.history])
            for a, b in zip(players, baselines, strict=True)
        ]
        judgement = powerplay_judgement(
            solved,
            late,
            early,
            with_,
            without,
            cost_with=[p[0] for p in prefix],
            cost_without=[p[1] for p in prefix],
            setup=setup,
        )
        all_h = [r for run in runs for r in run["history"]]
        tot_with = sum(r["retested"] for r in all_h)
        tot_without = sum(r["retested_without_tracking"] for r in all_h)
        saving = tot_without / max(tot_with, 1)
        metrics: dict[str, Any] = {
            "tasks_per_run": [run["tasks"] for run in runs],
            "all_tasks_still_solved": all(all(s) for s in solved),
            "records_exact": all(run["records_exact"] for run in runs),
            "mean_weights_changed_per_task": float(np.mean([r["weights_changed"] for r in all_h])),
            "mean_reuse": float(np.mean([r["reuse"] for r in all_h])),
            "retested_with_tracking": int(tot_with),
            "retested_without_tracking": int(tot_without),
            "retest_saving": float(saving),
            "log2_search_cost_early": early,
            "log2_search_cost_late": late,
            "complexity_gap_late_minus_early": [
                halves_gap([r["complexity"] for r in run["history"]])
                for run in runs
                if run["tasks"] >= 2
            ],  # fmt: skip
            "task_steps_gap_late_minus_early": [
                halves_gap([r["task_steps"] for r in run["history"]])
                for run in runs
                if run["tasks"] >= 2
            ],  # fmt: skip
            "log2_search_cost_first_m_tasks_with_tracking": [p[0] for p in prefix],
            "log2_search_cost_first_m_tasks_without_tracking": [p[1] for p in prefix],
            "tasks_per_run_without_tracking": [len(b.repertoire) for b in baselines],
            "runs": runs,
        }
        title = f"PowerPlay, {c['domain']} ({len(runs)} runs)"
        plots = [_plot_costs(runs, ctx.out_dir / "search_cost.png", title),
                 _plot_reuse(runs, ctx.out_dir / "reuse_retests.png", title)]  # fmt: skip
        seq = "; ".join(r["description"] for r in runs[0]["history"][:12])
        notes = (
            f"Seed 0's first tasks: {seq}. Tasks per run {metrics['tasks_per_run']}; "
            f"{metrics['mean_weights_changed_per_task']:.2f} weights changed per task on average "
            f"(reuse {metrics['mean_reuse']:.3f}); re-tested {tot_with} old tasks with tracking "
            f"against {tot_without} without (saving {saving:.2f}x). Search for the first m tasks "
            f"(m = the shorter of the paired runs) without tracking costs "
            f"{np.mean([p[1] - p[0] for p in prefix]):+.2f} log2 net steps on average against "
            "the same seed's run with tracking."
        )
        return Outcome(headline=saving, metrics=metrics, verdict=judgement, plots=plots,
                       notes=notes)  # fmt: skip


_SEARCH = {"max_changes": 4, "base_time": 16, "max_doublings": 6}


@register
class PowerPlayPatterns(_PowerPlayExperiment):
    """PowerPlay on self-invented pattern-classification tasks (Srivastava et al. 2012)."""

    name = "selfmod.powerplay_patterns"
    system = "PowerPlay (Schmidhuber 2011; Srivastava et al. 2012)"
    claim = PaperClaim(
        citation="Srivastava, Steunebrink, Stollenga & Schmidhuber 2012, pattern tasks",
        metric="tasks re-tested per step without dependency tracking / with it",
        value=None,
        lower_is_better=False,
        note="qualitative: tasks get harder, old skills are kept, few weights change per task",
    )
    headline_metric = "re-test saving: old tasks re-tested without / with dependency tracking"
    domain = "patterns"
    scales: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"domain": "patterns", "n_bits": 4, "n_classes": 2, "hidden": 4, "group": 2,
                  "max_steps": 5, "seeds": 2, "max_tasks": 5, "max_candidates": 200_000,
                  **_SEARCH},
        "quick": {"domain": "patterns", "n_bits": 6, "n_classes": 2, "hidden": 6, "group": 3,
                  "max_steps": 6, "seeds": 10, "max_tasks": 40, "max_candidates": 4_000_000,
                  **_SEARCH},
        "paper": {"domain": "patterns", "n_bits": 8, "n_classes": 2, "hidden": 16, "group": 4,
                  "max_steps": 8, "seeds": 20, "max_tasks": 200, "max_candidates": 50_000_000,
                  **_SEARCH},
    }  # fmt: skip


@register
class PowerPlayFovea(_PowerPlayExperiment):
    """PowerPlay on self-invented motor tasks of a fovea over a static image (Srivastava et al.)."""

    name = "selfmod.powerplay_fovea"
    system = "PowerPlay (Schmidhuber 2011; Srivastava et al. 2012)"
    claim = PaperClaim(
        citation="Srivastava, Steunebrink, Stollenga & Schmidhuber 2012, fovea tasks",
        metric="tasks re-tested per step without dependency tracking / with it",
        value=None,
        lower_is_better=False,
        note="qualitative: tasks get harder, old skills are kept, few weights change per task",
    )
    headline_metric = "re-test saving: old tasks re-tested without / with dependency tracking"
    domain = "fovea"
    scales: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"domain": "fovea", "image": [5, 5], "view": 3, "hidden": 4, "group": 2,
                  "max_steps": 6, "seeds": 2, "max_tasks": 5, "max_candidates": 200_000,
                  **_SEARCH},
        "quick": {"domain": "fovea", "image": [8, 8], "view": 3, "hidden": 8, "group": 4,
                  "max_steps": 10, "seeds": 10, "max_tasks": 40, "max_candidates": 4_000_000,
                  **_SEARCH},
        "paper": {"domain": "fovea", "image": [12, 12], "view": 3, "hidden": 24, "group": 4,
                  "max_steps": 16, "seeds": 20, "max_tasks": 200, "max_candidates": 50_000_000,
                  **_SEARCH},
    }  # fmt: skip
