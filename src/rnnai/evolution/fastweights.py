"""Modular fast-weight controllers for neuroevolution (after Gomez & Schmidhuber 2005).

Citation:
    F. Gomez and J. Schmidhuber. Evolving modular fast-weight networks for control. ICANN 2005,
    LNCS 3697, pp. 383-389.
    J. Schmidhuber. Learning to control fast-weight memories: an alternative to dynamic recurrent
    networks. Neural Computation 4(1):131-139, 1992 (one net computes the weights of another).

Idea (from the paper's abstract; the full text was not available to us): most control tasks are
piecewise linear, so let a small evolved "slow" network decide, at every step, the weights of a
linear controller that acts on the observation. The controller's weights change as fast as the
observation does: they are fast weights. Our reading, with K linear modules M_k (m x (d+1)), a
gate G (K x (d+1)) and, optionally, recurrent gate weights U (K x K)::

    x~_t = (x_t, 1)                                  observation plus a bias input
    g_t  = softmax(G x~_t + U g_{t-1})               the slow net (g_0 = uniform)       (Eq. 1)
    W_t  = sum_k g_{t,k} M_k                         the fast weights                   (Eq. 2)
    y_t  = tanh(W_t x~_t)                            the action, in [-1, 1]^m          (Eq. 3)

With K = 1 this is a linear controller squashed by tanh; with K > 1 the gate switches smoothly
between linear controllers; U gives the gate a memory (for observations without velocities).
The genome is the concatenation (G, U, M_1, ..., M_K), row-major; `FastWeightNetConfig.genome_size`
gives its length.

`fastweight_step` is written with scalar loops so that numba compiles it unchanged for the
population kernels (``rnnai.evolution._kernels``); the plain-Python call is its twin.

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import FastWeightNet, FastWeightNetConfig
    >>> config = FastWeightNetConfig(n_inputs=4, n_outputs=2, n_modules=2)
    >>> config.genome_size            # G (2 x 5) + U (2 x 2) + 2 modules (2 x 5)
    34
    >>> net = FastWeightNet(config, np.random.default_rng(0).normal(size=34))
    >>> action = net(np.zeros(4))
    >>> action.shape, bool(np.all(np.abs(action) <= 1)), round(float(net.gate.sum()), 6)
    ((2,), True, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = ["FastWeightNetConfig", "FastWeightNet", "fastweight_step"]


@dataclass(frozen=True, kw_only=True)
class FastWeightNetConfig:
    """Shape of a modular fast-weight controller."""

    n_inputs: int
    """d, the observation size (the bias input is added)."""
    n_outputs: int
    """m, the action size."""
    n_modules: int = 2
    """K, the number of linear modules the gate mixes."""
    recurrent_gate: bool = True
    """Whether the gate sees its own previous output (U in Eq. 1)."""

    def __post_init__(self) -> None:
        """Validate the sizes and raise `RnnaiError` on a bad one."""
        for name in ("n_inputs", "n_outputs", "n_modules"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RnnaiError(f"{name} must be an int >= 1, got {value!r}")

    @property
    def genome_size(self) -> int:
        """Length of a genome: K (d+1) + [K K] + K m (d+1)."""
        d1, k = self.n_inputs + 1, self.n_modules
        return k * d1 + (k * k if self.recurrent_gate else 0) + k * self.n_outputs * d1


def fastweight_step(
    genome: np.ndarray,
    n_inputs: int,
    n_outputs: int,
    n_modules: int,
    recurrent: bool,
    x: np.ndarray,
    gate: np.ndarray,
    action: np.ndarray,
) -> None:
    """One step of Eqs. 1-3, in place: updates ``gate`` (K,) and writes ``action`` (m,).

    Args:
        genome: (genome_size,) float64, the layout of the module docstring.
        n_inputs: d.
        n_outputs: m.
        n_modules: K.
        recurrent: Whether the genome holds U.
        x: (d,) observation.
        gate: (K,) g_{t-1} on entry, g_t on return.
        action: (m,) output buffer, y_t on return.
    """
    d1 = n_inputs + 1
    k_n = n_modules
    u_off = k_n * d1
    m_off = u_off + (k_n * k_n if recurrent else 0)
    # Eq. 1: gate pre-activations, then a numerically stable softmax.
    z = np.empty(k_n)
    for k in range(k_n):
        s = genome[k * d1 + n_inputs]  # bias
        for j in range(n_inputs):
            s += genome[k * d1 + j] * x[j]
        if recurrent:
            for j in range(k_n):
                s += genome[u_off + k * k_n + j] * gate[j]
        z[k] = s
    zmax = z[0]
    for k in range(1, k_n):
        zmax = max(zmax, z[k])
    total = 0.0
    for k in range(k_n):
        z[k] = math.exp(z[k] - zmax)
        total += z[k]
    for k in range(k_n):
        gate[k] = z[k] / total
    # Eqs. 2-3: y_i = tanh(sum_k g_k (M_k x~)_i).
    for i in range(n_outputs):
        s = 0.0
        for k in range(k_n):
            row = m_off + (k * n_outputs + i) * d1
            a = genome[row + n_inputs]
            for j in range(n_inputs):
                a += genome[row + j] * x[j]
            s += gate[k] * a
        action[i] = math.tanh(s)


class FastWeightNet:
    """A modular fast-weight controller with its state, for stepping one episode in Python.

    Call `reset` before a new episode; calling the net with an observation returns the action
    and advances the gate (see the module's example).
    """

    def __init__(self, config: FastWeightNetConfig, genome: np.ndarray) -> None:
        """Bind a genome to a shape.

        Args:
            config: The controller's shape.
            genome: (config.genome_size,) finite values.

        Raises:
            RnnaiError: If the genome has the wrong length or holds NaN/inf.
        """
        g = np.asarray(genome, dtype=np.float64).reshape(-1)
        if g.shape[0] != config.genome_size:
            raise RnnaiError(
                f"genome must have {config.genome_size} values for {config}, got {g.shape[0]}"
            )
        if not np.all(np.isfinite(g)):
            raise RnnaiError("genome holds NaN or infinity")
        self.config = config
        self.genome = g
        self.gate = np.full(config.n_modules, 1.0 / config.n_modules)

    def reset(self) -> None:
        """Forget the gate's memory (g_0 = uniform)."""
        self.gate[:] = 1.0 / self.config.n_modules

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        """Return the action for one observation (d,) and advance the gate."""
        c = self.config
        x = np.asarray(observation, dtype=np.float64).reshape(-1)
        if x.shape[0] != c.n_inputs:
            raise RnnaiError(f"observation must have {c.n_inputs} values, got {x.shape[0]}")
        action = np.empty(c.n_outputs)
        fastweight_step(
            self.genome,
            c.n_inputs,
            c.n_outputs,
            c.n_modules,
            c.recurrent_gate,
            x,
            self.gate,
            action,
        )
        return action
