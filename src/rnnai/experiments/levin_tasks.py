"""`levin.counting`, `levin.adding`: Levin search finds perceptron weights that generalize.

Paper: J. Schmidhuber, "Discovering neural nets with low Kolmogorov complexity and high
generalization capability", Neural Networks 10(5):857-873, 1997 (first version: "Discovering
solutions with low Kolmogorov complexity and high generalization capability", ICML 1995). A
perceptron with 100 inputs and integer weights in +-10000 must output the number of on-bits
(counting) or the sum of their positions (adding) for inputs with exactly three bits on; only 3
training examples are given, and the weights found are tested on the other 161,697 inputs. The
weights are the outputs of a program in the paper's self-sizing assembly-like language
(`rnnai.search.levin_language`), found by search in order of Levin complexity
(`rnnai.search.levin`); the task definitions are in `rnnai.search.levin_tasks`.

Paper's numbers (adding, probabilistic search): programs fitting the training data in 10 of 5.5e7
runs (8.14e8 steps in total), 8 of them generalizing perfectly; the first after 6,902,963 runs,
generalizing perfectly. For counting only the task and the qualitative claim (perfect
generalization where gradient-based perceptron learning cannot generalize) were available to us;
its search counts are not compared.

Deviations: systematic Levin search (phases of total time ``2**i``, depth first, deterministic)
instead of the paper's random runs, so "programs tested" is our analogue of its "runs"; the
language details the available text leaves open are our assumptions (listed in
`rnnai.search.levin_language`). The search stops after ``solutions`` distinct programs fit the
training data (the paper collected 10 fits for adding).

Scales: smoke runs phases up to 22 (counting is solved at phase 19; adding is not reachable at
this budget, so its smoke verdict is ``not_reproduced``: the smoke run checks the machinery);
quick collects 10 (counting) / 2 (adding, phase 33, about a minute) fits; paper collects 10 fits
for both, up to phase 40.

Verdict (`rnnai.runtime.verdict.judge`, computed by `judgement` from the metrics). The search is
deterministic: one run is one trial, and each claim is an exact fact, checked
(`rnnai.runtime.verdict.check`) on the cases behind it:

* the first program fitting the 3 training examples gets every one of the 161,697 unseen inputs
  right (n = the unseen inputs);
* at least 80% of the fitting programs found generalize perfectly (the paper's 8 of 10 for
  adding; n = the fits found);
* adding only: the first fit is found after at most the paper's 6,902,963 programs (its random
  runs; our systematic search's programs tested are the analogue).

Systematic instead of random search, and our reading of the language where the text is silent,
are not the paper's setup, so the verdict is at most ``partial`` at every scale;
``not_reproduced`` when no check passes (e.g. no fit within the smoke budget).

Examples:
    >>> j = judgement({"fits": [], "first_fit": None}, kind="counting", test_inputs=161_697)
    >>> j.verdict, [e.n for e in j.evidence]
    ('not_reproduced', [161697, 0])
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

import numpy as np

from rnnai.experiments.base import Experiment, Outcome, PaperClaim, RunContext, register
from rnnai.runtime.verdict import Judgement, check, judge, required_trials
from rnnai.search.levin import (
    STATUS_NAMES,
    LevinConfig,
    LevinResult,
    SearchState,
    levin_search,
)
from rnnai.search.levin_language import Language1997, Language1997Config
from rnnai.search.levin_tasks import PAPER_ADDING, PerceptronConfig, PerceptronTask

GENERALIZING_FRACTION = 0.8
"""Verdict threshold: the paper's 8 of 10 fitting programs that generalized (adding task)."""

LANGUAGE = Language1997Config(maxint=10_000, max_work=100, max_prog=64)

SETUP = (
    "systematic Levin search (the paper: random runs); the language's unstated details are our "
    "reading"
)
"""How our setup differs from the paper's (why the verdict is at most partial)."""


def judgement(metrics: dict[str, Any], *, kind: str, test_inputs: int) -> Judgement:
    """The verdict of the module docstring, from a run's metrics.

    Args:
        metrics: The run's metrics (``fits``: one dict per fit with ``generalizes``,
            ``test_right``; ``first_fit``: the first of them or None).
        kind: ``"counting"`` or ``"adding"`` (adding adds the paper's search count).
        test_inputs: The number of unseen test inputs (161,697 in the paper's setting).

    Returns:
        The judgement.
    """
    fits = metrics["fits"]
    first = metrics["first_fit"]
    perfect = sum(bool(f["generalizes"]) for f in fits)
    evidence = [
        check(
            f"the first program fitting the training examples gets all {test_inputs:,} unseen "
            "inputs right",
            first is not None and bool(first["generalizes"]),
            n=test_inputs,
            test="exact evaluation on every unseen input",
            ours=None if first is None else first["test_right"],
            paper=test_inputs,
        ),
        check(
            f"at least {GENERALIZING_FRACTION:.0%} of the fitting programs found generalize "
            "perfectly (paper, adding: 8 of 10)",
            bool(fits) and perfect >= GENERALIZING_FRACTION * len(fits),
            n=len(fits),
            test="exact evaluation of every fit on every unseen input",
            ours=perfect / len(fits) if fits else None,
            paper=GENERALIZING_FRACTION,
        ),
    ]
    if kind == "adding":
        runs = PAPER_ADDING["first_fit_after_runs"]
        evidence.append(
            check(
                f"the first fit found after at most the paper's {runs:,} programs (random runs)",
                first is not None and first["programs_tested_until_found"] <= runs,
                n=1,
                test="count (deterministic search)",
                ours=None if first is None else first["programs_tested_until_found"],
                paper=runs,
            )
        )
    return judge(
        evidence,
        paper_setup=False,
        setup=SETUP,
        trials=1,
        required=required_trials(1, statistical=False),
    )


def _plot_search(result: LevinResult, path: Any, title: str, paper: dict[str, Any] | None) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    phases = [p.phase for p in result.phases]
    cum_prog = np.cumsum([p.programs for p in result.phases])
    cum_steps = np.cumsum([p.steps for p in result.phases])
    ax.semilogy(phases, cum_prog, "o-", label="programs tested (cumulative)")
    ax.semilogy(phases, cum_steps, "s-", label="interpreter steps (cumulative)")
    ax.semilogy(phases, [2.0**i for i in phases], ":", color="grey", label="phase time 2^i")
    for k, s in enumerate(result.solutions):
        ax.axvline(s.phase, color="green", alpha=0.3, lw=1, label="fit found" if k == 0 else None)
    if paper:
        ax.axhline(
            paper["first_fit_after_runs"],
            color="C0",
            ls="--",
            lw=1,
            label="paper: runs to first fit",
        )
        ax.axhline(
            paper["total_steps"], color="C1", ls="--", lw=1, label="paper: steps for 10 fits"
        )
    ax.set_xlabel("phase i (total time 2^i)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.91)
    fig.savefig(path, dpi=100)


def _plot_weights(task: PerceptronTask, output: tuple[int, ...], path: Any, title: str) -> None:
    from matplotlib.figure import Figure

    n = task.config.n_inputs
    w = np.zeros(n, dtype=np.int64)
    w[: min(len(output), n)] = output[:n]
    fig = Figure(figsize=(7, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(np.arange(n), task.solution(), color="grey", lw=3, alpha=0.5, label="the solution")
    ax.plot(np.arange(n), w, ".", color="C3", label="weights of the first program found")
    for pos in task.config.train_positions:
        ax.plot(list(pos), w[list(pos)], "kx", ms=7)
    ax.set_xlabel("input unit i (x: on-bits of the 3 training inputs)")
    ax.set_ylabel("w_i")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.17, top=0.89)
    fig.savefig(path, dpi=100)


class _PerceptronSearch(Experiment):
    """Shared run: Levin search for the perceptron task ``kind``, judged on the test inputs."""

    kind: ClassVar[str]
    solutions: ClassVar[dict[str, int]]
    max_phase: ClassVar[dict[str, int]]
    paper: ClassVar[dict[str, Any] | None] = None

    def config(self, scale: str) -> dict[str, Any]:
        """Language limits, task and search budget at a scale."""
        return {
            "task": {
                "kind": self.kind,
                "n_inputs": 100,
                "train_positions": [list(p) for p in PerceptronConfig().train_positions],
            },
            "language": asdict(LANGUAGE),
            "search": {
                "min_phase": 0,
                "max_phase": self.max_phase[scale],
                "solutions": self.solutions[scale],
                "chunk_programs": 20_000 if scale == "smoke" else 2_000_000,
            },
        }

    def run(self, ctx: RunContext) -> Outcome:
        """Search, checkpointing after every chunk; judge every fit on the test inputs."""
        cfg = ctx.config
        task = PerceptronTask(
            PerceptronConfig(
                kind=cfg["task"]["kind"],
                n_inputs=cfg["task"]["n_inputs"],
                train_positions=tuple(tuple(p) for p in cfg["task"]["train_positions"]),
            )
        )
        language = Language1997(Language1997Config(**cfg["language"]))
        search = LevinConfig(**cfg["search"])
        loaded = ctx.checkpointer.load()
        state = SearchState.from_dict(loaded[1]["search"]) if loaded else None
        if state is not None:
            ctx.log(f"resuming at phase {state.phase} after {state.programs:,} programs")
        n_phases = search.max_phase - search.min_phase + 1
        with ctx.progress(n_phases, "Levin search phases") as bar:
            if state is not None:
                bar.advance(state.phase - search.min_phase)
            seen = {"phase": state.phase if state else search.min_phase}

            def on_chunk(s: SearchState) -> None:
                ctx.checkpointer.save({}, {"search": s.to_dict()})
                bar.advance(s.phase - seen["phase"])
                seen["phase"] = s.phase
                shown = s.phases[-1].phase if s.done and s.phases else s.phase
                bar.update(status=f"phase {shown} programs {s.programs:,} fits {len(s.solutions)}")

            result = levin_search(language, task, search, state, on_chunk)
        return self._outcome(ctx, task, language, result)

    def _outcome(
        self, ctx: RunContext, task: PerceptronTask, language: Language1997, result: LevinResult
    ) -> Outcome:
        fits: list[dict[str, Any]] = []
        for s in result.solutions:
            g = task.generalization(s.output)
            fits.append(
                {
                    "program": list(s.program),
                    "listing": language.describe(s.program),
                    "phase": s.phase,
                    "programs_tested_until_found": s.programs,
                    "search_steps_until_found": s.total_steps,
                    "program_steps": s.steps,
                    "log2_probability": round(s.log2_probability, 4),
                    "levin_complexity_bits": round(s.levin_complexity, 4),
                    "test_right": g.right,
                    "test_total": g.total,
                    "generalizes": g.perfect,
                }
            )
        perfect = sum(f["generalizes"] for f in fits)
        first = fits[0] if fits else None
        status_total: dict[str, int] = {}
        for p in result.phases:
            for k, n in p.status_counts.items():
                status_total[k] = status_total.get(k, 0) + n
        metrics = {
            "fits_found": len(fits),
            "fits_generalizing": perfect,
            "first_fit": first,
            "fits": fits,
            "programs_tested": result.programs,
            "search_steps": result.steps,
            "last_phase": result.phases[-1].phase if result.phases else None,
            "exhausted": result.exhausted,
            "phases": [
                {"phase": p.phase, "programs": p.programs, "steps": p.steps, "complete": p.complete}
                for p in result.phases
            ],
            "finished_programs_by_status": dict(sorted(status_total.items())),
            "status_codes": {v: k for k, v in STATUS_NAMES.items()},
            "paper": self.paper,
        }
        if first:
            note = (
                f"First program fitting the 3 training examples: `{first['listing']}` "
                f"(phase {first['phase']}, P = 2^{first['log2_probability']:.1f}, "
                f"{first['program_steps']} steps), found after "
                f"{first['programs_tested_until_found']:,} programs / "
                f"{first['search_steps_until_found']:,} steps of search; it gets "
                f"{first['test_right']:,} of {first['test_total']:,} unseen inputs right. "
                f"{perfect} of {len(fits)} fits generalize perfectly."
            )
        else:
            last = result.phases[-1].phase if result.phases else None
            note = (
                f"No program fits the training data up to phase {last} "
                f"({result.programs:,} programs, {result.steps:,} steps)."
            )
        if self.paper:
            note += (
                f" Paper (random runs): first fit after {self.paper['first_fit_after_runs']:,} "
                f"runs; 10 fits in {self.paper['runs']:.2g} runs / {self.paper['total_steps']:.3g}"
                f" steps, {self.paper['fitting_that_generalize']} of 10 generalizing."
            )
        plots = []
        if result.phases:
            _plot_search(
                result,
                ctx.out_dir / "search.png",
                f"Levin search, {self.kind} perceptron",
                self.paper,
            )
            plots.append("search.png")
        if result.solutions:
            _plot_weights(
                task,
                result.solutions[0].output,
                ctx.out_dir / "weights.png",
                f"{self.kind}: weights written by the first program found",
            )
            plots.append("weights.png")
        headline = first["test_right"] if first else None
        verdict = judgement(metrics, kind=self.kind, test_inputs=task.generalization(()).total)
        return Outcome(headline=headline, metrics=metrics, verdict=verdict, plots=plots, notes=note)


@register
class CountingExperiment(_PerceptronSearch):
    """Levin search finds the counting perceptron (w_i = 1) from 3 examples; test on 161,697."""

    name = "levin.counting"
    system = "Levin search (Schmidhuber 1995/97)"
    claim = PaperClaim(
        citation="Schmidhuber 1997 (Neural Networks 10(5)), counting inputs; ICML 1995 Task 1",
        metric="unseen test inputs right (of 161,697) for the first program fitting 3 examples",
        value=161_697,
        lower_is_better=False,
        note="perfect generalization is the paper's qualitative claim; its search counts for "
        "this task were not available to us (unverified)",
    )
    headline_metric = "unseen test inputs right (of 161,697), first program found"
    tour = True
    kind = "counting"
    solutions: ClassVar[dict[str, int]] = {"smoke": 3, "quick": 10, "paper": 10}
    max_phase: ClassVar[dict[str, int]] = {"smoke": 22, "quick": 30, "paper": 40}


@register
class AddingExperiment(_PerceptronSearch):
    """Levin search finds the adding perceptron (w_i = i) from 3 examples; test on 161,697."""

    name = "levin.adding"
    system = "Levin search (Schmidhuber 1995/97)"
    claim = PaperClaim(
        citation="Schmidhuber 1997 (Neural Networks 10(5)), adding input positions",
        metric="unseen test inputs right (of 161,697) for the first program fitting 3 examples",
        value=161_697,
        lower_is_better=False,
        note="paper: first fit after 6,902,963 random runs; 8 of 10 fits generalize perfectly",
    )
    headline_metric = "unseen test inputs right (of 161,697), first program found"
    tour = False  # quick scale is about a minute of search: kept out of the default tour
    kind = "adding"
    paper = PAPER_ADDING
    solutions: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 10}
    max_phase: ClassVar[dict[str, int]] = {"smoke": 22, "quick": 34, "paper": 40}
