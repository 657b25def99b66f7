"""`rnnai bench evolution`: environment steps per second of the vectorized double pole.

Ours: `rnnai.envs.fitness.run_batch` (the numba batch twin) on P = 1,000 Markov double-pole
episodes under the LQR baseline controller (`rnnai.envs.control`), which keeps every episode
balanced so that all P episodes step for the whole run. Anchor: the same controller stepping the
gymnasium env `rnnai/DoublePole-v0` one episode at a time, the way a per-individual evaluation
loop would. Both count env steps per second of wall time (policy included). The issue's goal is
at least 50x.

Not yet here: the Ray population-evaluation rows (the evolution package is not built yet).
"""

from __future__ import annotations

import time

import numpy as np

from rnnai.bench import BenchRow, register_bench
from rnnai.runtime.progress import Progress

POPULATION = 1_000
BATCH_STEPS = 300
LOOP_STEPS = 3_000


def _batch_rate(population: int, steps: int) -> float:
    from rnnai.envs.control import lqr_batch_policy
    from rnnai.envs.fitness import run_batch
    from rnnai.envs.pole import DOUBLE_POLE, initial_state

    policy = lqr_batch_policy(DOUBLE_POLE)
    starts = np.tile(initial_state(DOUBLE_POLE), (population, 1))
    run_batch(policy, DOUBLE_POLE, starts[:2], 2)  # compile / load the numba cache
    t0 = time.perf_counter()
    result = run_batch(policy, DOUBLE_POLE, starts, steps)
    elapsed = time.perf_counter() - t0
    return float(result.steps.sum()) / elapsed


def _gym_rate(steps: int) -> float:
    import gymnasium as gym

    import rnnai.envs  # noqa: F401  (registers the ids)
    from rnnai.envs.control import lqr_batch_policy
    from rnnai.envs.pole import DOUBLE_POLE

    policy = lqr_batch_policy(DOUBLE_POLE)
    env = gym.make("rnnai/DoublePole-v0").unwrapped
    obs, _ = env.reset(seed=0)
    done, n = 0, 0
    t0 = time.perf_counter()
    while n < steps:
        action = policy(obs[None, :])[0:1].astype(np.float32)
        obs, _, terminated, truncated, _ = env.step(action)
        n += 1
        if terminated or truncated:
            done += 1
            obs, _ = env.reset(seed=done)
    return n / (time.perf_counter() - t0)


@register_bench("evolution")
def bench_evolution(quick: bool, progress: Progress) -> list[BenchRow]:
    """Env steps/s of the numba double-pole batch against a gymnasium loop (same process)."""
    steps = BATCH_STEPS // 3 if quick else BATCH_STEPS
    loop = LOOP_STEPS // 3 if quick else LOOP_STEPS
    with progress.task(2, "evolution: env steps/s") as task:
        ours = _batch_rate(POPULATION, steps)
        task.advance()
        anchor = _gym_rate(loop)
        task.advance()
    return [
        BenchRow.compare(
            f"double pole env steps/s: numba batch P={POPULATION} vs gymnasium loop (LQR policy)",
            ours,
            anchor,
            "steps/s",
        )
    ]
