"""A linear-quadratic regulator for the pole-balancing systems: a baseline controller.

The LQR gain is computed on `rnnai.envs.pole.linearize` (small angles, no friction) with scipy's
continuous algebraic Riccati solver. With full state (the Markov tasks) it balances the single
and the double pole for 100,000 steps and passes most of the 625 generalization starts, so it is
both a sanity check of the simulator and a steady load for speed benchmarks. It is not one of the
papers' learners.

Examples:
    >>> from rnnai.envs.fitness import balance_steps_batch
    >>> from rnnai.envs.pole import DOUBLE_POLE
    >>> policy = lqr_batch_policy(DOUBLE_POLE)
    >>> balance_steps_batch(policy, DOUBLE_POLE, 2, max_steps=1000).tolist()
    [1000, 1000]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_continuous_are

from rnnai.envs.pole import PoleConfig, linearize, observation_indices, observation_scale
from rnnai.runtime.errors import RnnaiError

__all__ = ["lqr_batch_policy", "lqr_gain"]


def lqr_gain(config: PoleConfig) -> np.ndarray:
    """State-feedback gain K (F = -K z, z the raw 6-state) of an LQR design on the linear model.

    Weights: Q = diag(1, 1, 100, 1, 100, 1) (angles matter most), R = 0.01.
    """
    A, B = linearize(config)
    n = 2 + 2 * config.n_poles
    A, B = A[:n, :n], B[:n, None]
    Q = np.diag([1.0, 1.0, 100.0, 1.0, 100.0, 1.0][:n])
    R = np.array([[0.01]])
    P = solve_continuous_are(A, B, Q, R)
    K = np.linalg.solve(R, B.T @ P)[0]
    return np.concatenate([K, np.zeros(6 - n)])


def lqr_batch_policy(config: PoleConfig) -> Callable[[np.ndarray], np.ndarray]:
    """A batched policy (P, d) observations -> (P,) actions: unscale, F = -K z, clip to [-1, 1].

    Needs the Markov observation (all velocities).

    Raises:
        RnnaiError: If ``config.markov`` is False.
    """
    if not config.markov:
        raise RnnaiError(
            "lqr_batch_policy needs the Markov observation (markov=True), "
            f"got markov={config.markov}"
        )
    K = lqr_gain(config)
    idx = list(observation_indices(config.n_poles, config.markov))
    scale = observation_scale(config)[idx]
    k = K[idx]

    def policy(obs: np.ndarray) -> np.ndarray:
        z = obs * scale  # (P, d) raw state
        return np.clip(-(z @ k) / config.force_mag, -1.0, 1.0)

    return policy
