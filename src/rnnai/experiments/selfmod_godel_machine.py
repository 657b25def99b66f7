"""`selfmod.godel_machine` and `selfmod.godel_searcher`: a Gödel machine proves a self-rewrite
better, rewrites itself, and earns more than the same machine that does not switch.

Papers: J. Schmidhuber, "Gödel machines: self-referential universal problem solvers making
provably optimal self-improvements", Technical Report IDSIA-19-03, arXiv:cs/0309048, 2003; and
"Ultimate cognition à la Gödel", Cognitive Computation 1(2):177-193, 2009. Claim (the papers'
global optimality theorem, in the form it takes here): a self-rewrite is executed only when the
target theorem

    u[s(t1) (+) (switchbit(t1) = '1'), Env(t1)] > u[s(t1) (+) (switchbit(t1) = '0'), Env(t1)]

is proved, with u the expected reward until the end of the life and the proof search's own time
counted, so each executed switch is better than continuing, and a machine whose initial software
is provably suboptimal improves itself. The papers report no experiment; there is no paper
number to match, only the claim.

What runs (`rnnai.selfmod.godel`, `rnnai.selfmod.godel_logic`, whose docstrings list what is
hand-designed: the axiom, the utility encoding, the rule, the hardware's round structure): each
instance is a Bernoulli bandit with K arms, means drawn as distinct multiples of 1/20 in
(0, 1) (`draw_means`), stated exactly by the machine's axiom. The machine pulls once per round of
c + k cycles and gives the other k cycles to a Levin search over proof techniques (the papers' six
instructions); the first technique whose check() finds a target theorem is replayed by the
checker, and only then does the switchprog run at the segment end t1. Both lives of an instance
(switching, and the same machine with switching disabled: it keeps its policy and keeps
searching) are then sampled (`sample_rewards`: multinomial arm counts, binomial payoffs) from two
named random streams of the run seed. Every step of every proof acted on is written to
``proof_steps.jsonl`` in the output directory, with the instruction's cycle.

* ``selfmod.godel_machine``: the initial policy pulls the arms uniformly at random (provably
  suboptimal: its mean is below the best arm's); the switchprogs are "pull arm a from now on and
  stop searching" for each arm. Only the switch to the best arm is provable while enough life is
  left (the continuation bound allows any later switch to the best arm).
* ``selfmod.godel_searcher``: the initial policy already pulls the best arm; the switchprogs
  rewrite the proof searcher alone: "stop searching" (share 0, no instruction offered any more)
  and "halve the searcher's share". The machine proves that its own proof search cannot pay
  any more and switches it off. The halving rewrite, though better in fact than continuing as
  is, is never proved, for two reasons: the rule evaluates only rewrites that stop the search
  (the system has no theorem about the future of a searcher that keeps searching), and even a
  lower bound on its value would not beat the bound on continuing, which must allow the
  continuing searcher to stop itself a round later (better than halving). Rewrites of the
  searcher's instruction probabilities or order that keep it searching are unprovable here for
  the same reasons, which is why the provable searcher rewrite is about its share.

Verdict (`rnnai.runtime.verdict.judge`, ``paper_setup=False``: the papers define the machine but
run no experiment, and the axioms here are hand-designed, so at most "partial"), three tests over
the instances (n = instances):

* `check`: on every instance the machine found a proof, the checker accepted it, and the machine
  switched to the expected rewrite (the best arm; the stopped searcher);
* `check`: every target theorem acted on is true of the life: u_1 equals the exact expected
  reward after t1 of the switched life, and u_0 is at least the exact expected reward after t1
  without switching;
* `comparison` (paired by instance, bootstrap of the mean difference): the sampled reward of the
  switching life exceeds that of the non-switching life.

Scales: ``smoke`` 3 instances of 3 arms, life 100,000 cycles; ``quick`` 100 instances of 5 arms,
life 1,000,000 cycles; ``paper`` 200 instances of 6 arms, life 2,000,000 cycles (checkpointed after
every instance). Pull cost c = 50 cycles, switch cost c_s = 1, share k = 50 (machine) or 150
(searcher). Nothing is learned, so no training data exist to keep apart from test data; each
instance draws its bandit from its own named stream and its two lives from two further streams.

Examples:
    >>> from fractions import Fraction as F
    >>> import numpy as np
    >>> means = draw_means(np.random.default_rng(0), 3)
    >>> len(set(means)) == 3 and all(0 < m < 1 and (20 * m).denominator == 1 for m in means)
    True
    >>> uniform_policy(2)
    (Fraction(1, 2), Fraction(1, 2))
    >>> godel_judgement([True, True], [True, True], [5.0, 7.0], [1.0, 2.0], setup="s").verdict
    'partial'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.verdict import Evidence, Judgement, check, comparison, judge
from rnnai.selfmod.godel import (
    GodelConfig,
    GodelRun,
    arm_switchprogs,
    expected_rewards,
    run_godel_machine,
    sample_rewards,
    searcher_switchprogs,
)
from rnnai.selfmod.godel_logic import Switchprog, mean_reward

__all__ = [
    "CLAIM",
    "draw_means",
    "godel_judgement",
    "live_instance",
    "target_true",
    "uniform_policy",
]

CLAIM = PaperClaim(
    citation="Schmidhuber 2003 (arXiv:cs/0309048) and 2009 (Cognitive Computation 1:177), "
    "target theorem and global optimality of self-changes",
    metric="reward of a life with the proven self-rewrite minus without it",
    value=None,
    lower_is_better=False,
    note="the papers run no experiment; the claim is qualitative (a switch only on proof, "
    "and then better than continuing)",
)


def draw_means(rng: np.random.Generator, n_arms: int) -> tuple[Fraction, ...]:
    """K distinct arm means j/20, j in 1..19, drawn without replacement."""
    if not 2 <= n_arms <= 19:
        raise RnnaiError(f"n_arms must be in 2..19, got {n_arms}")
    js = rng.choice(np.arange(1, 20), size=n_arms, replace=False)
    return tuple(Fraction(int(j), 20) for j in js)


def uniform_policy(n_arms: int) -> tuple[Fraction, ...]:
    """Every arm with probability 1/K."""
    return (Fraction(1, n_arms),) * n_arms


def target_true(run: GodelRun, means: Sequence[Fraction], policy: Sequence[Fraction]) -> bool:
    """Is the target theorem acted on true of the life? u_1 = exact expected reward after t1 of
    the switched life, and u_0 >= the exact expected reward after t1 without switching."""
    if run.target is None or run.expected_continue_after_t1 is None:
        return False
    after = expected_rewards(means, policy, run.new_policy, (0, run.counts[1]))
    return run.target.u_switch == after and run.target.u_continue >= run.expected_continue_after_t1


def live_instance(
    config: GodelConfig,
    means: tuple[Fraction, ...],
    policy: tuple[Fraction, ...],
    switchprogs: Sequence[Switchprog],
    rng_switch: np.random.Generator,
    rng_no_switch: np.random.Generator,
) -> tuple[GodelRun, dict[str, Any]]:
    """One instance: the machine's life, then both lives' sampled rewards.

    Returns:
        The run and a JSON-able record of it (with the sampled rewards and the exact ones).
    """
    run = run_godel_machine(config, means=means, policy=policy, switchprogs=switchprogs)
    r_switch = sample_rewards(means, policy, run.new_policy, run.counts, rng_switch)
    r_no = sample_rewards(means, policy, policy, run.counts_no_switch, rng_no_switch)
    oracle = max(means) * (config.T // config.c)
    rec = run.summary() | {
        "means": [str(m) for m in means],
        "policy": [str(v) for v in policy],
        "mu_initial": str(mean_reward(policy, means)),
        "reward_switch": r_switch,
        "reward_no_switch": r_no,
        "expected_oracle": float(oracle),
        "target_true": target_true(run, means, policy),
    }
    return run, rec


def godel_judgement(
    switched_as_expected: Sequence[bool],
    targets_true: Sequence[bool],
    rewards_switch: Sequence[float],
    rewards_no_switch: Sequence[float],
    *,
    setup: str,
) -> Judgement:
    """The verdict: the two checks and the paired comparison (module docstring)."""
    n = len(switched_as_expected)
    ev: list[Evidence] = [
        check(
            "the machine proved the target theorem, the checker accepted the proof, and the "
            "machine switched to the expected rewrite, on every instance",
            passed=bool(n) and all(switched_as_expected),
            n=n,
            ours=float(sum(switched_as_expected)),
        ),
        check(
            "every target theorem acted on is true of the life (u_1 exact, u_0 an upper bound)",
            passed=bool(targets_true) and all(targets_true),
            n=len(targets_true),
            ours=float(sum(targets_true)),
        ),
        comparison(
            rewards_switch,
            rewards_no_switch,
            lower_is_better=False,
            paired=True,
            claim="a life with the proven switch earns more than the same machine without "
            "switching",
        ),
    ]
    return judge(ev, paper_setup=False, setup=setup, trials=n, required=n)


def _plot_rewards(recs: list[dict[str, Any]], path: Path, title: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    x = np.arange(len(recs))
    ax.plot(x, [r["reward_no_switch"] for r in recs], "o", label="no switch (sampled)")
    ax.plot(x, [r["reward_switch"] for r in recs], "s", label="proven switch (sampled)")
    ax.plot(
        x,
        [r["expected_oracle"] for r in recs],
        "_",
        ms=12,
        color="gray",
        label="best arm from cycle 0, no search (expected)",
    )
    ax.set_xlabel("instance")
    ax.set_ylabel("total reward of the life")
    ax.set_title(title)
    ax.legend(fontsize="small", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


def _plot_life(rec: dict[str, Any], cfg: GodelConfig, path: Path) -> str:
    from matplotlib.figure import Figure

    means = [Fraction(m) for m in rec["means"]]
    mu0 = float(Fraction(rec["mu_initial"]))
    r = cfg.c + cfg.share
    t = np.linspace(0, cfg.T, 400)
    no = mu0 * (np.floor((t - cfg.c) / r) + 1).clip(min=0)
    t1 = rec["switch_time"]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(t, no, label="no switch")
    if t1 is not None:
        arm = rec["switchprog"]["arm"]
        mu1 = mu0 if arm is None else float(means[arm])
        pre = mu0 * (np.floor((np.minimum(t, t1 - 1) - cfg.c) / r) + 1).clip(min=0)
        post = mu1 * np.floor((t - t1 - cfg.c_s) / cfg.c).clip(min=0)
        ax.plot(t, pre + post, label="proven switch")
        ax.axvline(t1, color="gray", ls=":", label=f"switch at cycle {t1}")
    ax.set_xlabel("cycle")
    ax.set_ylabel("expected reward so far")
    ax.set_title("instance 0: expected cumulative reward")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path.name


class _GodelBase(Experiment):
    """Shared loop of the two Gödel-machine experiments."""

    claim = CLAIM
    headline_metric = "mean reward gain of the proven switch per life (switch minus no switch)"
    tour = False
    searcher = False

    def config(self, scale: str) -> dict[str, Any]:
        """Instances, arms, life and hardware per scale."""
        share = 150 if self.searcher else 50
        base = {"c": 50, "c_s": 1, "share": share, "max_phase": 24}
        if scale == "smoke":
            return base | {"instances": 3, "arms": 3, "T": 100_000}
        if scale == "quick":
            return base | {"instances": 100, "arms": 5, "T": 1_000_000}
        return base | {"instances": 200, "arms": 6, "T": 2_000_000}

    def _instance(self, ctx: RunContext, cfg: GodelConfig, i: int) -> dict[str, Any]:
        c = ctx.config
        means = draw_means(ctx.rng("bandit", i), c["arms"])
        best = max(range(len(means)), key=lambda a: means[a])
        if self.searcher:
            policy = tuple(Fraction(int(a == best)) for a in range(c["arms"]))
            sps = searcher_switchprogs(c["share"])
            expected = Switchprog(arm=None, share=0)
        else:
            policy, sps = uniform_policy(c["arms"]), arm_switchprogs(c["arms"])
            expected = Switchprog(arm=best, share=0)
        run, rec = live_instance(
            cfg,
            means,
            policy,
            sps,
            ctx.rng("rewards", i, "switch"),
            ctx.rng("rewards", i, "no_switch"),
        )
        rec["as_expected"] = run.target is not None and run.target.switchprog == expected
        rec["proof"] = [line.to_dict() for line in run.record]
        return rec

    def run(self, ctx: RunContext) -> Outcome:
        """Live every instance, log every proof step, judge."""
        c = ctx.config
        cfg = GodelConfig(
            T=c["T"], c=c["c"], c_s=c["c_s"], share=c["share"], max_phase=c["max_phase"]
        )
        loaded = ctx.checkpointer.load()
        state: dict[str, Any] = {"recs": []} if loaded is None else loaded[1]
        recs: list[dict[str, Any]] = state["recs"]
        with ctx.progress(c["instances"], "instances") as task:
            task.advance(len(recs))
            for i in range(len(recs), c["instances"]):
                rec = self._instance(ctx, cfg, i)
                recs.append(rec)
                ctx.checkpointer.save({}, state)
                ctx.log(
                    f"instance {i}: means {rec['means']}, {rec['technique'] or 'no proof'}, "
                    f"switch at {rec['switch_time']} -> {rec['switchprog']}, reward "
                    f"{rec['reward_switch']} vs {rec['reward_no_switch']} without"
                )
                task.advance()
        with open(ctx.out_dir / "proof_steps.jsonl", "w", encoding="utf-8") as f:
            for i, rec in enumerate(recs):
                for k, line in enumerate(rec["proof"]):
                    f.write(
                        json.dumps(
                            {
                                "instance": i,
                                "step": k,
                                **line,
                                "checker": "accepted"
                                if rec["switched"]
                                else rec["rejected"] or "not acted on",
                            }
                        )
                        + "\n"
                    )
        gains = [r["reward_switch"] - r["reward_no_switch"] for r in recs]
        setup = (
            f"{c['instances']} Bernoulli bandits of {c['arms']} arms stated exactly by the axiom, "
            f"life {c['T']} cycles, pull {c['c']}, share {c['share']}, hand-made formal system"
        )
        judgement = godel_judgement(
            [bool(r["as_expected"]) for r in recs],
            [bool(r["target_true"]) for r in recs if r["switched"]],
            [float(r["reward_switch"]) for r in recs],
            [float(r["reward_no_switch"]) for r in recs],
            setup=setup,
        )
        search = [r["search_steps"] for r in recs]
        metrics: dict[str, Any] = {
            "instances": len(recs),
            "switched": sum(bool(r["switched"]) for r in recs),
            "as_expected": sum(bool(r["as_expected"]) for r in recs),
            "mean_gain": float(np.mean(gains)),
            "mean_reward_switch": float(np.mean([r["reward_switch"] for r in recs])),
            "mean_reward_no_switch": float(np.mean([r["reward_no_switch"] for r in recs])),
            "mean_expected_oracle": float(np.mean([r["expected_oracle"] for r in recs])),
            "search_steps": {
                "min": min(search),
                "max": max(search),
                "mean": float(np.mean(search)),
            },
            "proof_steps_file": "proof_steps.jsonl",
            "runs": [{k: v for k, v in r.items() if k != "proof"} for r in recs],
        }
        plots = [
            _plot_rewards(recs, ctx.out_dir / "rewards.png", self.name),
            _plot_life(recs[0], cfg, ctx.out_dir / "life.png"),
        ]
        notes = (
            f"{metrics['switched']} of {len(recs)} machines proved a target theorem and switched "
            f"({metrics['as_expected']} to the expected rewrite) after {min(search)} .. "
            f"{max(search)} searcher steps; mean reward {metrics['mean_reward_switch']:.1f} with "
            f"the switch vs {metrics['mean_reward_no_switch']:.1f} without (best arm from cycle 0 "
            f"without any search: {metrics['mean_expected_oracle']:.1f} expected). Hand-designed "
            "axioms and utility, no paper experiment to match, so at most partial."
        )
        return Outcome(
            headline=metrics["mean_gain"],
            metrics=metrics,
            verdict=judgement,
            plots=plots,
            notes=notes,
        )


@register
class GodelMachineExperiment(_GodelBase):
    """A Gödel machine proves that replacing its random policy by the best arm pays, and does."""

    name = "selfmod.godel_machine"
    system = "Gödel machine (Schmidhuber 2003-2009): policy rewrite"


@register
class GodelSearcherExperiment(_GodelBase):
    """A Gödel machine proves that its own proof search cannot pay any more and stops it."""

    name = "selfmod.godel_searcher"
    system = "Gödel machine (Schmidhuber 2003-2009): proof-searcher rewrite"
    searcher = True
