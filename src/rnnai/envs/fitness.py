"""Fitness functions and tests of the pole-balancing benchmarks, on the vectorized numba twin.

Citations:
    F. Gruau, D. Whitley and L. Pyeatt. A comparison between cellular encoding and direct
    encoding for genetic neural networks. Genetic Programming 1996 (the damping fitness and the
    generalization test of the double pole without velocities).
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. JMLR 9:937-965, 2008 (the benchmark set-up: 100,000-step
    success, damping fitness, 625-start generalization test).

Standard fitness: the number of steps balanced (at most 100,000; reaching it solves the task).

Damping fitness (Gruau et al. 1996), for the double pole without velocities, episodes of at most
1000 steps::

    f  = 0.1 f1 + 0.9 f2
    f1 = t / 1000
    f2 = 0                                                     if t < 100
    f2 = 0.75 / sum_{k=t-99}^{t} (|x_k| + |x'_k| + |theta1_k| + |theta1'_k|)   otherwise

where t is the number of steps balanced and s_k the raw state (SI units, radians) after step k,
so the sum runs over the last 100 states in which the system was balanced. It rewards
controllers that damp the oscillations instead of merely keeping the poles up. (The ESP code sums
its scaled network inputs, in the non-Markov case including the bias input; we follow the
definition on the raw state, as the papers print it.)

Generalization test (Gruau et al. 1996, used by ESP, NEAT and CoSyNE): a controller that balanced
100,000 steps is started from 625 states: x, x', theta1 and theta1' each take the values at
0.05, 0.25, 0.5, 0.75 and 0.95 of the ranges +-2.16 m, +-1.35 m/s, +-3.6 deg and +-8.6 deg/s
(the short pole upright and at rest); it passes when it balances 1000 steps from at least 200
of them. Angles use exact degree conversions (the ESP code's 0.06283152 rad for 3.6 deg differs
by 3e-7 rad).

Policies. A single policy maps an observation (d,) to an action in [-1, 1] (a float or an
array of shape (1,)); a batched policy maps observations (P, d) to actions (P,) or (P, 1).
Batched evaluation steps all P episodes together with `rnnai.envs._kernels.step_batch`;
episodes that failed stay frozen, keep being shown to the policy (so a recurrent policy keeps its
row layout) and their actions are ignored. Recurrent single policies need fresh state per start:
`batch_from_factory` builds a batched policy out of a factory of single policies. Everything here
is float64 (the policies see float64 observations).

Examples:
    >>> import numpy as np
    >>> from rnnai.envs.pole import SINGLE_POLE
    >>> balance_steps(lambda obs: 0.0, SINGLE_POLE, max_steps=1000)  # no force: it falls
    22
    >>> balance_steps_batch(lambda obs: np.zeros(len(obs)), SINGLE_POLE, 3, max_steps=10).tolist()
    [10, 10, 10]
    >>> round(damping_fitness_value(50, 0.0), 12)  # fewer than 100 steps: f = 0.1 t / 1000
    0.005
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnai.envs import _kernels
from rnnai.envs.pole import (
    DOUBLE_POLE,
    DOUBLE_POLE_NONMARKOV,
    PoleConfig,
    initial_state,
    observation_indices,
    observation_scale,
    physics_params,
)
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "DAMPING_STEPS",
    "DAMPING_WINDOW",
    "GENERALIZATION_FRACTIONS",
    "GENERALIZATION_STEPS",
    "GENERALIZATION_THRESHOLD",
    "SUCCESS_STEPS",
    "BatchPolicy",
    "BatchResult",
    "GeneralizationResult",
    "Policy",
    "balance_steps",
    "balance_steps_batch",
    "batch_from_factory",
    "damping_fitness",
    "damping_fitness_batch",
    "damping_fitness_from_states",
    "damping_fitness_value",
    "generalization_starts",
    "generalization_test",
    "run_batch",
]

Policy = Callable[[np.ndarray], Any]
"""obs (d,) -> action: a float or an array of shape (1,) in [-1, 1]."""
BatchPolicy = Callable[[np.ndarray], Any]
"""obs (P, d) -> actions of shape (P,) or (P, 1) in [-1, 1]."""

SUCCESS_STEPS = 100_000
"""Steps to balance for the task to count as solved."""
DAMPING_STEPS = 1000
"""Episode length of the damping fitness (f1 = t / 1000)."""
DAMPING_WINDOW = 100
"""Number of final states summed in f2."""
GENERALIZATION_FRACTIONS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Where in each range the 5 start values lie."""
GENERALIZATION_STEPS = 1000
"""Steps to balance from a generalization start."""
GENERALIZATION_THRESHOLD = 200
"""Starts (of 625) to pass for the generalization test."""


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """Outcome of a batched run."""

    steps: np.ndarray
    """(P,) int64, steps balanced by each episode."""
    final_state: np.ndarray
    """(P, 6) raw states at the end (at failure for failed episodes)."""
    damping_sum: np.ndarray
    """(P,) sum of |x| + |x'| + |theta1| + |theta1'| over each episode's last 100 balanced
    states (0 when not requested)."""


@dataclass(frozen=True, kw_only=True)
class GeneralizationResult:
    """Outcome of the 625-start generalization test."""

    n_success: int
    """Starts from which the controller balanced the full ``steps``."""
    passed: bool
    """``n_success >= threshold``."""
    steps: np.ndarray
    """(625,) steps balanced from each start, in `generalization_starts` order."""


def _as_actions(raw: Any, n: int) -> np.ndarray:
    try:
        actions = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise RnnaiError(f"policy must return numbers, got {type(raw).__name__}") from err
    if actions.shape == (n, 1):
        actions = actions.reshape(n)
    if actions.shape != (n,):
        raise RnnaiError(
            f"batched policy must return shape ({n},) or ({n}, 1), got {actions.shape}"
        )
    return actions


def _check_alive_actions(actions: np.ndarray, alive: np.ndarray) -> None:
    bad = _kernels.first_bad_action(actions, alive)
    if bad >= 0:
        raise RnnaiError(
            f"actions must be finite and lie in [-1, 1]; the policy returned {actions[bad]} "
            f"for episode {bad}"
        )


def run_batch(
    policy: BatchPolicy,
    config: PoleConfig,
    initial_states: np.ndarray,
    max_steps: int,
    *,
    damping: bool = False,
) -> BatchResult:
    """Run P episodes together until all failed or ``max_steps`` steps were taken.

    Args:
        policy: Batched policy, observations (P, d) -> actions (P,).
        config: The system (``config.max_steps`` is ignored in favour of ``max_steps``).
        initial_states: (P, 6) raw start states (or (P, 4) for one pole).
        max_steps: Most steps per episode.
        damping: Also accumulate the damping sum over the last 100 balanced states.

    Returns:
        A `BatchResult`.

    Raises:
        RnnaiError: On bad start states or a bad action from the policy.
    """
    starts = np.asarray(initial_states, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] not in (4, 6) or starts.shape[0] < 1:
        raise RnnaiError(f"initial_states must have shape (P, 6), got {starts.shape}")
    if not np.all(np.isfinite(starts)):
        raise RnnaiError("initial_states must be finite")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
        raise RnnaiError(f"max_steps must be an int >= 0, got {max_steps!r}")
    n = starts.shape[0]
    state = np.zeros((n, 6), dtype=np.float64)
    state[:, : starts.shape[1]] = starts
    if config.n_poles == 1:
        state[:, 4:] = 0.0
    alive = np.ones(n, dtype=np.bool_)
    steps = np.zeros(n, dtype=np.int64)
    index = np.asarray(observation_indices(config.n_poles, config.markov), dtype=np.int64)
    scale = observation_scale(config)
    obs = np.empty((n, index.shape[0]), dtype=np.float64)
    params = physics_params(config)
    ring = np.zeros((n, DAMPING_WINDOW), dtype=np.float64) if damping else None
    for t in range(max_steps):
        _kernels.observe_batch(state, index, scale, obs)
        actions = _as_actions(policy(obs.copy()), n)
        _check_alive_actions(actions, alive)
        n_alive = _kernels.step_batch(
            state,
            actions,
            alive,
            steps,
            config.n_poles,
            params,
            config.force_mag,
            config.min_force,
            config.tau,
            config.substeps,
            config.track_limit,
            config.failure_angle,
        )
        if ring is not None:
            # Only episodes balanced after step t + 1 record it; a failed one keeps its last 100.
            jiggle = np.abs(state[:, :4]).sum(axis=1)
            col = t % DAMPING_WINDOW
            ring[alive, col] = jiggle[alive]
        if n_alive == 0:
            break
    damping_sum = ring.sum(axis=1) if ring is not None else np.zeros(n)
    return BatchResult(steps=steps, final_state=state, damping_sum=damping_sum)


def _starts(config: PoleConfig, initial_states: np.ndarray | int | None) -> np.ndarray:
    if initial_states is None:
        return initial_state(config)[None, :]
    if isinstance(initial_states, int | np.integer) and not isinstance(initial_states, bool):
        if initial_states < 1:
            raise RnnaiError(f"the number of episodes must be >= 1, got {initial_states}")
        return np.tile(initial_state(config), (int(initial_states), 1))
    return np.asarray(initial_states, dtype=np.float64)


def _single(policy: Policy) -> BatchPolicy:
    def batched(obs: np.ndarray) -> np.ndarray:
        action = np.asarray(policy(obs[0]), dtype=np.float64)
        if action.shape not in ((), (1,)):
            raise RnnaiError(f"policy must return shape (1,) or a float, got {action.shape}")
        return action.reshape(1)

    return batched


def balance_steps(
    policy: Policy,
    config: PoleConfig = DOUBLE_POLE,
    *,
    max_steps: int | None = None,
    initial_state: np.ndarray | None = None,
) -> int:
    """Standard fitness of one policy: steps balanced from the papers' start.

    Args:
        policy: obs (d,) -> action in [-1, 1].
        config: The system; its ``max_steps`` (100,000) unless ``max_steps`` is given.
        max_steps: Most steps.
        initial_state: Raw start state (6,), the papers' start when None.

    Returns:
        Steps balanced; ``>= SUCCESS_STEPS`` solves the task.
    """
    starts = _starts(config, None if initial_state is None else np.reshape(initial_state, (1, -1)))
    limit = config.max_steps if max_steps is None else max_steps
    return int(run_batch(_single(policy), config, starts, limit).steps[0])


def balance_steps_batch(
    policy: BatchPolicy,
    config: PoleConfig = DOUBLE_POLE,
    initial_states: np.ndarray | int = 1,
    *,
    max_steps: int | None = None,
) -> np.ndarray:
    """Standard fitness of P episodes at once (a population, or one policy from many starts).

    Args:
        policy: Batched policy, obs (P, d) -> actions (P,).
        config: The system; its ``max_steps`` unless ``max_steps`` is given.
        initial_states: (P, 6) raw starts, or P copies of the papers' start.
        max_steps: Most steps.

    Returns:
        (P,) int64 steps balanced.
    """
    limit = config.max_steps if max_steps is None else max_steps
    return run_batch(policy, config, _starts(config, initial_states), limit).steps


def damping_fitness_value(steps: int, damping_sum: float) -> float:
    """Gruau's f = 0.1 t/1000 + 0.9 * (0 if t < 100 else 0.75 / damping_sum).

    Args:
        steps: t, steps balanced (at most 1000).
        damping_sum: Sum of |x| + |x'| + |theta1| + |theta1'| over the last 100 balanced states.

    Returns:
        The fitness (inf when t >= 100 and the sum is exactly 0).
    """
    f1 = steps / DAMPING_STEPS
    if steps < DAMPING_WINDOW:
        f2 = 0.0
    elif damping_sum == 0.0:
        f2 = math.inf
    else:
        f2 = 0.75 / damping_sum
    return 0.1 * f1 + 0.9 * f2


def damping_fitness_from_states(states: np.ndarray) -> float:
    """Damping fitness of a balanced trajectory given as its raw states.

    Args:
        states: (t, >=4) raw states after steps 1..t (columns x, x', theta1, theta1', ...);
            t is the number of steps balanced.

    Returns:
        ``damping_fitness_value(t, sum of the last 100 rows' |x|+|x'|+|theta1|+|theta1'|)``.
    """
    s = np.asarray(states, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] < 4:
        raise RnnaiError(f"states must have shape (t, 4) or (t, 6), got {s.shape}")
    total = float(np.abs(s[-DAMPING_WINDOW:, :4]).sum()) if s.shape[0] else 0.0
    return damping_fitness_value(s.shape[0], total)


def damping_fitness(policy: Policy, config: PoleConfig = DOUBLE_POLE_NONMARKOV) -> float:
    """Gruau's damping fitness of one policy over a 1000-step episode from the papers' start."""
    return float(damping_fitness_batch(_single(policy), config, 1)[0])


def damping_fitness_batch(
    policy: BatchPolicy,
    config: PoleConfig = DOUBLE_POLE_NONMARKOV,
    initial_states: np.ndarray | int = 1,
) -> np.ndarray:
    """Damping fitness of P episodes at once (1000 steps at most).

    Returns:
        (P,) float64 fitness values.
    """
    res = run_batch(policy, config, _starts(config, initial_states), DAMPING_STEPS, damping=True)
    pairs = zip(res.steps, res.damping_sum, strict=True)
    return np.array([damping_fitness_value(int(t), float(d)) for t, d in pairs], dtype=np.float64)


def generalization_starts(config: PoleConfig = DOUBLE_POLE_NONMARKOV) -> np.ndarray:
    """The 625 start states, x outermost and theta1' innermost, as in the ESP/NEAT loops.

    Value = -r + f * 2r for f in `GENERALIZATION_FRACTIONS` and r = 2.16 m, 1.35 m/s,
    3.6 deg, 8.6 deg/s; theta2 = theta2' = 0.

    Returns:
        (625, 6) float64 raw states.
    """
    del config  # the grid is the same for every variant; kept for a uniform signature
    f = np.asarray(GENERALIZATION_FRACTIONS, dtype=np.float64)
    ranges = (2.16, 1.35, math.radians(3.6), math.radians(8.6))
    values = [f * 2.0 * r - r for r in ranges]
    grid = np.stack(np.meshgrid(*values, indexing="ij"), axis=-1).reshape(-1, 4)  # (625, 4)
    starts = np.zeros((grid.shape[0], 6), dtype=np.float64)
    starts[:, :4] = grid
    return starts


def generalization_test(
    policy: BatchPolicy,
    config: PoleConfig = DOUBLE_POLE_NONMARKOV,
    *,
    steps: int = GENERALIZATION_STEPS,
    threshold: int = GENERALIZATION_THRESHOLD,
) -> GeneralizationResult:
    """Run the 625-start generalization test.

    Args:
        policy: Batched policy over the 625 starts (fresh recurrent state per row; see
            `batch_from_factory`).
        config: The system and observation.
        steps: Steps to balance from each start (1000).
        threshold: Successful starts needed to pass (200).

    Returns:
        A `GeneralizationResult`.
    """
    res = run_batch(policy, config, generalization_starts(config), steps)
    n_success = int(np.sum(res.steps >= steps))
    return GeneralizationResult(n_success=n_success, passed=n_success >= threshold, steps=res.steps)


def batch_from_factory(factory: Callable[[], Policy], n: int) -> BatchPolicy:
    """A batched policy made of ``n`` independent single policies (row i uses the i-th).

    Args:
        factory: Returns a fresh single policy (e.g. a recurrent network with reset state).
        n: Number of rows.

    Returns:
        obs (n, d) -> actions (n,).
    """
    policies = [factory() for _ in range(n)]

    def batched(obs: np.ndarray) -> np.ndarray:
        out = np.empty(n, dtype=np.float64)
        for i, pol in enumerate(policies):
            out[i] = np.asarray(pol(obs[i]), dtype=np.float64).reshape(())
        return out

    return batched
