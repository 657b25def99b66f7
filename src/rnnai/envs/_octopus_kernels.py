"""Numba kernels for the octopus arm (`rnnai.envs.octopus`) and their plain-Python twins.

The physics are single-sourced: `rnnai.envs.octopus.substep` and the functions it calls are
``register_jitable`` plain-Python loops, which the kernels below compile unchanged; each kernel
has a twin (suffix ``_py``) that runs the same source in the interpreter, and
``tests/envs/test_octopus.py`` holds the two together.

* `advance`: one action, ``substeps`` semi-implicit Euler steps, in place.
* `advance_batch`, `observe_batch`: `advance` and the observation for P arms at once (rows of
  (P, ...) arrays), behind `rnnai.envs.octopus.OctopusArmVectorEnv`.
* `rollout_batch`: many episodes of fully recurrent sigmoid networks controlling the arm, one
  after the other (one core), returning the reaching fitness of each network. The network
  (Koutnik et al. 2010's octopus controller, one fully recurrent layer whose neurons are the
  muscle activations)::

      z(t) = (o(t)[in_order] / scale[in_order], 1, y(t-1)),   y(0) = 0
      y(t) = sigma(W z(t)),   action[out_order[i]] = y_i(t)

  with W of shape (H, n_in + 1 + H): row i holds neuron i's input weights, its bias and its
  recurrent weights. ``in_order``/``out_order`` let a caller order inputs and neurons so that
  neighbouring rows and columns of W concern neighbouring parts of the arm.

Array layout: ``pos``, ``vel`` (2N + 2, 2); ``base`` (2,) = (theta, omega); ``act`` (3N + 2,);
geometry arrays as in `rnnai.envs.octopus.OctopusGeometry`; ``p`` =
`rnnai.envs.octopus.physics_params`; ``food`` (3,) = (x, y, radius).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

from rnnai.envs import octopus
from rnnai.runtime.jit import njit

__all__ = [
    "advance",
    "advance_batch",
    "advance_batch_py",
    "advance_py",
    "observe_batch",
    "observe_batch_py",
    "reach_fitness",
    "rollout_batch",
    "rollout_batch_py",
]

_substep = octopus.substep
_observe_into = octopus.observe_into
_closest_gap = octopus.closest_gap


@register_jitable
def reach_fitness(touch_step: int, min_gap: float, gap0: float, n_steps: int) -> float:
    """Shaped reaching fitness (higher is better).

    ``1 + (T - t) / T`` when the arm touched the food at action t (1..T), so every touch scores
    at least 1 and earlier touches more; otherwise ``max(0, 1 - g_min / g_0)`` in [0, 1): how
    much of the initial gap g_0 (food rim to nearest node) the arm closed at its closest.

    Args:
        touch_step: t, the touching action (1-based), or 0 for no touch.
        min_gap: g_min, the smallest gap seen.
        gap0: g_0, the gap at the start (> 0).
        n_steps: T, the episode length.

    Returns:
        The fitness.
    """
    if touch_step > 0:
        return 1.0 + (n_steps - touch_step) / n_steps
    f = 1.0 - min_gap / gap0
    if f < 0.0 or not math.isfinite(f):
        return 0.0
    return f


@njit(cache=True)
def advance(
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    act: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    force: np.ndarray,
) -> None:
    """Hold ``act`` for ``substeps`` steps of ``dt`` (`rnnai.envs.octopus.substep`), in place."""
    for _ in range(substeps):
        _substep(
            pos,
            vel,
            base,
            act,
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            force,
        )


def advance_py(
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    act: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    force: np.ndarray,
) -> None:
    """Plain-Python twin of `advance`."""
    for _ in range(substeps):
        octopus.substep(
            pos,
            vel,
            base,
            act,
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            force,
        )


@njit(cache=True)
def advance_batch(
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    act: np.ndarray,
    running: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    force: np.ndarray,
    food: np.ndarray,
    gap: np.ndarray,
) -> None:
    """`advance` every running arm i by one action and write its food gap, in place.

    Args:
        pos: (P, 2N + 2, 2) positions.
        vel: (P, 2N + 2, 2) velocities.
        base: (P, 2) base angles and angular velocities.
        act: (P, 3N + 2) activations (validated by the caller).
        running: (P,) bool; other rows are left untouched.
        rest_long: Geometry, shared by all arms (`rnnai.envs.octopus.OctopusGeometry`).
        rest_trans: Geometry.
        rest_diag: Geometry.
        rest_area: Geometry.
        depth: Geometry.
        mass: Geometry.
        p: `rnnai.envs.octopus.physics_params`.
        dt: Integration step.
        substeps: Steps per action.
        force: (P, 2N + 2, 2) scratch.
        food: (P, 3) food x, y, radius per arm.
        gap: (P,) written for running arms: `rnnai.envs.octopus.closest_gap`.
    """
    for i in range(pos.shape[0]):
        if not running[i]:
            continue
        advance(
            pos[i],
            vel[i],
            base[i],
            act[i],
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            substeps,
            force[i],
        )
        gap[i] = _closest_gap(pos[i], food[i, 0], food[i, 1], food[i, 2])


def advance_batch_py(
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    act: np.ndarray,
    running: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    force: np.ndarray,
    food: np.ndarray,
    gap: np.ndarray,
) -> None:
    """Plain-Python twin of `advance_batch`."""
    for i in range(pos.shape[0]):
        if not running[i]:
            continue
        advance_py(
            pos[i],
            vel[i],
            base[i],
            act[i],
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            substeps,
            force[i],
        )
        gap[i] = octopus.closest_gap(pos[i], food[i, 0], food[i, 1], food[i, 2])


@njit(cache=True)
def observe_batch(pos: np.ndarray, vel: np.ndarray, base: np.ndarray, out: np.ndarray) -> None:
    """Row i of ``out`` (P, 2 + 8N) is `rnnai.envs.octopus.observe_into` of arm i."""
    for i in range(pos.shape[0]):
        _observe_into(pos[i], vel[i], base[i], out[i])


def observe_batch_py(pos: np.ndarray, vel: np.ndarray, base: np.ndarray, out: np.ndarray) -> None:
    """Plain-Python twin of `observe_batch`."""
    for i in range(pos.shape[0]):
        octopus.observe_into(pos[i], vel[i], base[i], out[i])


@register_jitable
def _rollout_one(
    W: np.ndarray,
    in_order: np.ndarray,
    out_order: np.ndarray,
    scale: np.ndarray,
    pos: np.ndarray,
    vel: np.ndarray,
    base: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    food: np.ndarray,
    n_steps: int,
    force: np.ndarray,
    obs: np.ndarray,
    z: np.ndarray,
    act: np.ndarray,
) -> tuple[int, float]:
    """One episode of one network from the given state (modified in place).

    Returns:
        (touch step or 0, smallest gap); (0, inf) if the state stopped being finite.
    """
    H = W.shape[0]
    n_in = in_order.shape[0]
    for j in range(z.shape[0]):
        z[j] = 0.0
    min_gap = _closest_gap(pos, food[0], food[1], food[2])
    for t in range(1, n_steps + 1):
        _observe_into(pos, vel, base, obs)
        for j in range(n_in):
            z[j] = obs[in_order[j]] / scale[in_order[j]]
        z[n_in] = 1.0
        for i in range(H):
            s = 0.0
            for j in range(W.shape[1]):
                s += W[i, j] * z[j]
            act[out_order[i]] = 1.0 / (1.0 + math.exp(-s)) if s > -700.0 else 0.0
        for i in range(H):
            z[n_in + 1 + i] = act[out_order[i]]
        for _ in range(substeps):
            _substep(
                pos,
                vel,
                base,
                act,
                rest_long,
                rest_trans,
                rest_diag,
                rest_area,
                depth,
                mass,
                p,
                dt,
                force,
            )
        gap = _closest_gap(pos, food[0], food[1], food[2])
        if not math.isfinite(gap):
            return 0, math.inf
        if gap < min_gap:
            min_gap = gap
        if gap <= 0.0:
            return t, min_gap
    return 0, min_gap


@njit(cache=True)
def rollout_batch(
    weights: np.ndarray,
    in_order: np.ndarray,
    out_order: np.ndarray,
    scale: np.ndarray,
    pos0: np.ndarray,
    vel0: np.ndarray,
    base0: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    food: np.ndarray,
    n_steps: int,
    fitness: np.ndarray,
    touch_step: np.ndarray,
    min_gap: np.ndarray,
) -> None:
    """Run one episode per network from (pos0, vel0, base0) and score it by `reach_fitness`.

    Args:
        weights: (P, H, n_in + 1 + H) float64 network weights.
        in_order: (n_in,) int64 observation index of each network input.
        out_order: (H,) int64 action index driven by each neuron.
        scale: (obs_dim,) divisors of the observation.
        pos0: Start positions.
        vel0: Start velocities.
        base0: Start (theta, omega).
        rest_long: Geometry (and the next five arrays).
        rest_trans: Geometry.
        rest_diag: Geometry.
        rest_area: Geometry.
        depth: Geometry.
        mass: Geometry.
        p: Physics parameters.
        dt: Step.
        substeps: Steps per action.
        food: (x, y, radius).
        n_steps: Actions per episode.
        fitness: (P,) output.
        touch_step: (P,) int64 output (0: no touch).
        min_gap: (P,) output, the smallest gap.
    """
    obs = np.empty(2 * pos0.shape[0] * 2 - 6)
    z = np.empty(weights.shape[2])
    act = np.zeros(3 * rest_long.shape[0] + 2)
    force = np.zeros_like(pos0)
    gap0 = _closest_gap(pos0, food[0], food[1], food[2])
    for k in range(weights.shape[0]):
        pos = pos0.copy()
        vel = vel0.copy()
        base = base0.copy()
        act[:] = 0.0
        t, g = _rollout_one(
            weights[k],
            in_order,
            out_order,
            scale,
            pos,
            vel,
            base,
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            substeps,
            food,
            n_steps,
            force,
            obs,
            z,
            act,
        )
        touch_step[k] = t
        min_gap[k] = g
        fitness[k] = reach_fitness(t, g, gap0, n_steps)


def rollout_batch_py(
    weights: np.ndarray,
    in_order: np.ndarray,
    out_order: np.ndarray,
    scale: np.ndarray,
    pos0: np.ndarray,
    vel0: np.ndarray,
    base0: np.ndarray,
    rest_long: np.ndarray,
    rest_trans: np.ndarray,
    rest_diag: np.ndarray,
    rest_area: np.ndarray,
    depth: np.ndarray,
    mass: np.ndarray,
    p: np.ndarray,
    dt: float,
    substeps: int,
    food: np.ndarray,
    n_steps: int,
    fitness: np.ndarray,
    touch_step: np.ndarray,
    min_gap: np.ndarray,
) -> None:
    """Plain-Python twin of `rollout_batch` (same arguments, same outputs)."""
    obs = np.empty(2 * pos0.shape[0] * 2 - 6)
    z = np.empty(weights.shape[2])
    act = np.zeros(3 * rest_long.shape[0] + 2)
    force = np.zeros_like(pos0)
    gap0 = octopus.closest_gap(pos0, food[0], food[1], food[2])
    for k in range(weights.shape[0]):
        pos, vel, base = pos0.copy(), vel0.copy(), base0.copy()
        act[:] = 0.0
        t, g = _rollout_one(
            weights[k],
            in_order,
            out_order,
            scale,
            pos,
            vel,
            base,
            rest_long,
            rest_trans,
            rest_diag,
            rest_area,
            depth,
            mass,
            p,
            dt,
            substeps,
            food,
            n_steps,
            force,
            obs,
            z,
            act,
        )
        touch_step[k] = t
        min_gap[k] = g
        fitness[k] = reach_fitness(t, g, gap0, n_steps)
