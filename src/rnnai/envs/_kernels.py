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

T-maze (Bakker 2002). `rnnai.envs.tmaze.transition` and `rnnai.envs.tmaze.observation_index` are
compiled here unchanged. Array layout: ``position``, ``goal`` (0 north, 1 south), ``action``
(0..3), ``steps`` and ``outcome`` (`rnnai.envs.tmaze`'s ``OUTCOME_*``) are (P,) int64; ``alive``
(P,) bool; ``reward`` (P,) float64; observations (P, 3) float64 rows of ``tmaze.OBS_CODES``.
"""

from __future__ import annotations

import numpy as np

from rnnai.envs import pole, pole3d, tmaze
from rnnai.runtime.jit import njit

__all__ = [
    "first_bad_action",
    "first_bad_action_py",
    "observe_batch",
    "observe_batch3d",
    "observe_batch3d_py",
    "observe_batch_py",
    "step_batch",
    "step_batch3d",
    "step_batch3d_py",
    "step_batch_py",
    "tmaze_first_bad_action",
    "tmaze_first_bad_action_py",
    "tmaze_observe_batch",
    "tmaze_observe_batch_py",
    "tmaze_step_batch",
    "tmaze_step_batch_py",
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


# --------------------------------------------------------------------------------------------
# T-maze
# --------------------------------------------------------------------------------------------

_tmaze_transition = njit(cache=True)(tmaze.transition)
_tmaze_observation_index = njit(cache=True)(tmaze.observation_index)


@njit(cache=True)
def tmaze_step_batch(
    position: np.ndarray,
    goal: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    reward: np.ndarray,
    outcome: np.ndarray,
    corridor_length: int,
    goal_reward: float,
    wrong_reward: float,
    still_penalty: float,
    step_reward: float,
    max_steps: int,
) -> int:
    """Apply one action to every running T-maze episode; end those that enter an arm or time out.

    Finished episodes (``alive[i] == False``) are left untouched and get reward 0.

    Args:
        position: (P,) positions x in [0, N], updated in place.
        goal: (P,) goal arms (0 north, 1 south).
        action: (P,) actions in {0, 1, 2, 3} (validated by the caller).
        alive: (P,) flags, cleared in place when an episode ends.
        steps: (P,) steps taken, incremented in place.
        reward: (P,) written in place: this step's reward.
        outcome: (P,) written in place for episodes that end: 1 goal arm, -1 wrong arm,
            2 truncated after ``max_steps`` steps.
        corridor_length: N.
        goal_reward: Reward for the goal arm.
        wrong_reward: Reward for the wrong arm.
        still_penalty: Reward for a move into a wall.
        step_reward: Reward for a move along the corridor.
        max_steps: Truncation limit.

    Returns:
        The number of episodes still running.
    """
    n_alive = 0
    for i in range(position.shape[0]):
        if not alive[i]:
            reward[i] = 0.0
            continue
        x, r, out = _tmaze_transition(
            position[i],
            goal[i],
            action[i],
            corridor_length,
            goal_reward,
            wrong_reward,
            still_penalty,
            step_reward,
        )
        position[i] = x
        reward[i] = r
        steps[i] += 1
        if out != 0:
            outcome[i] = out
            alive[i] = False
        elif steps[i] >= max_steps:
            outcome[i] = 2
            alive[i] = False
        else:
            n_alive += 1
    return n_alive


def tmaze_step_batch_py(
    position: np.ndarray,
    goal: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    reward: np.ndarray,
    outcome: np.ndarray,
    corridor_length: int,
    goal_reward: float,
    wrong_reward: float,
    still_penalty: float,
    step_reward: float,
    max_steps: int,
) -> int:
    """Plain-Python twin of `tmaze_step_batch` (same arguments, same in-place effects)."""
    n_alive = 0
    for i in range(position.shape[0]):
        if not alive[i]:
            reward[i] = 0.0
            continue
        x, r, out = tmaze.transition(
            int(position[i]),
            int(goal[i]),
            int(action[i]),
            corridor_length,
            goal_reward,
            wrong_reward,
            still_penalty,
            step_reward,
        )
        position[i], reward[i] = x, r
        steps[i] += 1
        if out != tmaze.OUTCOME_RUNNING:
            outcome[i], alive[i] = out, False
        elif steps[i] >= max_steps:
            outcome[i], alive[i] = tmaze.OUTCOME_TRUNCATED, False
        else:
            n_alive += 1
    return n_alive


@njit(cache=True)
def tmaze_observe_batch(
    position: np.ndarray, goal: np.ndarray, corridor_length: int, codes: np.ndarray, out: np.ndarray
) -> None:
    """Observations: ``out[i] = codes[observation_index(position[i], goal[i], N)]``.

    Args:
        position: (P,) positions.
        goal: (P,) goal arms.
        corridor_length: N.
        codes: (4, 3) ``tmaze.OBS_CODES``.
        out: (P, 3) float64, written in place.
    """
    for i in range(position.shape[0]):
        k = _tmaze_observation_index(position[i], goal[i], corridor_length)
        for j in range(codes.shape[1]):
            out[i, j] = codes[k, j]


def tmaze_observe_batch_py(
    position: np.ndarray, goal: np.ndarray, corridor_length: int, codes: np.ndarray, out: np.ndarray
) -> None:
    """Plain-Python twin of `tmaze_observe_batch`."""
    for i in range(position.shape[0]):
        out[i] = codes[tmaze.observation_index(int(position[i]), int(goal[i]), corridor_length)]


@njit(cache=True)
def tmaze_first_bad_action(action: np.ndarray, alive: np.ndarray) -> int:
    """Index of the first running episode whose action is outside {0, 1, 2, 3}, or -1."""
    for i in range(action.shape[0]):
        if alive[i] and not (0 <= action[i] <= 3):
            return i
    return -1


def tmaze_first_bad_action_py(action: np.ndarray, alive: np.ndarray) -> int:
    """Plain-Python twin of `tmaze_first_bad_action`."""
    for i in range(action.shape[0]):
        if alive[i] and not (0 <= action[i] <= 3):
            return i
    return -1


# --- 3D pole balancing (rnnai.envs.pole3d) ------------------------------------------------------
# Layout: ``state3d`` (P, 16) raw states (`rnnai.envs.pole3d.STATE_SIZE`), ``action3d`` (P, 2) in
# [-1, 1]; the equations are single-sourced (`pole3d.derivatives3d` compiled unchanged) and the
# Runge-Kutta step repeats `pole3d.rk4_step3d`'s array arithmetic in the same order.

_derivatives3d = njit(cache=True)(pole3d.derivatives3d)
_renormalize3d = njit(cache=True)(pole3d.renormalize3d)
_is_failure3d = njit(cache=True)(pole3d.is_failure3d)


@njit(cache=True)
def _rk4_3d(
    s: np.ndarray, fx: float, fy: float, h: float, n_poles: int, p: np.ndarray
) -> np.ndarray:
    k1 = _derivatives3d(s, fx, fy, n_poles, p)
    k2 = _derivatives3d(s + 0.5 * h * k1, fx, fy, n_poles, p)
    k3 = _derivatives3d(s + 0.5 * h * k2, fx, fy, n_poles, p)
    k4 = _derivatives3d(s + h * k3, fx, fy, n_poles, p)
    return s + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@njit(cache=True)
def step_batch3d(
    state: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    tau: float,
    substeps: int,
    arena_limit: float,
    cos_failure_angle: float,
) -> None:
    """Advance every live 3D cart-pole by one action, in place (twin: `step_batch3d_py`).

    Episodes that fail are marked dead (``alive[i] = False``) and keep their failing state;
    ``steps[i]`` counts the actions after which episode i was still within bounds.
    """
    for i in range(state.shape[0]):
        if not alive[i]:
            continue
        fx = force_mag * action[i, 0]
        fy = force_mag * action[i, 1]
        s = state[i].copy()
        for _ in range(substeps):
            s = _rk4_3d(s, fx, fy, tau, n_poles, params)
        _renormalize3d(s, n_poles)
        state[i] = s
        if _is_failure3d(s, n_poles, arena_limit, cos_failure_angle):
            alive[i] = False
        else:
            steps[i] += 1


def step_batch3d_py(
    state: np.ndarray,
    action: np.ndarray,
    alive: np.ndarray,
    steps: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    tau: float,
    substeps: int,
    arena_limit: float,
    cos_failure_angle: float,
) -> None:
    """Python twin of `step_batch3d`, built on `rnnai.envs.pole3d`'s functions."""
    for i in range(state.shape[0]):
        if not alive[i]:
            continue
        fx = force_mag * action[i, 0]
        fy = force_mag * action[i, 1]
        s = state[i].copy()
        for _ in range(substeps):
            s = pole3d.rk4_step3d(s, fx, fy, tau, n_poles, params)
        pole3d.renormalize3d(s, n_poles)
        state[i] = s
        if pole3d.is_failure3d(s, n_poles, arena_limit, cos_failure_angle):
            alive[i] = False
        else:
            steps[i] += 1


_observe3d_into = njit(cache=True)(pole3d.observe3d_into)


@njit(cache=True)
def observe_batch3d(
    state: np.ndarray,
    n_poles: int,
    markov: bool,
    arena_limit: float,
    failure_angle: float,
    out: np.ndarray,
) -> None:
    """Scaled observations of P raw 3D states: row i is `pole3d.observe3d_into` of ``state[i]``.

    Args:
        state: (P, 16) raw states.
        n_poles: 1 or 2.
        markov: Whether rates are observed.
        arena_limit: |x|, |y| bound in m.
        failure_angle: Pole failure angle in rad.
        out: (P, d) float64, written in place.
    """
    for i in range(state.shape[0]):
        _observe3d_into(state[i], n_poles, markov, arena_limit, failure_angle, out[i])


def observe_batch3d_py(
    state: np.ndarray,
    n_poles: int,
    markov: bool,
    arena_limit: float,
    failure_angle: float,
    out: np.ndarray,
) -> None:
    """Plain-Python twin of `observe_batch3d`."""
    for i in range(state.shape[0]):
        pole3d.observe3d_into(state[i], n_poles, markov, arena_limit, failure_angle, out[i])
