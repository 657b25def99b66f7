"""`rnnai bench evolution`: well-formed rows (tiny sizes here) and a steady benchmark load."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest

import rnnai.bench.evolution as be
from rnnai.runtime.progress import Progress

requires_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'rnnai[distributed]')",
)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink every size of the benchmark so that it runs in a moment."""
    monkeypatch.setattr(be, "POPULATION", 20)
    monkeypatch.setattr(be, "BATCH_STEPS", 30)
    monkeypatch.setattr(be, "LOOP_STEPS", 30)
    monkeypatch.setattr(be, "POPULATION_SIZES", (4, 8, 16))
    monkeypatch.setattr(be, "QUICK_SIZES", 2)
    monkeypatch.setattr(be, "EPISODE_STEPS", 20)


def test_bench_evolution_row_is_a_rate_with_speedup(tiny, monkeypatch) -> None:
    monkeypatch.setattr(be, "POPULATION_SIZES", ())  # the env row only
    with Progress(quiet=True) as progress:
        (row,) = be.bench_evolution(quick=False, progress=progress)
    assert row.unit == "steps/s" and row.ours > 0 and row.anchor > 0
    assert abs(row.speedup - row.ours / row.anchor) < 1e-9


def test_bench_evolution_without_ray_measures_the_env_row_only(tiny, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with Progress(quiet=True) as progress:
        rows = be.bench_evolution(quick=True, progress=progress)
    assert [row.unit for row in rows] == ["steps/s"]


def test_lqr_policy_keeps_every_benchmark_episode_balanced() -> None:
    from rnnai.envs.control import lqr_batch_policy
    from rnnai.envs.fitness import run_batch
    from rnnai.envs.pole import DOUBLE_POLE, DOUBLE_POLE_NONMARKOV, initial_state

    starts = np.tile(initial_state(DOUBLE_POLE), (5, 1))
    result = run_batch(lqr_batch_policy(DOUBLE_POLE), DOUBLE_POLE, starts, 500)
    assert (result.steps == 500).all()  # the rate counts P x steps of real stepping
    with pytest.raises(ValueError, match="Markov"):
        lqr_batch_policy(DOUBLE_POLE_NONMARKOV)


def test_bench_population_balances_every_episode_so_the_load_is_steady() -> None:
    problem = be.bench_problem(be.EPISODE_STEPS)
    genomes = be.bench_population(problem, 64, np.random.default_rng(3))
    assert genomes.shape == (64, problem.dim) and len(np.unique(genomes[:, 0])) == 64
    np.testing.assert_array_equal(problem.evaluate(genomes), be.EPISODE_STEPS)


def test_break_even_interpolates_log_log_between_the_crossing_sizes() -> None:
    ms, how = be.break_even([10.0, 100.0, 1000.0], [0.5, 2.0, 3.0])
    assert how == "interpolated" and math.isclose(ms, math.sqrt(10.0 * 100.0))
    assert be.break_even([10.0, 100.0], [1.2, 1.9]) == (10.0, "at most")
    ms, how = be.break_even([10.0, 100.0], [0.2, 0.9])
    assert math.isnan(ms) and how == "not reached"


@requires_ray
def test_bench_ray_rows_compare_2_workers_with_1_and_in_process(tiny) -> None:
    import ray

    with Progress(quiet=True) as progress:
        rows = be.bench_evolution(quick=True, progress=progress)
    assert not ray.is_initialized()  # the bench shut down the cluster it started
    env, *ray_rows, even = rows
    assert env.unit == "steps/s"
    assert [r.name.split(":")[0] for r in ray_rows] == ["population evaluation P=4"] * 2 + [
        "population evaluation P=8"
    ] * 2
    assert ["vs 1 (" in r.name for r in ray_rows] == [True, False, True, False]
    for row in ray_rows:
        assert row.unit == "genomes/s" and row.ours > 0 and row.anchor > 0
        assert math.isclose(row.speedup, row.ours / row.anchor)
    assert even.unit == "ms" and even.anchor is None and "break-even" in even.name
