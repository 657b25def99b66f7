"""The fully recurrent pole-balancing controllers of ESP and CoSyNE, run in numba with the physics.

Citations:
    F. Gomez and R. Miikkulainen. Solving non-Markovian control tasks with neuroevolution.
    IJCAI 1999 (ESP's fully recurrent networks for pole balancing).
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. JMLR 9:937-965, 2008 (CoSyNE; the same networks).

Network. h neurons, each seeing the d observed (scaled) state variables, a bias and the previous
activations of all h neurons (a single fully recurrent layer; no separate output layer)::

    a_i(t) = s( sum_k W_ik o_k(t) + b_i + sum_j R_ij a_j(t-1) ),   a(0) = 0
    u(t)   = a_0(t)            (tanh neurons)
    u(t)   = 2 a_0(t) - 1      (logistic neurons, ESP's: F = 10 (2 o - 1))

Neuron 0 is the output; the force is F = 10 u newtons. With h = 1 and no use of the recurrent
weight this is a single-layer perceptron, which suffices for the Markov tasks (a linear state
feedback balances both poles); the non-Markov task needs h > 1 to estimate velocities.

Genome layout: (h, L) row-major with L = d + 1 + h, row i = (W_i (d), b_i, R_i (h)) -- one row
per neuron, so ESP's neuron subpopulations are the rows and CoSyNE's weight subpopulations the
entries. Deviation: the ESP papers do not always give the activation; both are offered, logistic
by default (ESP's code).

Examples:
    >>> import numpy as np
    >>> from rnnai.envs.pole import SINGLE_POLE, initial_state
    >>> from rnnai.evolution import RecurrentNetSpec, rollout
    >>> spec = RecurrentNetSpec(n_inputs=4, n_neurons=1, activation="tanh")
    >>> spec.dim                       # 4 inputs + bias + 1 recurrent weight
    6
    >>> genomes = np.random.default_rng(0).normal(size=(3, spec.dim))
    >>> starts = np.tile(initial_state(SINGLE_POLE), (3, 1))
    >>> rollout(spec, genomes, SINGLE_POLE, starts, 100).steps.shape
    (3,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnai.envs.fitness import DAMPING_WINDOW
from rnnai.envs.pole import (
    PoleConfig,
    advance,
    is_failure,
    observation_indices,
    observation_scale,
    observe,
    physics_params,
)
from rnnai.evolution import _kernels
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ACTIVATIONS",
    "RecurrentNet",
    "RecurrentNetSpec",
    "RolloutResult",
    "rollout",
    "trajectory",
]

ACTIVATIONS = ("sigmoid", "tanh")
"""Neuron squashing functions: ESP's logistic sigmoid, or tanh."""


@dataclass(frozen=True, kw_only=True)
class RecurrentNetSpec:
    """Shape of a fully recurrent controller."""

    n_inputs: int
    """d, observed state variables (4 or 6 Markov, 2 or 3 without velocities)."""
    n_neurons: int = 1
    """h, neurons in the fully recurrent layer (neuron 0 is the output)."""
    activation: str = "sigmoid"
    """"sigmoid" (ESP's logistic neurons) or "tanh"."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("n_inputs", "n_neurons"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise RnnaiError(f"{name} must be an int >= 1, got {v!r}")
        if self.activation not in ACTIVATIONS:
            raise RnnaiError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")

    @property
    def neuron_dim(self) -> int:
        """L = d + 1 + h, weights per neuron (inputs, bias, recurrent)."""
        return self.n_inputs + 1 + self.n_neurons

    @property
    def dim(self) -> int:
        """Genome length h * L."""
        return self.n_neurons * self.neuron_dim

    def weights(self, genomes: np.ndarray) -> np.ndarray:
        """Reshape genomes (P, dim) into the kernel's (P, h, L) layout.

        Raises:
            RnnaiError: If the genomes do not have shape (P, dim).
        """
        g = np.ascontiguousarray(genomes, dtype=np.float64)
        if g.ndim != 2 or g.shape[1] != self.dim:
            raise RnnaiError(f"genomes must have shape (P, {self.dim}), got {g.shape}")
        return g.reshape(g.shape[0], self.n_neurons, self.neuron_dim)  # (P, h, L)


class RecurrentNet:
    """One network as a stateful single policy: obs (d,) -> action in [-1, 1].

    For plots and for cross-checks with `rnnai.envs.fitness` (the evaluation itself runs in
    `rnnai.evolution._kernels.rollout_recurrent`). Call `reset` before a new episode.

    Args:
        spec: The network shape.
        genome: (dim,) weights.
    """

    def __init__(self, spec: RecurrentNetSpec, genome: np.ndarray) -> None:
        w = spec.weights(np.reshape(genome, (1, -1)))[0]  # (h, L)
        d = spec.n_inputs
        self.spec = spec
        self.W, self.b, self.R = w[:, :d], w[:, d], w[:, d + 1 :]
        self.a = np.zeros(spec.n_neurons)

    def reset(self) -> None:
        """Zero the activations (a(0) = 0)."""
        self.a = np.zeros(self.spec.n_neurons)

    def __call__(self, obs: np.ndarray) -> float:
        """One step: update the activations and return u in [-1, 1]."""
        h, d = self.spec.n_neurons, self.spec.n_inputs
        a_new = np.empty(h)
        for i in range(h):
            z = float(self.b[i])  # the kernel's summation order
            for j in range(d):
                z += self.W[i, j] * obs[j]
            for j in range(h):
                z += self.R[i, j] * self.a[j]
            if self.spec.activation == "sigmoid":
                a_new[i] = 1.0 / (1.0 + math.exp(-z))
            else:
                a_new[i] = math.tanh(z)
        self.a = a_new
        return 2.0 * a_new[0] - 1.0 if self.spec.activation == "sigmoid" else float(a_new[0])


@dataclass(frozen=True, kw_only=True)
class RolloutResult:
    """Outcome of `rollout`."""

    steps: np.ndarray
    """(P,) int64 steps balanced."""
    damping_sum: np.ndarray
    """(P,) float64 sum of |x| + |x'| + |theta1| + |theta1'| over the last 100 balanced states
    (zeros unless requested)."""


def rollout(
    spec: RecurrentNetSpec,
    genomes: np.ndarray,
    config: PoleConfig,
    starts: np.ndarray,
    max_steps: int,
    *,
    damping: bool = False,
    python: bool = False,
) -> RolloutResult:
    """Run network p from start state p (or every network from one start) for one episode.

    Args:
        spec: The network shape (``spec.n_inputs`` must equal ``config.obs_dim``).
        genomes: (P, dim) weights.
        config: The cart-pole system and observation.
        starts: (P, 6) raw start states, or (6,) for all.
        max_steps: Most actions per episode.
        damping: Also compute the damping sum over the last 100 balanced states.
        python: Use the plain-Python twin (slow; for tests).

    Returns:
        A `RolloutResult`.

    Raises:
        RnnaiError: On mismatched shapes or an observation size the network cannot take.
    """
    if spec.n_inputs != config.obs_dim:
        raise RnnaiError(
            f"the network takes {spec.n_inputs} inputs but the task observes {config.obs_dim}"
        )
    w = spec.weights(genomes)
    P = w.shape[0]
    s = np.asarray(starts, dtype=np.float64)
    if s.shape == (6,):
        s = np.tile(s, (P, 1))
    if s.shape != (P, 6):
        raise RnnaiError(f"starts must have shape ({P}, 6) or (6,), got {s.shape}")
    s = np.ascontiguousarray(s)
    steps = np.zeros(P, dtype=np.int64)
    damping_sum = np.zeros(P, dtype=np.float64)
    fn = _kernels.rollout_recurrent_py if python else _kernels.rollout_recurrent
    fn(
        w,
        spec.activation == "sigmoid",
        s,
        np.asarray(observation_indices(config.n_poles, config.markov), dtype=np.int64),
        observation_scale(config),
        config.n_poles,
        physics_params(config),
        float(config.force_mag),
        float(config.min_force),
        float(config.tau),
        int(config.substeps),
        float(config.track_limit),
        float(config.failure_angle),
        int(max_steps),
        DAMPING_WINDOW if damping else 0,
        steps,
        damping_sum,
    )
    return RolloutResult(steps=steps, damping_sum=damping_sum)


def trajectory(
    spec: RecurrentNetSpec,
    genome: np.ndarray,
    config: PoleConfig,
    start: np.ndarray,
    max_steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Record one episode of one network (for plots).

    Args:
        spec: The network shape.
        genome: (dim,) weights.
        config: The system.
        start: (6,) raw start state.
        max_steps: Most actions.

    Returns:
        ``(states, actions)``: (T + 1, 6) raw states from the start on, (T,) actions u; T is
        the number of actions taken (the episode stops at the first failure, which is included).
    """
    net = RecurrentNet(spec, genome)
    state = np.asarray(start, dtype=np.float64).copy()
    states, actions = [state.copy()], []
    for _ in range(max_steps):
        u = net(observe(state, config))
        state = advance(state, u, config)
        states.append(state.copy())
        actions.append(u)
        c = config
        if is_failure(state[0], state[2], state[4], c.n_poles, c.track_limit, c.failure_angle):
            break
    return np.array(states), np.array(actions)
