"""rnnai.evolution.runs: success tests, budgets, plans, and exact resume after a kill."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from rnnai.evolution import (
    CoSyNE,
    CoSyNEConfig,
    LocalEvaluator,
    PlannedRun,
    Problem,
    RunOutcome,
    Searcher,
    best_passes,
    evolve,
    evolve_runs,
    first_reaching,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.train.hooks import SilentHooks

FP = {"experiment": "evolution.loop_test", "scale": "smoke", "seed": 1}


class Sphere(Problem):
    dim = 3
    target_fitness: float | None = -0.05

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        return -np.sum(genomes**2, axis=1)


class NoTarget(Sphere):
    target_fitness = None

    def solved(self, genome: np.ndarray) -> bool:
        return float(np.sum(genome**2)) <= 0.05


class CountingCache:
    """A stateful evaluator: counts the genomes it was given (state saved in checkpoints)."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, problem: Problem, genomes: np.ndarray) -> np.ndarray:
        self.seen += len(genomes)
        return LocalEvaluator()(problem, genomes)

    def state_dict(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])


def _searcher(seed: int) -> Searcher:
    return CoSyNE(3, CoSyNEConfig(population=8, init_range=3.0), rng=np.random.default_rng(seed))


def _plan() -> list[PlannedRun]:
    return [
        PlannedRun(key={"run": 0}, problem=Sphere(), searcher=lambda: _searcher(0)),
        PlannedRun(
            key={"run": 1},
            problem=NoTarget(),
            searcher=lambda: _searcher(1),
            until=best_passes(NoTarget()),
        ),
        PlannedRun(key={"run": 2}, problem=NoTarget(), searcher=lambda: _searcher(2)),
    ]


def _run_plan(folder: Path, kill_after: int | None = None) -> tuple[list[dict], int]:
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = KillingCheckpointer(folder / "checkpoint.safetensors", FP, kill_after)
    cache = CountingCache()
    out = evolve_runs(
        _plan(), cache, max_evaluations=400, hooks=SilentHooks(checkpointer=ckpt), history=True
    )
    return [o.to_dict() for o in out], cache.seen


def test_first_reaching_counts_evaluations_up_to_the_first_hit() -> None:
    fake: Any = SimpleNamespace(
        last_fitness=np.array([0.1, 2.0, 3.0]), last_genomes=np.arange(6.0).reshape(3, 2)
    )
    evals, genome = first_reaching(1.0)(40, fake)
    assert evals == 42
    np.testing.assert_array_equal(genome, [2.0, 3.0])
    assert first_reaching(5.0)(40, fake) is None


def test_best_passes_counts_the_whole_generation() -> None:
    fake: Any = SimpleNamespace(
        last_fitness=np.array([-3.0, -0.01, -1.0]),
        last_genomes=np.array([[1.0, 1.0, 1.0], [0.1, 0, 0], [1.0, 0, 0]]),
        evaluations=63,
    )
    evals, genome = best_passes(NoTarget())(60, fake)
    assert evals == 63
    np.testing.assert_array_equal(genome, [0.1, 0, 0])
    fake.last_genomes = np.array([[1.0, 1.0, 1.0], [0.5, 0, 0], [1.0, 0, 0]])
    assert best_passes(NoTarget())(60, fake) is None


def test_evolve_solves_and_reports_the_solving_genome() -> None:
    out = evolve(_searcher(0), Sphere(), max_evaluations=2_000)
    assert out.solved and out.evaluations <= 2_000
    assert Sphere().evaluate(out.genome[None, :])[0] >= -0.05
    best = [c[1] for c in out.curve]
    assert out.curve[0][0] == 8 and best == sorted(set(best))  # strictly improving points
    assert out.history == []


def test_without_target_a_run_spends_its_whole_generation_budget() -> None:
    out = evolve(_searcher(0), NoTarget(), max_generations=7, history=True)
    assert not out.solved and out.generations == 7 and out.evaluations == 56
    assert [h[0] for h in out.history] == [8 * g for g in range(1, 8)]
    assert out.history[-1][1] == out.best_fitness
    both = evolve(_searcher(0), NoTarget(), max_generations=7, max_evaluations=20)
    assert both.generations == 3  # whichever budget ends first


def test_budget_and_plan_errors_are_one_line() -> None:
    with pytest.raises(RnnaiError, match="budget"):
        evolve(_searcher(0), Sphere())
    with pytest.raises(RnnaiError, match="max_evaluations"):
        evolve(_searcher(0), Sphere(), max_evaluations=0)
    run = PlannedRun(key={"run": 0}, problem=Sphere(), searcher=lambda: _searcher(0))
    with pytest.raises(RnnaiError, match="distinct"):
        evolve_runs([run, run], max_evaluations=10)
    with pytest.raises(RnnaiError, match="Problem"):
        PlannedRun(key={}, problem="sphere", searcher=lambda: _searcher(0))  # type: ignore[arg-type]


def test_outcome_round_trips_through_its_dict() -> None:
    out = evolve(_searcher(3), Sphere(), max_evaluations=200, history=True)
    again = RunOutcome.from_dict(out.to_dict())
    assert again.to_dict() == out.to_dict()
    with pytest.raises(RnnaiError, match="RunOutcome"):
        RunOutcome.from_dict({"key": {}})


def test_plan_results_do_not_depend_on_the_evaluator_or_hooks() -> None:
    silent = evolve_runs(_plan(), max_evaluations=400)
    counted = evolve_runs(_plan(), CountingCache(), max_evaluations=400, hooks=SilentHooks())
    assert [o.to_dict() for o in silent] == [o.to_dict() for o in counted]
    assert [o.key for o in silent] == [{"run": 0}, {"run": 1}, {"run": 2}]
    assert silent[0].solved and not silent[2].solved  # run 2 has no success test


def test_every_kill_point_resumes_to_the_uninterrupted_plan(tmp_path: Path) -> None:
    counter = KillingCheckpointer(tmp_path / "count" / "c.safetensors", FP, None)
    (tmp_path / "count").mkdir()
    evolve_runs(_plan(), max_evaluations=400, hooks=SilentHooks(checkpointer=counter))
    reference = _run_plan(tmp_path / "ref")
    assert counter.saves > 10
    # a kill after the first save, inside each run, at a run's end, and after the last save
    for kill_after in sorted({1, 2, counter.saves // 2, counter.saves - 1, counter.saves}):
        folder = tmp_path / f"kill{kill_after}"
        with pytest.raises(Killed):
            _run_plan(folder, kill_after)
        assert _run_plan(folder) == reference, kill_after


def test_a_checkpoint_of_another_plan_is_refused(tmp_path: Path) -> None:
    _run_plan(tmp_path)
    ckpt = KillingCheckpointer(tmp_path / "checkpoint.safetensors", FP, None)
    other = [PlannedRun(key={"run": 9}, problem=Sphere(), searcher=lambda: _searcher(0))]
    with pytest.raises(RnnaiError, match="plan"):
        evolve_runs(other, max_evaluations=400, hooks=SilentHooks(checkpointer=ckpt))


class RecordingHooks:
    """Hooks that remember what the loop reported."""

    checkpointer = None

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.advanced = 0.0
        self.totals: list[float | None] = []

    def progress(self, total: int | float | None, description: str) -> Any:
        from contextlib import nullcontext

        self.totals.append(total)
        hooks = self

        class Bar:
            def advance(self, n: int | float = 1) -> None:
                hooks.advanced += n

            def update(self, description: str | None = None, **fields: Any) -> None:
                pass

        return nullcontext(Bar())

    def log(self, message: str) -> None:
        self.lines.append(message)


def test_the_loop_reports_progress_and_one_line_per_run_through_its_hooks() -> None:
    hooks = RecordingHooks()
    evolve_runs(_plan(), max_evaluations=400, hooks=hooks)
    assert hooks.totals == [3 * 400] and hooks.advanced == 3 * 400  # a solved run fills its share
    assert len(hooks.lines) == 3
    assert hooks.lines[0].startswith("run 0: solved after")
    assert hooks.lines[2].startswith("run 2: not solved in 400 evaluations")
