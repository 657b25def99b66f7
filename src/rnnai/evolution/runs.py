"""The evolution run loop: evolve until solved or out of budget, checkpoint every generation.

`evolve` steps one `rnnai.evolution.core.Searcher` on a `rnnai.evolution.core.Problem` until a
success test passes (`first_reaching`, `best_passes`, or one of your own) or a budget of
evaluations or generations is spent. `evolve_runs` does the same for a plan of independent runs
(`PlannedRun`: algorithm or coding x run index), one after the other; `evolve` is a plan of one
run. Both take a `rnnai.train.hooks.Hooks` (``hooks.checkpointer``, ``hooks.progress``,
``hooks.log``; the runner's ``RunContext`` is one, `rnnai.train.hooks.SilentHooks` the default)
and an `rnnai.evolution.core.Evaluator` (`LocalEvaluator` by default; the Ray evaluator of
``rnnai.evolution.distributed`` gives the same numbers).

Checkpoints. With a checkpointer, the loop saves after every generation that did not solve: the
finished runs (`RunOutcome.to_dict`), the current run's key, searcher state (its generator
included), curve and history, and the state of the evaluator if it has one (`StatefulEvaluator`,
e.g. a cache of fitness values). A loop started again with the same plan loads that checkpoint,
skips the finished runs, restores the interrupted one and ends with exactly the results of an
uninterrupted run. Without a checkpointer nothing is saved or loaded.

Counting. ``RunOutcome.evaluations`` is the number of evaluations at success, counted by the
success test (`first_reaching` counts the generation's genomes up to the first that reaches the
target; `best_passes` counts the whole generation), or every evaluation spent when the run did
not solve.

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import CoSyNE, CoSyNEConfig, Problem, evolve
    >>> class Sphere(Problem):
    ...     dim = 3
    ...     target_fitness = -0.05          # solved when sum(x ** 2) <= 0.05
    ...     def evaluate(self, genomes):
    ...         return -np.sum(genomes ** 2, axis=1)
    >>> searcher = CoSyNE(3, CoSyNEConfig(population=8), rng=np.random.default_rng(1))
    >>> out = evolve(searcher, Sphere(), max_evaluations=2_000)
    >>> out.solved, out.evaluations <= 2_000, float(np.sum(out.genome ** 2)) <= 0.05
    (True, True, True)

    A plan of runs, checkpointed (kill it at any moment; the same call resumes it):

    >>> import tempfile, pathlib
    >>> from rnnai.evolution import PlannedRun, evolve_runs
    >>> from rnnai.runtime.checkpoint import Checkpointer
    >>> from rnnai.train.hooks import SilentHooks
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> hooks = SilentHooks(checkpointer=Checkpointer(folder / "ckpt.safetensors", {"run": "demo"}))
    >>> plan = [
    ...     PlannedRun(key={"run": r}, problem=Sphere(),
    ...                searcher=lambda r=r: CoSyNE(3, rng=np.random.default_rng(r)))
    ...     for r in range(2)
    ... ]
    >>> [o.key["run"] for o in evolve_runs(plan, max_evaluations=2_000, hooks=hooks)]
    [0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rnnai.evolution.core import Evaluator, LocalEvaluator, Problem, Searcher
from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.runtime.errors import RnnaiError
from rnnai.train.hooks import Hooks, SilentHooks

__all__ = [
    "Check",
    "PlannedRun",
    "RunOutcome",
    "StatefulEvaluator",
    "best_passes",
    "evolve",
    "evolve_runs",
    "first_reaching",
]

Check = Callable[[int, Searcher], "tuple[int, np.ndarray] | None"]
"""A success test on the generation just told: ``check(evaluations_before, searcher)`` returns
(evaluations at success, the solving genome) or None. It reads ``searcher.last_genomes`` and
``searcher.last_fitness``."""


def first_reaching(target: float) -> Check:
    """The test "some genome of the generation reaches ``target`` fitness".

    The evaluations at success count the generation's genomes up to and including the first that
    reaches the target (the CoSyNE paper's count on the Markov pole tasks).

    Args:
        target: The fitness at or above which a genome solves the task.

    Returns:
        The success test.

    Examples:
        >>> from types import SimpleNamespace
        >>> gen = SimpleNamespace(last_fitness=np.array([0.1, 2.0, 3.0]),
        ...                       last_genomes=np.arange(6.0).reshape(3, 2))
        >>> evals, genome = first_reaching(1.0)(40, gen)
        >>> evals, genome.tolist()
        (42, [2.0, 3.0])
    """

    def check(before: int, searcher: Searcher) -> tuple[int, np.ndarray] | None:
        fitness, genomes = _last(searcher)
        hit = np.flatnonzero(fitness >= target)
        if not hit.size:
            return None
        k = int(hit[0])
        return before + k + 1, genomes[k]

    return check


def best_passes(problem: Problem) -> Check:
    """The test "the generation's fittest genome passes ``problem.solved``".

    For problems whose fitness does not decide success by itself (the damping fitness of the
    double pole without velocities: the best network is then tested for 100,000 steps). The
    evaluations at success are all of the generation's (the papers' count there).

    Args:
        problem: The problem whose `Problem.solved` is the test.

    Returns:
        The success test.
    """

    def check(before: int, searcher: Searcher) -> tuple[int, np.ndarray] | None:
        fitness, genomes = _last(searcher)
        genome = genomes[int(np.argmax(fitness))]
        return (searcher.evaluations, genome) if problem.solved(genome) else None

    return check


def _last(searcher: Searcher) -> tuple[np.ndarray, np.ndarray]:
    if searcher.last_fitness is None or searcher.last_genomes is None:
        raise RnnaiError(f"{searcher.name}: a success test needs a told generation, got none")
    return searcher.last_fitness, searcher.last_genomes


def _default_check(problem: Problem) -> Check | None:
    return None if problem.target_fitness is None else first_reaching(problem.target_fitness)


@runtime_checkable
class StatefulEvaluator(Evaluator, Protocol):
    """An evaluator with state that belongs in the checkpoint (e.g. a cache of fitness values).

    The loop saves ``state_dict()`` (JSON scalars, lists, dicts, numpy arrays) with every
    checkpoint and calls ``load_state_dict`` with it on resume.
    """

    def state_dict(self) -> dict[str, Any]:
        """The evaluator's state."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state returned by `state_dict`."""
        ...


@dataclass(frozen=True, kw_only=True)
class PlannedRun:
    """One run of a plan.

    Attributes:
        key: Names the run (JSON scalars, e.g. ``{"algorithm": "cosyne", "run": 0}``); a
            checkpoint is resumed only into the plan whose keys it holds.
        problem: What to evaluate.
        searcher: Builds the run's fresh searcher (called once, when the run starts; give it
            its own generator, e.g. ``ctx.rng(algorithm, run)``).
        until: The success test; None: `first_reaching` the problem's ``target_fitness``, or
            never when it has none (the run then spends its whole budget).
    """

    key: Mapping[str, Any]
    problem: Problem
    searcher: Callable[[], Searcher]
    until: Check | None = None

    def __post_init__(self) -> None:
        """Check the fields' types."""
        if not isinstance(self.key, Mapping):
            raise RnnaiError(f"PlannedRun.key must be a dict, got {type(self.key).__name__}")
        if not isinstance(self.problem, Problem):
            raise RnnaiError(
                f"PlannedRun.problem must be a Problem, got {type(self.problem).__name__}"
            )
        if not callable(self.searcher):
            raise RnnaiError(
                "PlannedRun.searcher must be a function returning a Searcher, got "
                f"{type(self.searcher).__name__}"
            )


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """The result of one run.

    Attributes:
        key: The run's `PlannedRun.key`.
        solved: Whether the success test passed within the budget.
        evaluations: Evaluations at success (as the test counts them), else all spent.
        generations: Generations run.
        best_fitness: The best fitness told during the run.
        genome: The solving genome, else the best one found ((dim,) float64).
        curve: ``[[evaluations, best fitness so far]]`` at every generation that improved it.
        history: With ``history=True``: ``[[evaluations, best so far, generation best,
            generation mean]]`` after every generation; else empty.
    """

    key: dict[str, Any]
    solved: bool
    evaluations: int
    generations: int
    best_fitness: float
    genome: np.ndarray
    curve: list[list[float]] = field(default_factory=list)
    history: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the genome as a list of floats), as stored in checkpoints."""
        return {
            "key": dict(self.key),
            "solved": self.solved,
            "evaluations": self.evaluations,
            "generations": self.generations,
            "best_fitness": self.best_fitness,
            "genome": [float(v) for v in self.genome],
            "curve": self.curve,
            "history": self.history,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunOutcome:
        """Rebuild a `to_dict` result.

        Raises:
            RnnaiError: If a field is missing.
        """
        try:
            return cls(
                key=dict(d["key"]),
                solved=bool(d["solved"]),
                evaluations=int(d["evaluations"]),
                generations=int(d["generations"]),
                best_fitness=float(d["best_fitness"]),
                genome=np.asarray(d["genome"], dtype=np.float64),
                curve=list(d["curve"]),
                history=list(d["history"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise RnnaiError(f"a saved run must have the fields of RunOutcome, got {d!r}") from err


def evolve(
    searcher: Searcher,
    problem: Problem,
    evaluator: Evaluator | None = None,
    *,
    max_evaluations: int | None = None,
    max_generations: int | None = None,
    until: Check | None = None,
    hooks: Hooks | None = None,
    history: bool = False,
) -> RunOutcome:
    """Step ``searcher`` until ``until`` passes or the budget is spent (a plan of one run).

    With ``hooks.checkpointer`` set, a checkpoint of this run is resumed into ``searcher``
    (which must then be built as the first time) and the run continues exactly.

    Args:
        searcher: The searcher, freshly built.
        problem: What to evaluate.
        evaluator: Where to evaluate (`LocalEvaluator` when None).
        max_evaluations: The most evaluations (at least one budget must be given).
        max_generations: The most generations.
        until: The success test (default: see `PlannedRun.until`).
        hooks: Checkpointer, progress and log (`SilentHooks` when None).
        history: Record every generation's statistics in `RunOutcome.history`.

    Returns:
        The run's outcome.
    """
    run = PlannedRun(key={}, problem=problem, searcher=lambda: searcher, until=until)
    return evolve_runs(
        [run],
        evaluator,
        max_evaluations=max_evaluations,
        max_generations=max_generations,
        hooks=hooks,
        history=history,
    )[0]


def evolve_runs(
    runs: Sequence[PlannedRun],
    evaluator: Evaluator | None = None,
    *,
    max_evaluations: int | None = None,
    max_generations: int | None = None,
    hooks: Hooks | None = None,
    history: bool = False,
    description: str = "evolution",
) -> list[RunOutcome]:
    """Run a plan of independent runs one after the other, checkpointing every generation.

    Each run steps its searcher until its success test passes or its budget (``max_evaluations``
    and/or ``max_generations``, whichever ends first) is spent. Progress counts evaluations (or
    generations when only ``max_generations`` is given); each finished run is logged in one line.

    Args:
        runs: The plan (keys must be distinct).
        evaluator: Where populations are evaluated (`LocalEvaluator` when None); when it is a
            `StatefulEvaluator` its state is checkpointed too.
        max_evaluations: The most evaluations per run.
        max_generations: The most generations per run.
        hooks: Checkpointer, progress and log (`SilentHooks` when None).
        history: Record every generation's statistics (`RunOutcome.history`).
        description: The progress bar's text.

    Returns:
        One `RunOutcome` per planned run, in plan order.

    Raises:
        RnnaiError: Without a budget, on a non-positive budget, on repeated keys, or when the
            checkpoint holds runs of another plan.
    """
    for name, value in (("max_evaluations", max_evaluations), ("max_generations", max_generations)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise RnnaiError(f"{name} must be an int >= 1 or None, got {value!r}")
    if max_evaluations is None and max_generations is None:
        raise RnnaiError("evolve needs a budget: max_evaluations or max_generations, got neither")
    keys = [dict(r.key) for r in runs]
    if len({repr(sorted(k.items())) for k in keys}) != len(keys):
        raise RnnaiError(f"the planned runs' keys must be distinct, got {keys}")
    hooks = hooks if hooks is not None else SilentHooks()
    evaluator = evaluator if evaluator is not None else LocalEvaluator()
    checkpointer = hooks.checkpointer
    by_evaluations = max_evaluations is not None
    budget = max_evaluations if by_evaluations else max_generations
    assert budget is not None

    done: list[RunOutcome] = []
    done_dicts: list[dict[str, Any]] = []  # their saved form, converted once
    current: dict[str, Any] | None = None
    tensors: dict[str, Any] = {}
    loaded = checkpointer.load() if checkpointer is not None else None
    if loaded is not None:
        tensors, saved = loaded
        done_dicts = list(saved.get("results", []))
        done = [RunOutcome.from_dict(d) for d in done_dicts]
        current = saved.get("current")
        if len(done) > len(runs) or any(o.key != k for o, k in zip(done, keys, strict=False)):
            raise RnnaiError(
                f"the checkpoint holds runs {[o.key for o in done]}, not of the plan {keys}"
            )
        if saved.get("evaluator") is not None and isinstance(evaluator, StatefulEvaluator):
            evaluator.load_state_dict(unpack_state(saved["evaluator"], tensors))

    def units(evaluations: int, generations: int) -> int:
        return min(evaluations if by_evaluations else generations, budget)

    def save(current_state: dict[str, Any] | None, packed: dict[str, Any]) -> None:
        if checkpointer is None:
            return
        state: dict[str, Any] = {"results": done_dicts, "current": current_state}
        if isinstance(evaluator, StatefulEvaluator):
            ev_packed, ev_skeleton = pack_state(evaluator.state_dict(), prefix="evaluator.")
            packed = packed | ev_packed
            state["evaluator"] = ev_skeleton
        checkpointer.save(packed, state)

    with hooks.progress(len(runs) * budget, f"{description}: {len(runs)} runs") as bar:
        bar.advance(sum(units(o.evaluations, o.generations) for o in done))
        for run, key in zip(runs[len(done) :], keys[len(done) :], strict=True):
            searcher = run.searcher()
            if not isinstance(searcher, Searcher):
                raise RnnaiError(
                    f"PlannedRun.searcher must return a Searcher, got {type(searcher).__name__}"
                )
            curve: list[list[float]] = []
            hist: list[list[float]] = []
            if current is not None and current.get("key") == key:
                searcher.load_state_dict(unpack_state(current["searcher"], tensors))
                curve, hist = current["curve"], current["history"]
            current = None
            bar.advance(units(searcher.evaluations, searcher.generation))
            check = run.until if run.until is not None else _default_check(run.problem)
            solved: tuple[int, np.ndarray] | None = None
            while (max_evaluations is None or searcher.evaluations < max_evaluations) and (
                max_generations is None or searcher.generation < max_generations
            ):
                before = searcher.evaluations, searcher.generation
                searcher.step(run.problem, evaluator)
                bar.advance(units(searcher.evaluations, searcher.generation) - units(*before))
                if not curve or searcher.best_fitness > curve[-1][1]:
                    curve.append([searcher.evaluations, float(searcher.best_fitness)])
                if history:
                    f = searcher.last_fitness
                    assert f is not None
                    hist.append(
                        [
                            searcher.evaluations,
                            float(searcher.best_fitness),
                            float(f.max()),
                            float(f.mean()),
                        ]
                    )
                bar.update(status=f"best {searcher.best_fitness:.4g}")
                solved = check(before[0], searcher) if check is not None else None
                if solved is not None:
                    break
                packed, skeleton = pack_state(searcher.state_dict())
                save({"key": key, "searcher": skeleton, "curve": curve, "history": hist}, packed)
            if solved is None and searcher.best_genome is None:
                raise RnnaiError(f"run {key}: the budget allowed no generation")
            genome = solved[1] if solved is not None else searcher.best_genome
            assert genome is not None
            outcome = RunOutcome(
                key=key,
                solved=solved is not None,
                evaluations=int(solved[0] if solved is not None else searcher.evaluations),
                generations=searcher.generation,
                best_fitness=float(searcher.best_fitness),
                genome=np.array(genome, dtype=np.float64),
                curve=curve,
                history=hist,
            )
            done.append(outcome)
            done_dicts.append(outcome.to_dict())
            bar.advance(budget - units(searcher.evaluations, searcher.generation))
            save(None, {})
            hooks.log(_describe(outcome))
    return done


def _describe(outcome: RunOutcome) -> str:
    name = ", ".join(f"{k} {v}" for k, v in outcome.key.items()) or "run"
    if outcome.solved:
        return f"{name}: solved after {outcome.evaluations:,} evaluations"
    best = outcome.best_fitness
    shown = f"{best:.4g}" if math.isfinite(best) else str(best)
    return f"{name}: not solved in {outcome.evaluations:,} evaluations, best fitness {shown}"
