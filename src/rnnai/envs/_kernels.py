"""Numba kernels for evaluating many pole-balancing episodes at once, and their Python twins.

Each kernel takes arrays and scalars only, updates its arrays in place and has a plain-Python
twin (suffix ``_py``) built on the functions of `rnnai.envs.pole`; ``tests/envs`` holds the kernels
against the twins and against the gymnasium environment step by step. The equations of motion are
single-sourced: `rnnai.envs.pole.derivatives` is compiled here unchanged, and the Runge-Kutta step
below repeats `rnnai.envs.pole.rk4_step`'s arithmetic in the same order, so kernel and environment
give the same floats.

Array layout: ``state`` is (P, 6) float64 with columns (x, x', theta1, theta1', theta2, theta2');
``action`` (P,) float64 in [-1, 1]; ``alive`` (P,) bool; ``steps`` (P,) int64 (steps balanced);
``params`` is `rnnai.envs.pole.physics_params`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnai.envs import pole

__all__ = [
    "first_bad_action",
    "first_bad_action_py",
    "observe_batch",
    "observe_batch_py",
    "step_batch",
    "step_batch_py",
]

_derivatives = njit(cache=True)(pole.derivatives)
_action_to_force = njit(cache=True)(pole.action_to_force)
_is_failure = njit(cache=True)(pole.is_failure)


@njit(cache=True)
def _rk4(
    s0: float,
    s1: float,
    s2: float,
    s3: float,
    s4: float,
    s5: float,
    force: float,
    h: float,
    n_poles: int,
    p: np.ndarray,
) -> tuple[float, float, float, float, float, float]:
    g, M, m1, l1, m2, l2, mu_c, mu_p = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    k1 = _derivatives(s1, s2, s3, s4, s5, force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    hh = 0.5 * h
    t1 = s1 + hh * k1[1]
    t2 = s2 + hh * k1[2]
    t3 = s3 + hh * k1[3]
    t4 = s4 + hh * k1[4]
    t5 = s5 + hh * k1[5]
    k2 = _derivatives(t1, t2, t3, t4, t5, force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    t1 = s1 + hh * k2[1]
    t2 = s2 + hh * k2[2]
    t3 = s3 + hh * k2[3]
    t4 = s4 + hh * k2[4]
    t5 = s5 + hh * k2[5]
    k3 = _derivatives(t1, t2, t3, t4, t5, force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    t1 = s1 + h * k3[1]
    t2 = s2 + h * k3[2]
    t3 = s3 + h * k3[3]
    t4 = s4 + h * k3[4]
    t5 = s5 + h * k3[5]
    k4 = _derivatives(t1, t2, t3, t4, t5, force, n_poles, g, M, m1, l1, m2, l2, mu_c, mu_p)
    h6 = h / 6.0
    return (
        s0 + h6 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
        s1 + h6 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        s2 + h6 * (k1[2] + 2.0 * k2[2] + 2.0 * k3[2] + k4[2]),
        s3 + h6 * (k1[3] + 2.0 * k2[3] + 2.0 * k3[3] + k4[3]),
        s4 + h6 * (k1[4] + 2.0 * k2[4] + 2.0 * k3[4] + k4[4]),
        s5 + h6 * (k1[5] + 2.0 * k2[5] + 2.0 * k3[5] + k4[5]),
    )


@njit(cache=True)
def step_batch(
    state: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    min_force: float,
    tau: float,
    substeps: int,
    track_limit: float,
    failure_angle: float,
) -> int:
    """Apply one action to every alive episode; mark failures; count steps balanced.

    Episodes with ``alive[i] == False`` are left untouched (their state stays frozen).

    Args:
        state: (P, 6) raw states, updated in place.
        action: (P,) actions in [-1, 1] (validated by the caller).
        alive: (P,) flags, cleared in place when an episode fails.
        steps: (P,) steps balanced, incremented in place for episodes still within bounds.
        n_poles: 1 or 2.
        params: ``pole.physics_params(config)``.
        force_mag: Force for action 1, in N.
        min_force: Smallest force magnitude (0 disables).
        tau: Runge-Kutta step in s.
        substeps: Runge-Kutta steps per action.
        track_limit: |x| failure bound in m.
        failure_angle: Pole failure angle in rad.

    Returns:
        The number of episodes still alive.
    """
    n_alive = 0
    for i in range(state.shape[0]):
        if not alive[i]:
            continue
        force = _action_to_force(action[i], force_mag, min_force)
        s0, s1, s2 = state[i, 0], state[i, 1], state[i, 2]
        s3, s4, s5 = state[i, 3], state[i, 4], state[i, 5]
        for _ in range(substeps):
            s0, s1, s2, s3, s4, s5 = _rk4(s0, s1, s2, s3, s4, s5, force, tau, n_poles, params)
        state[i, 0] = s0
        state[i, 1] = s1
        state[i, 2] = s2
        state[i, 3] = s3
        state[i, 4] = s4
        state[i, 5] = s5
        if _is_failure(s0, s2, s4, n_poles, track_limit, failure_angle):
            alive[i] = False
        else:
            steps[i] += 1
            n_alive += 1
    return n_alive


def step_batch_py(
    state: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    min_force: float,
    tau: float,
    substeps: int,
    track_limit: float,
    failure_angle: float,
) -> int:
    """Plain-Python twin of `step_batch` (same arguments, same in-place effects)."""
    n_alive = 0
    for i in range(state.shape[0]):
        if not alive[i]:
            continue
        force = pole.action_to_force(float(action[i]), force_mag, min_force)
        s = state[i].copy()
        for _ in range(substeps):
            s = pole.rk4_step(s, force, tau, n_poles, params)
        state[i] = s
        if pole.is_failure(s[0], s[2], s[4], n_poles, track_limit, failure_angle):
            alive[i] = False
        else:
            steps[i] += 1
            n_alive += 1
    return n_alive


@njit(cache=True)
def observe_batch(state: np.ndarray, index: np.ndarray, scale: np.ndarray, out: np.ndarray) -> None:
    """Scaled observations: ``out[i, j] = state[i, index[j]] / scale[index[j]]``.

    Args:
        state: (P, 6) raw states.
        index: (d,) int64, ``pole.observation_indices``.
        scale: (6,) divisors, ``pole.observation_scale``.
        out: (P, d) float64, written in place.
    """
    for i in range(state.shape[0]):
        for j in range(index.shape[0]):
            k = index[j]
            out[i, j] = state[i, k] / scale[k]


def observe_batch_py(
    state: np.ndarray, index: np.ndarray, scale: np.ndarray, out: np.ndarray
) -> None:
    """Plain-Python twin of `observe_batch`."""
    for i in range(state.shape[0]):
        for j, k in enumerate(index):
            out[i, j] = state[i, k] / scale[k]


@njit(cache=True)
def first_bad_action(action: np.ndarray, alive: np.ndarray) -> int:
    """Index of the first alive episode whose action is NaN or outside [-1, 1], or -1."""
    for i in range(action.shape[0]):
        if alive[i] and not (-1.0 <= action[i] <= 1.0):
            return i
    return -1


def first_bad_action_py(action: np.ndarray, alive: np.ndarray) -> int:
    """Plain-Python twin of `first_bad_action`."""
    for i in range(action.shape[0]):
        if alive[i] and not (-1.0 <= action[i] <= 1.0):
            return i
    return -1
