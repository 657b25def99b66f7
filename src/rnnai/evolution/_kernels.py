"""Numba kernels of the evolution family, and their plain-Python twins.

`rollout_recurrent` runs a whole population of fully recurrent networks
(`rnnai.evolution.networks`) on the Wieland cart-pole, one episode per network, network and physics
in one compiled loop, and returns what the fitness functions need: the steps balanced and the
damping sum of Gruau's fitness. `rollout_fastweight_pole3d` does the same for modular fast-weight
controllers (`rnnai.evolution.fastweights`) on the 3D cart-pole (`rnnai.envs.pole3d`). The physics
are `rnnai.envs._kernels`' compiled functions (single-sourced from `rnnai.envs.pole`), so an
episode here gives the same floats as `rnnai.envs.fitness.run_batch` with the same network as a
policy; ``tests/evolution/test_problems.py`` checks that, and ``tests/evolution/test_core.py``
holds every kernel against its twin (suffix ``_py``).

Array layout (see `rnnai.evolution.networks.RecurrentNetSpec`): ``weights`` is (P, h, L) float64
with L = d + 1 + h; row i of a network holds neuron i's input weights (d), its bias (1) and its
recurrent weights from all h neurons at the previous step (h). ``starts`` is (P, 6) raw start
states (x, x', theta1, theta1', theta2, theta2'); ``index`` and ``scale`` are
`rnnai.envs.pole.observation_indices` / `observation_scale`; ``params`` is
`rnnai.envs.pole.physics_params`.
"""

from __future__ import annotations

import math

import numpy as np

from rnnai.envs import _kernels as _pole_kernels
from rnnai.envs import pole, pole3d
from rnnai.evolution import fastweights
from rnnai.runtime.jit import njit

__all__ = [
    "rollout_fastweight_pole3d",
    "rollout_fastweight_pole3d_py",
    "rollout_recurrent",
    "rollout_recurrent_py",
]

_rk4 = _pole_kernels._rk4
_is_failure = _pole_kernels._is_failure
_action_to_force = _pole_kernels._action_to_force


@njit(cache=True)
def _squash(z: float, sigmoid: bool) -> float:
    if sigmoid:
        return 1.0 / (1.0 + math.exp(-z))
    return math.tanh(z)


@njit(cache=True)
def rollout_recurrent(
    weights: np.ndarray,
    sigmoid: bool,
    starts: np.ndarray,
    index: np.ndarray,
    scale: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    min_force: float,
    tau: float,
    substeps: int,
    track_limit: float,
    failure_angle: float,
    max_steps: int,
    damping_window: int,
    steps: np.ndarray,
    damping_sum: np.ndarray,
) -> None:
    """Run one episode per network; write steps balanced and the damping sum.

    Per action: observe the scaled state o(t), update every neuron
    ``a_i(t) = s(sum_k W_ik o_k(t) + b_i + sum_j R_ij a_j(t-1))`` with a(0) = 0, act with neuron 0
    (``u = a_0`` for tanh, ``u = 2 a_0 - 1`` for the logistic sigmoid), apply ``F = force_mag u``
    for ``substeps`` RK4 steps and stop at the first failure.

    Args:
        weights: (P, h, L) network weights (see the module docstring).
        sigmoid: Logistic neurons (ESP's) if True, tanh if False.
        starts: (P, 6) raw start states.
        index: (d,) int64 observed state components.
        scale: (6,) observation divisors.
        n_poles: 1 or 2.
        params: Physics parameters.
        force_mag: Force for u = 1, in N.
        min_force: Smallest force magnitude (0 disables).
        tau: RK4 step in s.
        substeps: RK4 steps per action.
        track_limit: |x| failure bound in m.
        failure_angle: Pole failure angle in rad.
        max_steps: Most actions per episode.
        damping_window: Balanced states summed in the damping sum (0: none).
        steps: (P,) int64 out: actions after which the system was still within bounds.
        damping_sum: (P,) float64 out: sum of |x| + |x'| + |theta1| + |theta1'| over the last
            ``damping_window`` balanced states (0 when ``damping_window == 0``).
    """
    P, h, L = weights.shape
    d = index.shape[0]
    a = np.zeros(h)
    a_new = np.zeros(h)
    obs = np.zeros(d)
    ring = np.zeros(max(damping_window, 1))
    for p in range(P):
        for i in range(h):
            a[i] = 0.0
        for k in range(ring.shape[0]):
            ring[k] = 0.0
        s0, s1, s2 = starts[p, 0], starts[p, 1], starts[p, 2]
        s3, s4, s5 = starts[p, 3], starts[p, 4], starts[p, 5]
        n = 0
        for t in range(max_steps):
            for j in range(d):
                k = index[j]
                if k == 0:
                    v = s0
                elif k == 1:
                    v = s1
                elif k == 2:
                    v = s2
                elif k == 3:
                    v = s3
                elif k == 4:
                    v = s4
                else:
                    v = s5
                obs[j] = v / scale[k]
            for i in range(h):
                z = weights[p, i, d]  # bias
                for j in range(d):
                    z += weights[p, i, j] * obs[j]
                for j in range(h):
                    z += weights[p, i, d + 1 + j] * a[j]
                a_new[i] = _squash(z, sigmoid)
            for i in range(h):
                a[i] = a_new[i]
            u = 2.0 * a[0] - 1.0 if sigmoid else a[0]
            force = _action_to_force(u, force_mag, min_force)
            for _ in range(substeps):
                s0, s1, s2, s3, s4, s5 = _rk4(s0, s1, s2, s3, s4, s5, force, tau, n_poles, params)
            if _is_failure(s0, s2, s4, n_poles, track_limit, failure_angle):
                break
            if damping_window > 0:
                ring[t % damping_window] = abs(s0) + abs(s1) + abs(s2) + abs(s3)
            n += 1
        steps[p] = n
        total = 0.0
        if damping_window > 0:
            for k in range(damping_window):
                total += ring[k]
        damping_sum[p] = total


def rollout_recurrent_py(
    weights: np.ndarray,
    sigmoid: bool,
    starts: np.ndarray,
    index: np.ndarray,
    scale: np.ndarray,
    n_poles: int,
    params: np.ndarray,
    force_mag: float,
    min_force: float,
    tau: float,
    substeps: int,
    track_limit: float,
    failure_angle: float,
    max_steps: int,
    damping_window: int,
    steps: np.ndarray,
    damping_sum: np.ndarray,
) -> None:
    """Plain-Python twin of `rollout_recurrent` (same arguments, same outputs), built on
    `rnnai.envs.pole` and numpy."""
    P, h, _ = weights.shape
    d = len(index)
    for p in range(P):
        W = weights[p, :, :d]  # (h, d)
        b = weights[p, :, d]  # (h,)
        R = weights[p, :, d + 1 :]  # (h, h)
        a = np.zeros(h)
        state = starts[p].astype(np.float64).copy()
        ring = np.zeros(max(damping_window, 1))
        n = 0
        for t in range(max_steps):
            obs = np.array([state[k] / scale[k] for k in index])
            a_new = np.empty(h)
            for i in range(h):
                z = float(b[i])  # summed in the kernel's order, so both give the same floats
                for j in range(d):
                    z += W[i, j] * obs[j]
                for j in range(h):
                    z += R[i, j] * a[j]
                a_new[i] = 1.0 / (1.0 + math.exp(-z)) if sigmoid else math.tanh(z)
            a = a_new
            u = 2.0 * a[0] - 1.0 if sigmoid else a[0]
            force = pole.action_to_force(float(u), force_mag, min_force)
            for _ in range(substeps):
                state = pole.rk4_step(state, force, tau, n_poles, params)
            if pole.is_failure(state[0], state[2], state[4], n_poles, track_limit, failure_angle):
                break
            if damping_window > 0:
                ring[t % damping_window] = float(np.abs(state[:4]).sum())
            n += 1
        steps[p] = n
        damping_sum[p] = float(ring.sum()) if damping_window > 0 else 0.0


# --- Modular fast-weight controllers on the 3D cart-pole (rnnai.evolution.fastweights) ----------

_fastweight_step = njit(cache=True)(fastweights.fastweight_step)


@njit(cache=True)
def rollout_fastweight_pole3d(
    genomes: np.ndarray,
    n_inputs: int,
    n_outputs: int,
    n_modules: int,
    recurrent: bool,
    start: np.ndarray,
    n_poles: int,
    markov: bool,
    params: np.ndarray,
    force_mag: float,
    tau: float,
    substeps: int,
    arena_limit: float,
    failure_angle: float,
    max_steps: int,
    steps: np.ndarray,
) -> None:
    """Steps balanced (into ``steps`` (P,)) by each genome's fast-weight net on the 3D cart-pole.

    Every episode starts from the raw state ``start`` (16,) with a uniform gate and runs until
    failure or ``max_steps``; the physics are `rnnai.envs._kernels.step_batch3d`'s for one row.
    Twin: `rollout_fastweight_pole3d_py`.
    """
    cos_fail = math.cos(failure_angle)
    obs = np.empty(n_inputs)
    action = np.empty(n_outputs)
    gate = np.empty(n_modules)
    state = np.empty((1, start.shape[0]))
    act2 = np.zeros((1, 2))
    alive = np.ones(1, dtype=np.bool_)
    count = np.zeros(1, dtype=np.int64)
    for p in range(genomes.shape[0]):
        state[0, :] = start
        alive[0] = True
        count[0] = 0
        gate[:] = 1.0 / n_modules
        for _ in range(max_steps):
            _pole_kernels._observe3d_into(
                state[0], n_poles, markov, arena_limit, failure_angle, obs
            )
            _fastweight_step(
                genomes[p], n_inputs, n_outputs, n_modules, recurrent, obs, gate, action
            )
            act2[0, 0] = action[0]
            act2[0, 1] = action[1]
            _pole_kernels.step_batch3d(
                state,
                act2,
                alive,
                count,
                n_poles,
                params,
                force_mag,
                tau,
                substeps,
                arena_limit,
                cos_fail,
            )
            if not alive[0]:
                break
        steps[p] = count[0]


def rollout_fastweight_pole3d_py(
    genomes: np.ndarray,
    n_inputs: int,
    n_outputs: int,
    n_modules: int,
    recurrent: bool,
    start: np.ndarray,
    n_poles: int,
    markov: bool,
    params: np.ndarray,
    force_mag: float,
    tau: float,
    substeps: int,
    arena_limit: float,
    failure_angle: float,
    max_steps: int,
    steps: np.ndarray,
) -> None:
    """Python twin of `rollout_fastweight_pole3d` (same arithmetic, interpreted)."""
    cos_fail = math.cos(failure_angle)
    obs = np.empty(n_inputs)
    action = np.empty(n_outputs)
    for p in range(genomes.shape[0]):
        state = start.reshape(1, -1).copy()
        alive = np.ones(1, dtype=np.bool_)
        count = np.zeros(1, dtype=np.int64)
        gate = np.full(n_modules, 1.0 / n_modules)
        for _ in range(max_steps):
            pole3d.observe3d_into(state[0], n_poles, markov, arena_limit, failure_angle, obs)
            fastweights.fastweight_step(
                genomes[p], n_inputs, n_outputs, n_modules, recurrent, obs, gate, action
            )
            _pole_kernels.step_batch3d_py(
                state,
                action[:2].reshape(1, 2).copy(),
                alive,
                count,
                n_poles,
                params,
                force_mag,
                tau,
                substeps,
                arena_limit,
                cos_fail,
            )
            if not alive[0]:
                break
        steps[p] = count[0]
