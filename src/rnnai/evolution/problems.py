"""Pole-balancing fitness problems of the neuroevolution papers, as `rnnai.evolution.core.Problem`s.

Citations:
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. JMLR 9:937-965, 2008 (Section 5: the pole-balancing
    benchmarks compared across ESP, NEAT, CMA-ES and CoSyNE).
    F. Gruau, D. Whitley and L. Pyeatt. A comparison between cellular encoding and direct
    encoding for genetic neural networks. GP 1996 (the damping fitness and the 625-start
    generalization test of the double pole without velocities).

Tasks (physics and constants: `rnnai.envs.pole`; fitness functions: `rnnai.envs.fitness`):

* `SinglePoleMarkov`: one pole, full state (x, x', theta1, theta1'); fitness = steps balanced
  from the 4-degree start, at most 100,000; solved at 100,000.
* `DoublePoleMarkov`: two poles, full state (6 inputs); same fitness and success.
* `DoublePoleNonMarkov`: two poles, (x, theta1, theta2) only; Gruau's damping fitness over 1000
  steps, ``f = 0.1 t/1000 + 0.9 * 0.75 / sum_{last 100 steps}(|x|+|x'|+|theta1|+|theta1'|)``
  (``fitness="steps"``: the standard fitness instead); `solved` = balances 100,000 steps from
  the start; `generalization` = the 625-start test (1000 steps from each, pass at 200).

Networks (`rnnai.evolution.networks`): a single fully recurrent layer of ``n_neurons`` neurons
whose neuron 0 is the output, plus a bias per neuron. Defaults: one neuron for the Markov tasks
(the networks the CoSyNE paper's Markov comparison could use; a single neuron is a linear state
feedback through a squashing function, enough to balance) and five for the non-Markov task (ESP's
size for this task; the CoSyNE paper's exact sizes could not be checked here, so they are
parameters). Fitness evaluation runs network and physics together in numba.

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import make_problem
    >>> problem = make_problem("double_pole_markov", n_neurons=1, success_steps=1_000)
    >>> problem.dim, problem.target_fitness        # 6 inputs + bias + 1 recurrent weight
    (8, 1000.0)
    >>> fitness = problem.evaluate(np.zeros((2, problem.dim)))   # steps balanced
    >>> fitness.shape, bool(np.all(fitness < 1_000))
    ((2,), True)
"""

from __future__ import annotations

import numpy as np

from rnnai.envs.fitness import (
    DAMPING_STEPS,
    GENERALIZATION_STEPS,
    GENERALIZATION_THRESHOLD,
    SUCCESS_STEPS,
    GeneralizationResult,
    damping_fitness_value,
    generalization_starts,
)
from rnnai.envs.pole import (
    DOUBLE_POLE,
    DOUBLE_POLE_NONMARKOV,
    SINGLE_POLE,
    PoleConfig,
    initial_state,
)
from rnnai.evolution.core import Problem, check_genomes
from rnnai.evolution.networks import RecurrentNetSpec, rollout
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "PROBLEMS",
    "DoublePoleMarkov",
    "DoublePoleNonMarkov",
    "PoleProblem",
    "SinglePoleMarkov",
    "make_problem",
]


class PoleProblem(Problem):
    """Cart-pole balancing with a fully recurrent network; fitness = steps balanced.

    Args:
        config: The cart-pole system and observation.
        n_neurons: Neurons of the fully recurrent layer.
        activation: "sigmoid" or "tanh".
        success_steps: Steps to balance for success (the papers' 100,000; fewer for smoke
            tests). Also caps the fitness episodes.

    Attributes:
        config: The system.
        spec: The network shape.
        success_steps: Steps to balance for success.
        dim: Genome length.
        target_fitness: ``success_steps`` (reaching it solves the task).
    """

    def __init__(
        self,
        config: PoleConfig,
        n_neurons: int = 1,
        activation: str = "sigmoid",
        success_steps: int = SUCCESS_STEPS,
    ) -> None:
        if isinstance(success_steps, bool) or not isinstance(success_steps, int):
            raise RnnaiError(f"success_steps must be an int, got {success_steps!r}")
        if success_steps < 1:
            raise RnnaiError(f"success_steps must be >= 1, got {success_steps}")
        self.config = config
        self.spec = RecurrentNetSpec(
            n_inputs=config.obs_dim, n_neurons=n_neurons, activation=activation
        )
        self.success_steps = success_steps
        self.dim = self.spec.dim
        self.target_fitness = float(success_steps)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_neurons={self.spec.n_neurons}, "
            f"activation={self.spec.activation!r}, success_steps={self.success_steps})"
        )

    def steps(self, genomes: np.ndarray, max_steps: int) -> np.ndarray:
        """Steps balanced by each genome from the papers' start, at most ``max_steps``.

        Args:
            genomes: (P, dim).
            max_steps: Most steps.

        Returns:
            (P,) int64.
        """
        g = check_genomes(genomes, self.dim)
        return rollout(self.spec, g, self.config, initial_state(self.config), max_steps).steps

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Standard fitness: steps balanced (at most `success_steps`), (P,) float64."""
        return self.steps(genomes, self.success_steps).astype(np.float64)

    def solved(self, genome: np.ndarray) -> bool:
        """Whether the network balances `success_steps` steps from the papers' start."""
        g = np.reshape(np.asarray(genome, dtype=np.float64), (1, -1))
        return bool(self.steps(g, self.success_steps)[0] >= self.success_steps)


class SinglePoleMarkov(PoleProblem):
    """Single pole with velocities (4 inputs); fitness = steps balanced, solved at 100,000."""

    def __init__(
        self, n_neurons: int = 1, activation: str = "sigmoid", success_steps: int = SUCCESS_STEPS
    ) -> None:
        super().__init__(SINGLE_POLE, n_neurons, activation, success_steps)


class DoublePoleMarkov(PoleProblem):
    """Double pole with velocities (6 inputs); fitness = steps balanced, solved at 100,000."""

    def __init__(
        self, n_neurons: int = 1, activation: str = "sigmoid", success_steps: int = SUCCESS_STEPS
    ) -> None:
        super().__init__(DOUBLE_POLE, n_neurons, activation, success_steps)


class DoublePoleNonMarkov(PoleProblem):
    """Double pole without velocities (3 inputs); Gruau's damping fitness by default.

    Args:
        n_neurons: Neurons of the fully recurrent layer (5, as ESP).
        activation: "sigmoid" or "tanh".
        success_steps: Steps from the start to count as solved (100,000).
        fitness: "damping" (Gruau's, 1000-step episodes) or "steps" (standard).

    Attributes:
        fitness: The fitness function's name.
        target_fitness: None with the damping fitness (only `solved` can tell).
    """

    def __init__(
        self,
        n_neurons: int = 5,
        activation: str = "sigmoid",
        success_steps: int = SUCCESS_STEPS,
        fitness: str = "damping",
    ) -> None:
        super().__init__(DOUBLE_POLE_NONMARKOV, n_neurons, activation, success_steps)
        if fitness not in ("damping", "steps"):
            raise RnnaiError(f"fitness must be 'damping' or 'steps', got {fitness!r}")
        self.fitness = fitness
        if fitness == "damping":
            self.target_fitness = None

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", fitness={self.fitness!r})"

    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Damping fitness over 1000 steps (or steps balanced), (P,) float64."""
        if self.fitness == "steps":
            return super().evaluate(genomes)
        g = check_genomes(genomes, self.dim)
        res = rollout(
            self.spec,
            g,
            self.config,
            initial_state(self.config),
            DAMPING_STEPS,
            damping=True,
        )
        pairs = zip(res.steps, res.damping_sum, strict=True)
        return np.array([damping_fitness_value(int(t), float(s)) for t, s in pairs])

    def generalization(
        self,
        genome: np.ndarray,
        steps: int = GENERALIZATION_STEPS,
        threshold: int = GENERALIZATION_THRESHOLD,
    ) -> GeneralizationResult:
        """The 625-start generalization test (Gruau et al. 1996).

        Args:
            genome: (dim,) weights.
            steps: Steps to balance from each start (1000).
            threshold: Starts to pass (200 of 625).

        Returns:
            A `rnnai.envs.fitness.GeneralizationResult`.
        """
        g = check_genomes(np.reshape(genome, (1, -1)), self.dim)
        starts = generalization_starts(self.config)
        res = rollout(self.spec, np.repeat(g, starts.shape[0], axis=0), self.config, starts, steps)
        n = int(np.sum(res.steps >= steps))
        return GeneralizationResult(n_success=n, passed=n >= threshold, steps=res.steps)


PROBLEMS: dict[str, type[PoleProblem]] = {
    "single_pole": SinglePoleMarkov,
    "double_pole_markov": DoublePoleMarkov,
    "double_pole_nonmarkov": DoublePoleNonMarkov,
}
"""The pole tasks by name."""


def make_problem(name: str, **kwargs: object) -> PoleProblem:
    """Build a pole problem by name (`PROBLEMS`).

    Raises:
        RnnaiError: For an unknown name, listing the valid ones.
    """
    try:
        cls = PROBLEMS[name]
    except KeyError:
        raise RnnaiError(
            f"unknown pole problem {name!r}; choose one of {sorted(PROBLEMS)}"
        ) from None
    return cls(**kwargs)  # type: ignore[arg-type]
