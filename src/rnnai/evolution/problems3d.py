"""3D pole balancing with modular fast-weight controllers, as a `rnnai.evolution.core.Problem`.

Citation:
    F. Gomez and J. Schmidhuber. Evolving modular fast-weight networks for control. ICANN 2005,
    LNCS 3697, pp. 383-389 (fast-weight networks evolved to balance one or two poles through a
    3D joint).

Task (physics: `rnnai.envs.pole3d`): one or two poles on ball joints on a cart that moves in the
plane, pushed by a force (F_x, F_y). Fitness = steps balanced from the fixed start (long pole
tilted 4 degrees towards azimuth 45 degrees), at most ``success_steps`` (the planar benchmark's
100,000 by default); a genome that reaches it solves the task. Controller:
`rnnai.evolution.fastweights` (K linear modules mixed by a gate; the genome is (G, U, M_1..M_K)).
Evaluation runs controller and physics together in numba
(`rnnai.evolution._kernels.rollout_fastweight_pole3d`, twin ``..._py``).

Examples:
    >>> import numpy as np
    >>> from rnnai.envs.pole3d import SINGLE_POLE_3D
    >>> from rnnai.evolution import Pole3DProblem
    >>> problem = Pole3DProblem(SINGLE_POLE_3D, n_modules=2, success_steps=200)
    >>> fitness = problem.evaluate(np.zeros((2, problem.dim)))   # steps balanced
    >>> fitness.shape, problem.target_fitness
    ((2,), 200.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np

from rnnai.envs import pole3d
from rnnai.envs.pole3d import DOUBLE_POLE_3D, Pole3DConfig
from rnnai.evolution import _kernels
from rnnai.evolution.core import Problem, check_genomes
from rnnai.evolution.fastweights import FastWeightNet, FastWeightNetConfig
from rnnai.runtime.errors import RnnaiError

__all__ = ["Pole3DProblem"]


class Pole3DProblem(Problem):
    """Balance the 3D cart-pole with a modular fast-weight controller; fitness = steps balanced.

    Args:
        config: The 3D system and observation (default: two poles, Markov).
        n_modules: K, linear modules of the controller.
        recurrent_gate: Whether the gate sees its previous output.
        success_steps: Steps to balance for success; also caps each episode.

    Attributes:
        config: The system.
        net: The controller's shape.
        success_steps: Steps to balance for success.
        dim: Genome length (``net.genome_size``).
        target_fitness: ``success_steps``.
    """

    def __init__(
        self,
        config: Pole3DConfig = DOUBLE_POLE_3D,
        n_modules: int = 2,
        recurrent_gate: bool = True,
        success_steps: int = 100_000,
    ) -> None:
        """Build the problem; bad sizes raise `RnnaiError`."""
        if isinstance(success_steps, bool) or not isinstance(success_steps, int):
            raise RnnaiError(f"success_steps must be an int, got {success_steps!r}")
        if success_steps < 1:
            raise RnnaiError(f"success_steps must be >= 1, got {success_steps}")
        self.config = config
        self.net = FastWeightNetConfig(
            n_inputs=config.obs_dim, n_outputs=2, n_modules=n_modules, recurrent_gate=recurrent_gate
        )
        self.success_steps = success_steps
        self.dim = self.net.genome_size
        self.target_fitness = float(success_steps)

    def _rollout_args(self) -> tuple:
        c, n = self.config, self.net
        return (
            n.n_inputs,
            n.n_outputs,
            n.n_modules,
            n.recurrent_gate,
            pole3d.initial_state3d(c),
            c.n_poles,
            c.markov,
            pole3d.physics_params3d(c),
            c.force_mag,
            c.tau,
            c.substeps,
            c.arena_limit,
            c.failure_angle,
            self.success_steps,
        )

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Steps balanced by each genome's controller, (P,) float64."""
        g = check_genomes(genomes, self.dim)
        steps = np.zeros(g.shape[0], dtype=np.int64)
        # numba's Dispatcher stub does not know the kernel's signature
        kernel = cast(Callable[..., None], _kernels.rollout_fastweight_pole3d)
        kernel(g, *self._rollout_args(), steps)
        return steps.astype(np.float64)

    def trajectory(self, genome: np.ndarray, max_steps: int) -> dict[str, np.ndarray]:
        """Run one episode in the gymnasium env and record it (for plots).

        Args:
            genome: (dim,) controller weights.
            max_steps: Most steps to record.

        Returns:
            ``state`` (T+1, 16) raw states, ``action`` (T, 2) and ``gate`` (T, K).
        """
        env = pole3d.Pole3DEnv(self.config)
        obs, info = env.reset()
        net = FastWeightNet(self.net, genome)
        states, actions, gates = [info["state"]], [], []
        for _ in range(max_steps):
            a = net(obs)
            obs, _, term, trunc, info = env.step(a)
            states.append(info["state"])
            actions.append(a)
            gates.append(net.gate.copy())
            if term or trunc:
                break
        return {
            "state": np.asarray(states),
            "action": np.asarray(actions).reshape(-1, 2),
            "gate": np.asarray(gates).reshape(-1, self.net.n_modules),
        }
