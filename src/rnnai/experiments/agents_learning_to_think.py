"""agents.learning_to_think: C that queries a world model M vs C alone, in environment steps.

Paper: J. Schmidhuber, "On learning to think: algorithmic information theory for novel
combinations of reinforcement learning controllers and recurrent neural world models",
arXiv:1511.09249, 2015 (Sec. 5.3 and Algorithm 1). The paper has no experiments; its claim is
that a controller C that learns to address and query a recurrent world model M (reading M's
units, sending inputs into them) can solve an RL task with fewer trials than a C that must learn
everything from reward, because it reuses the algorithmic information already in M.

The task here (ours): the non-Markov single pole (`rnnai.envs.pole.SINGLE_POLE` with
``markov=False``: only x and theta are observed, not the velocities), random starts. Per seed:

* **C with M** (`rnnai.agents.think.ModelQueryPolicy`): first M (an Elman
  `RecurrentWorldModel`) learns to predict the next observation and "still balancing" from
  ``m_episodes`` episodes of uniformly random actions; these environment steps are counted.
  Then CMA-ES searches C's weights (a tanh read-out of [x_t; M's hidden state; 1] to the action
  and ``query_dim`` query units that feed M's hidden units), M frozen;
* **C alone** (`rnnai.agents.think.RecurrentPolicy`): CMA-ES searches an Elman C with
  ``hidden_c`` units of its own (it must learn the velocities from reward alone).

Both run until the best genome of a generation balances ``target`` steps from each of the
``train_starts`` training starts, or until ``budget`` environment steps (then counted as the
budget, a lower bound). The held-out check: the found C from ``eval_starts`` starts of a
separate stream (a test checks that no start is shared), steps balanced.

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``: the paper has no experimental
setup; ``trials`` = seeds, 10 required), paired over seeds:

* `comparison`: C with M reaches the criterion with fewer environment steps (M's data included)
  than C alone;
* `comparison`: C with M's found controller balances at least as long on held-out starts (mean
  difference > 0 is the test; ties fail it).

Scales: ``smoke`` 2 seeds, tiny budgets; ``quick`` 10 seeds, criterion 1,000 steps from 3 starts,
budget 150,000 steps (2 minutes measured on 2 shared cores); ``paper`` 30 seeds, larger budgets and
more of M's data (checkpointed after every seed).

Development runs (all on trial seed 0, which the runs' derived trial seeds do not include): with
criterion 300 steps from 2 starts, 1 query unit and CMA-ES step 0.5, C alone solved in 1,535
steps and C with M in 86,200; with criterion 1,000 from 3 starts and no query unit, C alone
27,470 and C with M unsolved at 150,000; with 1 query unit and step 0.2, C with M 106,348 and C
alone 129,364. The last setting is the one used: a choice made after seeing one seed, which the
held-out seeds of the quick run test again.

Outcome at quick scale (results/agents.learning_to_think): not reproduced. C alone (33 weights)
solved all 10 seeds, C with M (54 weights) 4 of 10 within the budget, and needed more
environment steps; M's own data were only about 2% of its total. Here the recurrent C alone
learns the velocities from reward quickly, M's state (trained on failing random-action
episodes) is not an easy code for them, and the query units enlarge C's search space; a task
where M's knowledge is harder to rediscover from reward would be the next test.

Examples:
    >>> starts = think_starts(seed=0, n=2, stream="eval")
    >>> starts.shape
    (2, 4)
    >>> data = random_action_episodes(seed=0, n=2, cap=10)
    >>> data["obs"].shape[0], data["obs"].shape[2]
    (2, 2)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnai.agents.think import (
    ModelQueryPolicy,
    RecurrentPolicy,
    pole_steps,
    query_genome_size,
    recurrent_genome_size,
    search_until,
)
from rnnai.agents.world_model import RecurrentWorldModel, train_model
from rnnai.envs.pole import SINGLE_POLE, PoleBalancingVectorEnv
from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.runtime.verdict import Evidence, Judgement, comparison, judge, required_trials

__all__ = [
    "NAME",
    "POLE",
    "SMOKE_TEST_CONFIG",
    "LearningToThinkExperiment",
    "random_action_episodes",
    "run_trial",
    "think_judgement",
    "think_starts",
    "train_world_model",
]

NAME = "agents.learning_to_think"
POLE = SINGLE_POLE.with_overrides(markov=False)
"""The non-Markov single pole: x / 2.4 and theta / 12 deg observed, no velocities."""
_HALF_WIDTH = np.array([0.5, 0.2, math.radians(4.0), 0.2])
"""Random starts uniform in +- these (x m, x' m/s, theta rad, theta' rad/s): ours."""

_COMMON: dict[str, Any] = {"hidden_m": 16, "hidden_c": 4, "query_dim": 1, "sigma": 0.2,
                           "popsize": 16, "lr_m": 0.003, "batch": 32}  # fmt: skip
SMOKE_TEST_CONFIG: dict[str, Any] = {**_COMMON, "seeds": 1, "target": 20, "budget": 2000,
                                     "train_starts": 2, "eval_starts": 3, "m_episodes": 4,
                                     "m_cap": 20, "m_steps": 3}  # fmt: skip
"""A tiny config for doctests and unit tests."""


def think_starts(*, seed: int, n: int, stream: str) -> np.ndarray:
    """``n`` raw starts (x, x', theta, theta') from the ``train`` or ``eval`` stream of a trial."""
    if stream not in ("train", "eval", "model"):
        raise RnnaiError(f"stream must be 'train', 'eval' or 'model', got {stream!r}")
    rng = np.random.default_rng(derive_seed(seed, NAME, stream))
    return rng.uniform(-1.0, 1.0, size=(n, 4)) * _HALF_WIDTH


def random_action_episodes(*, seed: int, n: int, cap: int) -> dict[str, np.ndarray]:
    """M's data: ``n`` episodes of uniform random actions from the ``model`` stream's starts.

    Returns:
        ``obs``, ``act``, ``next_obs`` (n, L, .), ``reward`` (1 balancing / 0 failed), ``mask``.
    """
    starts = think_starts(seed=seed, n=n, stream="model")
    rng = np.random.default_rng(derive_seed(seed, NAME, "actions"))
    env = PoleBalancingVectorEnv(n, POLE, max_steps=cap)
    obs, _ = env.reset(options={"state": starts})
    rec: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "next_obs", "rew", "mask")}
    alive = np.ones(n, dtype=bool)
    for _ in range(cap):
        a = rng.uniform(-1.0, 1.0, size=(n, 1))
        nxt, r, term, trunc, _ = env.step(a)
        for k, v in (("obs", obs), ("act", a), ("next_obs", nxt), ("rew", r), ("mask", alive)):
            rec[k].append(np.asarray(v, dtype=np.float64).copy())
        alive = alive & ~(term | trunc)
        obs = nxt
        if not alive.any():
            break
    out = {k: np.stack(v, 1) for k, v in rec.items()}
    return {"obs": out["obs"], "act": out["act"], "next_obs": out["next_obs"],
            "reward": out["rew"], "mask": out["mask"] > 0.5}  # fmt: skip


def train_world_model(cfg: dict[str, Any], *, seed: int) -> tuple[RecurrentWorldModel, int]:
    """Collect M's random-action data and train M; returns M and the environment steps used."""
    data = random_action_episodes(seed=seed, n=cfg["m_episodes"], cap=cfg["m_cap"])
    gen = torch.Generator().manual_seed(derive_seed(seed, NAME, "model"))
    m = RecurrentWorldModel(n_obs=2, n_act=1, hidden=cfg["hidden_m"], generator=gen)
    t = [torch.as_tensor(data[k], dtype=torch.float32)
         for k in ("obs", "act", "next_obs", "reward")]  # fmt: skip
    mask = torch.as_tensor(data["mask"])
    train_model(m, (t[0], t[1], t[2], t[3], mask), binary=True, steps=cfg["m_steps"],
                lr=cfg["lr_m"], batch=cfg["batch"], generator=gen)  # fmt: skip
    return m, int(data["mask"].sum())


def run_trial(cfg: dict[str, Any], *, seed: int) -> dict[str, Any]:
    """One seed: M, then the search with M and the search without it, and the held-out check."""
    train = think_starts(seed=seed, n=cfg["train_starts"], stream="train")
    held = think_starts(seed=seed, n=cfg["eval_starts"], stream="eval")
    m, m_steps = train_world_model(cfg, seed=seed)
    k, hm, hc = cfg["query_dim"], cfg["hidden_m"], cfg["hidden_c"]

    def with_m(genomes: np.ndarray, repeats: int) -> ModelQueryPolicy:
        return ModelQueryPolicy(m, genomes, query_dim=k, repeats=repeats)

    def alone(genomes: np.ndarray, repeats: int) -> RecurrentPolicy:
        return RecurrentPolicy(genomes, n_obs=2, hidden=hc, repeats=repeats)

    common = {"config": POLE, "target": cfg["target"], "popsize": cfg["popsize"],
              "sigma": cfg["sigma"]}  # fmt: skip
    r_m = search_until(with_m, query_genome_size(n_obs=2, hidden=hm, query_dim=k), train,
                       budget=max(cfg["budget"] - m_steps, 1),
                       rng=np.random.default_rng(derive_seed(seed, NAME, "es", "with")),
                       **common)  # fmt: skip
    r_c = search_until(alone, recurrent_genome_size(n_obs=2, hidden=hc), train,
                       budget=cfg["budget"],
                       rng=np.random.default_rng(derive_seed(seed, NAME, "es", "alone")),
                       **common)  # fmt: skip
    held_m, _ = pole_steps(with_m(r_m["best"][None], len(held)), held, POLE, cfg["target"])
    held_c, _ = pole_steps(alone(r_c["best"][None], len(held)), held, POLE, cfg["target"])
    return {
        "model_steps": m_steps,
        "with_model_steps": m_steps + r_m["env_steps"],
        "with_model_solved": bool(r_m["solved"]),
        "alone_steps": r_c["env_steps"],
        "alone_solved": bool(r_c["solved"]),
        "held_out_with_model": float(held_m.mean()),
        "held_out_alone": float(held_c.mean()),
        "curve_with_model": [[m_steps + s, f] for s, f in r_m["curve"]],
        "curve_alone": [list(p) for p in r_c["curve"]],
    }


def think_judgement(per: dict[str, list[float]], *, setup: str) -> Judgement:
    """The verdict of the module docstring from per-seed numbers.

    Args:
        per: ``with_model_steps``, ``alone_steps`` (environment steps to the criterion, the
            budget when unsolved), ``held_out_with_model``, ``held_out_alone``, one per seed.
        setup: The setup in words.
    """
    n = len(per["with_model_steps"])
    evidence: list[Evidence] = [
        comparison(per["with_model_steps"], per["alone_steps"], lower_is_better=True,
                   paired=True, claim="C with access to M reaches the criterion with fewer "
                   "environment steps (M's own data included) than C alone"),
        comparison(per["held_out_with_model"], per["held_out_alone"], lower_is_better=False,
                   paired=True, claim="the controller found with M balances longer on held-out "
                   "starts than the one found alone"),
    ]  # fmt: skip
    return judge(evidence, paper_setup=False, setup=setup, trials=n,
                 required=required_trials(None, statistical=True))  # fmt: skip


@register
class LearningToThinkExperiment(Experiment):
    """Learning to think (2015): C querying a recurrent world model vs C alone, in env steps."""

    name = NAME
    system = "Learning to think (2015)"
    claim = PaperClaim(
        citation="Schmidhuber 2015, arXiv:1511.09249, Sec. 5.3",
        metric="environment steps to the criterion, C with access to M (M's data included)",
        value=None,
        lower_is_better=True,
        note="qualitative: the paper has no experiments; a C that queries M should need fewer "
        "environment interactions than a C that learns from reward alone",
    )
    headline_metric = "environment steps to the criterion, C with M (mean over seeds)"
    tour = False

    def config(self, scale: str) -> dict[str, Any]:
        """Seeds, criterion, budgets and M's data per scale."""
        if scale == "smoke":
            return {**_COMMON, "seeds": 2, "target": 30, "budget": 4000, "train_starts": 2,
                    "eval_starts": 4, "m_episodes": 8, "m_cap": 30, "m_steps": 5}  # fmt: skip
        if scale == "quick":
            return {**_COMMON, "seeds": 10, "target": 1000, "budget": 150_000,
                    "train_starts": 3, "eval_starts": 20, "m_episodes": 100, "m_cap": 100,
                    "m_steps": 200}  # fmt: skip
        return {**_COMMON, "seeds": 30, "target": 1000, "budget": 1_000_000, "train_starts": 3,
                "eval_starts": 50, "m_episodes": 300, "m_cap": 200, "m_steps": 1000}  # fmt: skip

    def run(self, ctx: RunContext) -> Outcome:
        """Run every seed (checkpointed per seed), judge and plot."""
        cfg = ctx.config
        loaded = ctx.checkpointer.load()
        state: dict[str, Any] = {"trials": {}} if loaded is None else loaded[1]
        seeds = [derive_seed(ctx.seed, "trial", s) for s in range(cfg["seeds"])]
        torch.set_num_threads(1)
        with ctx.progress(len(seeds), "seeds") as task:
            for i, s in enumerate(seeds):
                if str(i) not in state["trials"]:
                    t = run_trial(cfg, seed=s)
                    state["trials"][str(i)] = t
                    ctx.checkpointer.save({}, state)
                    ctx.log(
                        f"seed {i}: with M {t['with_model_steps']} steps (solved "
                        f"{t['with_model_solved']}, M's data {t['model_steps']}), alone "
                        f"{t['alone_steps']} (solved {t['alone_solved']}); held-out "
                        f"{t['held_out_with_model']:.1f} vs {t['held_out_alone']:.1f}"
                    )
                task.advance()
        trials = [state["trials"][str(i)] for i in range(len(seeds))]
        keys = ("with_model_steps", "alone_steps", "held_out_with_model", "held_out_alone",
                "model_steps")  # fmt: skip
        per = {k: [float(t[k]) for t in trials] for k in keys}
        solved = {k: int(sum(t[k] for t in trials)) for k in ("with_model_solved", "alone_solved")}
        setup = (f"non-Markov single pole, random starts, criterion {cfg['target']} steps from "
                 f"{cfg['train_starts']} starts; CMA-ES (population {cfg['popsize']}); M Elman "
                 f"{cfg['hidden_m']} on {cfg['m_episodes']} random-action episodes; C alone "
                 f"Elman {cfg['hidden_c']}; {cfg['query_dim']} query unit(s)")  # fmt: skip
        judgement = think_judgement(per, setup=setup)
        means = {k: float(np.mean(v)) for k, v in per.items()}
        metrics: dict[str, Any] = {**per, **solved, "means": means,
                                   "curve_with_model": [t["curve_with_model"] for t in trials],
                                   "curve_alone": [t["curve_alone"] for t in trials]}  # fmt: skip
        plots = [_plot_curves(trials, cfg, ctx.out_dir / "search_curves.png")]
        notes = (
            f"Environment steps to balance {cfg['target']} steps: C with M "
            f"{means['with_model_steps']:.0f} (of which M's data {means['model_steps']:.0f}; "
            f"solved {solved['with_model_solved']}/{len(trials)}), C alone "
            f"{means['alone_steps']:.0f} (solved {solved['alone_solved']}/{len(trials)}); "
            f"held-out steps balanced {means['held_out_with_model']:.1f} vs "
            f"{means['held_out_alone']:.1f}. Unsolved runs count as the budget. Our task and "
            "sizes (the paper has no experiments), so the verdict is at most partial."
        )  # fmt: skip
        return Outcome(headline=means["with_model_steps"], metrics=metrics, verdict=judgement,
                       plots=plots, notes=notes)  # fmt: skip


def _plot_curves(trials: list[dict[str, Any]], cfg: dict[str, Any], path: Path) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    for key, color, label in (("curve_with_model", "tab:blue", "C with M (incl. M's data)"),
                              ("curve_alone", "tab:red", "C alone")):  # fmt: skip
        for i, t in enumerate(trials):
            c = np.asarray(t[key])
            if len(c):
                ax.plot(c[:, 0], c[:, 1], color=color, alpha=0.5, label=label if i == 0 else None)
    ax.axhline(cfg["target"], color="black", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("best mean steps balanced in the generation")
    ax.set_title("Search progress per seed: C querying M vs C alone", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name
