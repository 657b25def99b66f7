"""`rnnai bench evolution` gives one well-formed rate row (tiny sizes here)."""

from __future__ import annotations

import rnnai.bench.evolution as be
from rnnai.runtime.progress import Progress


def test_bench_evolution_row_is_a_rate_with_speedup(monkeypatch) -> None:
    monkeypatch.setattr(be, "POPULATION", 20)
    monkeypatch.setattr(be, "BATCH_STEPS", 30)
    monkeypatch.setattr(be, "LOOP_STEPS", 30)
    with Progress(quiet=True) as progress:
        (row,) = be.bench_evolution(quick=False, progress=progress)
    assert row.unit == "steps/s" and row.ours > 0 and row.anchor > 0
    assert abs(row.speedup - row.ours / row.anchor) < 1e-9


def test_lqr_policy_keeps_every_benchmark_episode_balanced() -> None:
    import numpy as np
    import pytest

    from rnnai.envs.control import lqr_batch_policy
    from rnnai.envs.fitness import run_batch
    from rnnai.envs.pole import DOUBLE_POLE, DOUBLE_POLE_NONMARKOV, initial_state

    starts = np.tile(initial_state(DOUBLE_POLE), (5, 1))
    result = run_batch(lqr_batch_policy(DOUBLE_POLE), DOUBLE_POLE, starts, 500)
    assert (result.steps == 500).all()  # the rate counts P x steps of real stepping
    with pytest.raises(ValueError, match="Markov"):
        lqr_batch_policy(DOUBLE_POLE_NONMARKOV)
