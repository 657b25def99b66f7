"""The shared evolution run loop: success tests, resume by run key, checkpoint per generation."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rnnai.evolution import CoSyNE, CoSyNEConfig, LocalEvaluator
from rnnai.evolution.core import Problem
from rnnai.experiments._evolution_common import evolve, first_reaching, load_runs, restore_run
from rnnai.experiments.base import RunContext
from rnnai.runtime.testing import Killed, KillingCheckpointer


class Sphere(Problem):
    dim = 3
    target_fitness = -0.05

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        return -np.sum(genomes**2, axis=1)


class _Bar:
    def advance(self, n: int = 1) -> None:
        pass


def test_first_reaching_counts_evaluations_up_to_the_first_hit() -> None:
    fake = SimpleNamespace(
        last_fitness=np.array([0.1, 2.0, 3.0]), last_genomes=np.arange(6.0).reshape(3, 2)
    )
    evals, genome = first_reaching(1.0)(40, fake)
    assert evals == 42
    np.testing.assert_array_equal(genome, [2.0, 3.0])
    assert first_reaching(5.0)(40, fake) is None


def test_restore_run_ignores_another_runs_state() -> None:
    searcher = CoSyNE(3, CoSyNEConfig(population=8), np.random.default_rng(0))
    current = {"algorithm": "esp", "run": 0, "searcher": {}, "curve": [[1, 2.0]]}
    assert restore_run(current, {"algorithm": "cosyne", "run": 0}, searcher, {}) == []
    assert restore_run(None, {"run": 0}, searcher, {}) == []


def _run(folder: Path, checkpointer: KillingCheckpointer | None = None) -> tuple:
    folder.mkdir(parents=True, exist_ok=True)
    ctx = RunContext("evolution.loop_test", "smoke", 1, folder, {}, checkpointer=checkpointer)
    results, current, tensors = load_runs(ctx)
    searcher = CoSyNE(3, CoSyNEConfig(population=8, init_range=3.0), ctx.rng("s"))
    key = {"run": 0}
    curve = restore_run(current, key, searcher, tensors)
    problem = Sphere()
    solved_at, genome = evolve(
        ctx,
        searcher,
        problem,
        LocalEvaluator(),
        400,
        first_reaching(problem.target_fitness),
        results=results,
        key=key,
        curve=curve,
        bar=_Bar(),
    )
    return solved_at, genome.tolist(), curve


@pytest.mark.parametrize("kill_after", [1, 3])
def test_evolve_resumes_after_a_kill_to_the_same_run(tmp_path: Path, kill_after: int) -> None:
    reference = _run(tmp_path / "ref")
    assert reference[0] is not None and reference[0] <= 400
    fp = {"experiment": "evolution.loop_test", "scale": "smoke", "seed": 1}
    killer = KillingCheckpointer(tmp_path / "run" / "checkpoint.safetensors", fp, kill_after)
    with pytest.raises(Killed):
        _run(tmp_path / "run", killer)
    assert _run(tmp_path / "run") == reference
