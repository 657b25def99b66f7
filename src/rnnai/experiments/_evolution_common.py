"""The run loop the evolution reproductions share: evolve until solved, checkpoint each generation.

Each evolution experiment runs a plan of independent runs (algorithm or coding or controller x
run index). A run steps its `rnnai.evolution.core.Searcher` until a genome passes the task's
success test or the evaluation budget is spent; after every unsolved generation the checkpoint
holds the finished runs and the current run's searcher state (its generator included) and
best-so-far curve, so a run killed at any moment and resumed with ``--resume`` ends with the same
results as an uninterrupted one. The experiments differ only in how a run is named (its ``key``)
and in the success test (``check``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnai.evolution.core import Evaluator, Problem, Searcher
from rnnai.experiments.base import RunContext
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.progress import TaskHandle

__all__ = ["Check", "evolve", "first_reaching", "load_runs", "restore_run"]

Check = Callable[[int, Searcher], "tuple[int, np.ndarray] | None"]
"""A success test on the generation just told: ``check(evaluations_before, searcher)`` returns
(evaluations at success, the solving genome) or None."""


def first_reaching(target: float) -> Check:
    """The test "some genome of the generation reaches ``target`` fitness".

    The evaluations at success count the generation's genomes up to and including the first that
    reaches the target.
    """

    def check(before: int, searcher: Searcher) -> tuple[int, np.ndarray] | None:
        hit = np.flatnonzero(searcher.last_fitness >= target)
        if not hit.size:
            return None
        k = int(hit[0])
        return before + k + 1, searcher.last_genomes[k]

    return check


def load_runs(ctx: RunContext) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict]:
    """The finished runs, the interrupted run's state (or None) and the checkpoint's tensors."""
    loaded = ctx.checkpointer.load()
    if loaded is None:
        return [], None, {}
    tensors, saved = loaded
    return saved["results"], saved.get("current"), tensors


def restore_run(
    current: dict[str, Any] | None,
    key: dict[str, Any],
    searcher: Searcher,
    tensors: dict,
) -> list[list[float]]:
    """Resume ``searcher`` from the interrupted run if it is the run ``key``; return its curve."""
    if current is None or any(current.get(k) != v for k, v in key.items()):
        return []
    searcher.load_state_dict(unpack_state(current["searcher"], tensors))
    return current["curve"]


def evolve(
    ctx: RunContext,
    searcher: Searcher,
    problem: Problem,
    evaluator: Evaluator,
    budget: int,
    check: Check,
    *,
    results: list[dict[str, Any]],
    key: dict[str, Any],
    curve: list[list[float]],
    bar: TaskHandle,
) -> tuple[int | None, np.ndarray]:
    """Step ``searcher`` until ``check`` succeeds or ``budget`` evaluations are spent.

    Args:
        ctx: The run context (its checkpointer is written after every unsolved generation).
        searcher: The searcher, fresh or restored by `restore_run`.
        problem: What to evaluate.
        evaluator: Where to evaluate (``ctx.evaluator()``).
        budget: The most evaluations of the run.
        check: The success test (`first_reaching` or the experiment's own).
        results: The finished runs (saved with each checkpoint).
        key: The run's name fields, saved with its state (``{"algorithm": a, "run": r}``).
        curve: The run's [[evaluations, best fitness so far]] (extended in place).
        bar: Progress, advanced by the evaluations used.

    Returns:
        (evaluations at success or None, the solving genome or the best one found).
    """
    while searcher.evaluations < budget:
        before = searcher.evaluations
        searcher.step(problem, evaluator)
        bar.advance(searcher.evaluations - before)
        if not curve or searcher.best_fitness > curve[-1][1]:
            curve.append([searcher.evaluations, float(searcher.best_fitness)])
        solved = check(before, searcher)
        if solved is not None:
            return solved
        packed, skeleton = pack_state(searcher.state_dict())
        current = {**key, "searcher": skeleton, "curve": curve}
        ctx.checkpointer.save(packed, {"results": results, "current": current})
    return None, searcher.best_genome
