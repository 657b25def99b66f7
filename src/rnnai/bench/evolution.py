"""`rnnai bench evolution`: the vectorized double pole, and population evaluation on Ray.

Row 1, env steps per second. Ours: `rnnai.envs.fitness.run_batch` (the numba batch twin) on
P = 1,000 Markov double-pole episodes under the LQR baseline controller (`rnnai.envs.control`),
which keeps every episode balanced so that all P episodes step for the whole run. Anchor: the
same controller stepping the gymnasium env `rnnai/DoublePole-v0` one episode at a time, the way a
per-individual evaluation loop would. Both count env steps per second of wall time (policy
included). The design goal is at least 50x.

Population evaluation rows (`rnnai.evolution.distributed.RayEvaluator`). The problem is
`rnnai.evolution.problems.DoublePoleMarkov`: fully recurrent networks of 5 tanh neurons (genome
length 60) balancing the Markov double pole, network and physics together in numba, with
episodes capped at `EPISODE_STEPS` steps. The population is a late-generation one: Gaussian
perturbations (5%) of a network whose output neuron carries the LQR gain, so that every genome
balances the whole episode and the work per genome is the same (P x 200 steps); a generation-0
population of random networks fails within a few dozen steps and is far cheaper to evaluate.
One local Ray cluster with 2 CPUs serves all rows (started once, 3-8 s, not timed); "1 worker"
is `RayEvaluator(chunks=1)` (each population in one task), "2 workers" splits each population
into 2 tasks. For each population size P the three evaluators are timed alternately (so that
load from other processes hits all three alike) and the rows report medians as genomes/s:

* ``2 Ray workers vs 1``: the parallel speed-up (goal: at least 1.6x on a population large enough
  to amortize Ray's overhead);
* ``2 Ray workers vs in-process``: whether Ray pays at all against `LocalEvaluator`;
* a last row gives the break-even of 2 workers against 1 as the in-process evaluation time of a
  population (ms) at which the speed-up reaches 1, interpolated log-log between the two measured
  sizes around the first crossing; it says "at most" when even the smallest size gains, and is
  empty (None) with "not reached" when no measured size does. (The per-size rows show the
  population size itself.)

Without Ray installed (``pip install 'rnnai[distributed]'``) only row 1 is measured. The machine
this was developed on has 2 shared cores, and Linux's autogroup scheduling gives each session
(the driver with its Ray workers is one) an equal share of them: while other sessions keep the
cores busy, the 2 workers run concurrently but together get about as much CPU as 1, and the
2-vs-1 rows stay near 1x. Read them on an otherwise idle machine.

Examples:
    >>> import numpy as np
    >>> problem = bench_problem()
    >>> problem.dim                        # 5 neurons x (6 inputs + bias + 5 recurrent)
    60
    >>> genomes = bench_population(problem, 4, np.random.default_rng(0))
    >>> problem.evaluate(genomes).tolist()      # every genome balances the whole episode
    [200.0, 200.0, 200.0, 200.0]
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from rnnai.bench import BenchRow, register_bench
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.progress import Progress

POPULATION = 1_000
BATCH_STEPS = 300
LOOP_STEPS = 3_000

POPULATION_SIZES = (10, 100, 1_000, 10_000)
"""Population sizes P of the Ray rows (`quick`: the first three)."""
QUICK_SIZES = 3
"""How many of `POPULATION_SIZES` the quick run measures."""
EPISODE_STEPS = 200
"""Steps per episode (every genome of the benchmark population balances all of them)."""
NEURONS = 5
"""Neurons of the fully recurrent networks."""
PERTURBATION = 0.05
"""Relative (output neuron's input weights) or absolute (all other weights) noise scale."""


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


def bench_problem(steps: int = EPISODE_STEPS) -> Any:
    """The benchmark's problem: Markov double pole, `NEURONS` tanh neurons, ``steps`` steps.

    Args:
        steps: Episode cap (the fitness is the number of steps balanced, at most this).

    Returns:
        A `rnnai.evolution.problems.DoublePoleMarkov`.
    """
    from rnnai.evolution.problems import DoublePoleMarkov

    return DoublePoleMarkov(n_neurons=NEURONS, activation="tanh", success_steps=steps)


def bench_population(problem: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    """A late-generation population: perturbations of a network that balances with the LQR gain.

    The output neuron (neuron 0) gets the LQR state feedback in the network's input scaling,
    ``W_0k = -K_k s_k / F_max`` (K the gain on the raw state, s_k the observation divisors), so
    that ``u = tanh(W_0 . o)`` is the LQR force squashed into [-1, 1]; all other weights are 0.
    Each genome multiplies the nonzero weights by ``1 + 0.05 N(0, 1)`` and adds ``0.05 N(0, 1)``
    to the zero ones.

    Args:
        problem: A `bench_problem`.
        n: Population size.
        rng: Source of the perturbations.

    Returns:
        (n, problem.dim) float64 genomes.
    """
    from rnnai.envs.control import lqr_gain
    from rnnai.envs.pole import observation_scale

    config, spec = problem.config, problem.spec
    base = np.zeros((spec.n_neurons, spec.neuron_dim))  # (h, L), row i = (W_i, b_i, R_i)
    base[0, : spec.n_inputs] = -lqr_gain(config) * observation_scale(config) / config.force_mag
    noise = PERTURBATION * rng.standard_normal((n, *base.shape))  # (n, h, L)
    genomes = np.where(base != 0.0, base * (1.0 + noise), noise)
    return genomes.reshape(n, problem.dim)


def _alternate(fns: Sequence[Callable[[], Any]], repeats: int) -> list[float]:
    """Median wall time of each function, timing them in turn (ABCABC...) after one warm-up."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def break_even(work_ms: Sequence[float], speedups: Sequence[float]) -> tuple[float, str]:
    """Work per population at which the speed-up reaches 1 (log-log interpolation).

    Args:
        work_ms: In-process time of each measured population, increasing.
        speedups: The speed-up measured at each.

    Returns:
        ``(ms, how)``: the work interpolated between the last size below 1 and the first at or
        above it and ``"interpolated"``; the smallest work and ``"at most"`` when the first size
        already gains; ``nan`` and ``"not reached"`` when no size does.
    """
    for i, s in enumerate(speedups):
        if s >= 1.0:
            if i == 0:
                return float(work_ms[0]), "at most"
            x0, x1 = math.log(work_ms[i - 1]), math.log(work_ms[i])
            y0, y1 = math.log(speedups[i - 1]), math.log(s)
            return float(math.exp(x0 + (x1 - x0) * (0.0 - y0) / (y1 - y0))), "interpolated"
    return math.nan, "not reached"


def _ray_rows(quick: bool, progress: Progress) -> list[BenchRow]:
    """Genomes/s of 2 Ray workers against 1 and against in-process, per population size."""
    from rnnai.evolution.core import LocalEvaluator
    from rnnai.evolution.distributed import RayEvaluator

    sizes = POPULATION_SIZES[:QUICK_SIZES] if quick else POPULATION_SIZES
    problem = bench_problem(EPISODE_STEPS)
    local = LocalEvaluator()
    rows: list[BenchRow] = []
    work_ms: list[float] = []
    gains: list[float] = []
    label = f"double-pole RNNs h={NEURONS}, {EPISODE_STEPS} steps"
    with progress.task(len(sizes) + 1, "evolution: Ray population evaluation") as task:
        with RayEvaluator(workers=2) as two:
            one = RayEvaluator(chunks=1)  # shares the cluster that `two` starts
            two(problem, bench_population(problem, 2, np.random.default_rng(0)))  # start Ray
            if two.chunk_count(10**6) < 2:
                raise RnnaiError(
                    f"the Ray bench needs a cluster with >= 2 CPUs, found {two.chunk_count(10**6)}"
                )
            task.advance()
            for n in sizes:
                genomes = bench_population(problem, n, np.random.default_rng(n))
                repeats = 3 if n > 1_000 or quick else 7
                t_two, t_one, t_local = _alternate(
                    [
                        partial(two, problem, genomes),
                        partial(one, problem, genomes),
                        partial(local, problem, genomes),
                    ],
                    repeats,
                )
                rows.append(
                    BenchRow.compare(
                        f"population evaluation P={n}: 2 Ray workers vs 1 ({label})",
                        n / t_two,
                        n / t_one,
                        "genomes/s",
                    )
                )
                rows.append(
                    BenchRow.compare(
                        f"population evaluation P={n}: 2 Ray workers vs in-process ({label})",
                        n / t_two,
                        n / t_local,
                        "genomes/s",
                    )
                )
                work_ms.append(t_local * 1e3)
                gains.append(t_one / t_two)
                task.advance()
    ms, how = break_even(work_ms, gains)
    rows.append(
        BenchRow.compare(
            f"population evaluation: break-even of 2 Ray workers vs 1 as in-process ms per "
            f"population ({how}; P={sizes[0]}..{sizes[-1]} measured)",
            ms,
            None,
            "ms",
        )
    )
    return rows


@register_bench("evolution")
def bench_evolution(quick: bool, progress: Progress) -> list[BenchRow]:
    """Env steps/s of the numba double pole vs gymnasium; Ray population evaluation 2 vs 1."""
    steps = BATCH_STEPS // 3 if quick else BATCH_STEPS
    loop = LOOP_STEPS // 3 if quick else LOOP_STEPS
    with progress.task(2, "evolution: env steps/s") as task:
        ours = _batch_rate(POPULATION, steps)
        task.advance()
        anchor = _gym_rate(loop)
        task.advance()
    rows = [
        BenchRow.compare(
            f"double pole env steps/s: numba batch P={POPULATION} vs gymnasium loop (LQR policy)",
            ours,
            anchor,
            "steps/s",
        )
    ]
    if POPULATION_SIZES and importlib.util.find_spec("ray") is not None:
        rows.extend(_ray_rows(quick, progress))
    return rows
