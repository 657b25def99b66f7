"""The ask/tell core of the evolution family: problems, evaluators and searchers.

Design after EvoTorch's functional algorithms (and the classic ask/tell loop of pycma): a
`Problem` is a picklable, deterministic fitness function over real vectors (higher is better);
a `Searcher` proposes a population with `Searcher.ask`, receives its fitness with
`Searcher.tell`, and `Searcher.step` glues both through an `Evaluator`. Evaluators decide *where*
a population is evaluated: `LocalEvaluator` in-process; ``rnnai.evolution.distributed`` on Ray
workers. Because a problem has no hidden randomness and a searcher draws all its random numbers
from its own `numpy.random.Generator`, a run gives the same result whichever evaluator it uses.

Checkpoints: `Searcher.state_dict` returns a structure of JSON scalars, lists, dicts and numpy
arrays (the generator's state included) that `rnnai.runtime.checkpoint.pack_state` stores in one
safetensors file; `Searcher.load_state_dict` restores it so that the resumed run continues with
exactly the same numbers. Nothing is ever pickled.

The run loop with success tests, budgets and checkpoints is `rnnai.evolution.runs.evolve`.

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import CoSyNE, LocalEvaluator, Problem
    >>> class Sphere(Problem):
    ...     dim = 2
    ...     def evaluate(self, genomes):
    ...         return -np.sum(genomes ** 2, axis=1)
    >>> searcher = CoSyNE(2, rng=np.random.default_rng(0))
    >>> genomes = searcher.ask()                       # ask / tell by hand ...
    >>> searcher.tell(LocalEvaluator()(Sphere(), genomes))
    >>> best = searcher.step(Sphere())                 # ... or one generation at once
    >>> searcher.generation, searcher.evaluations, searcher.last_fitness.shape
    (2, 40, (20,))
"""

from __future__ import annotations

import abc
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import numpy_rng_state, set_numpy_rng_state

__all__ = [
    "EvaluationError",
    "Evaluator",
    "LocalEvaluator",
    "Problem",
    "Searcher",
    "check_fitness",
    "check_genomes",
]


class EvaluationError(RnnaiError):
    """A problem or an evaluator returned something that is not a fitness vector."""


def check_genomes(genomes: Any, dim: int) -> np.ndarray:
    """Return ``genomes`` as a C-contiguous (P, dim) float64 array of finite values.

    Args:
        genomes: The population, one genome per row.
        dim: The problem's dimension.

    Returns:
        The population as float64.

    Raises:
        EvaluationError: Naming the expected and received shape, or the first non-finite row.
    """
    arr = np.ascontiguousarray(np.asarray(genomes, dtype=np.float64))
    if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] < 1:
        raise EvaluationError(f"genomes must have shape (P, {dim}) with P >= 1, got {arr.shape}")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise EvaluationError(f"genome {int(np.argmax(bad))} holds NaN or infinity")
    return arr


def check_fitness(fitness: Any, n: int) -> np.ndarray:
    """Return ``fitness`` as a (n,) float64 array without NaN.

    Infinite values are allowed (+inf: a perfect score, e.g. a damping sum of exactly 0).

    Args:
        fitness: The values returned by a problem or an evaluator.
        n: The population size.

    Returns:
        The values as float64.

    Raises:
        EvaluationError: Naming the expected and received shape, or the first NaN.
    """
    try:
        arr = np.asarray(fitness, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise EvaluationError(f"fitness must be numbers, got {type(fitness).__name__}") from err
    if arr.shape != (n,):
        raise EvaluationError(f"fitness must have shape ({n},), got {arr.shape}")
    if np.isnan(arr).any():
        raise EvaluationError(f"fitness {int(np.argmax(np.isnan(arr)))} is NaN")
    return arr


class Problem(abc.ABC):
    """A picklable fitness function over real vectors. Higher fitness is better.

    Subclasses set `dim` and implement `evaluate`; they must be deterministic given the genomes
    (no hidden randomness) and picklable (plain attributes only), so that a population can be
    split over processes or machines and give the same numbers.

    Attributes:
        dim: Length of a genome.
        target_fitness: A fitness at or above which a genome solves the task without a further
            test (e.g. 100,000 steps balanced), or None when only `solved` can tell.
    """

    dim: int
    target_fitness: float | None = None

    @abc.abstractmethod
    def evaluate(self, genomes: np.ndarray) -> np.ndarray:
        """Fitness of each genome.

        Args:
            genomes: (P, dim) float64.

        Returns:
            (P,) float64, higher is better.
        """

    def solved(self, genome: np.ndarray) -> bool:
        """The paper's success test for one genome (default: fitness >= `target_fitness`).

        Args:
            genome: (dim,) float64.

        Returns:
            Whether the genome solves the task.

        Raises:
            NotImplementedError: When the problem has neither a test nor a target fitness.
        """
        if self.target_fitness is None:
            raise NotImplementedError(f"{type(self).__name__} has no success test")
        g = check_genomes(np.reshape(genome, (1, -1)), self.dim)
        return bool(self.evaluate(g)[0] >= self.target_fitness)


@runtime_checkable
class Evaluator(Protocol):
    """Evaluates a population of a problem somewhere (in-process, on Ray workers, ...)."""

    def __call__(self, problem: Problem, genomes: np.ndarray) -> np.ndarray:
        """Return ``problem.evaluate(genomes)``, (P,) float64, in the genomes' order."""
        ...


class LocalEvaluator:
    """In-process evaluator: ``problem.evaluate(genomes)`` with shape and value checks."""

    def __call__(self, problem: Problem, genomes: np.ndarray) -> np.ndarray:
        """Evaluate a population in this process.

        Args:
            problem: The problem.
            genomes: (P, problem.dim) genomes.

        Returns:
            (P,) float64 fitness.

        Raises:
            EvaluationError: If the genomes or the returned fitness are malformed.
        """
        g = check_genomes(genomes, problem.dim)
        return check_fitness(problem.evaluate(g), g.shape[0])

    def __repr__(self) -> str:
        return "LocalEvaluator()"


class Searcher(abc.ABC):
    """Base class of the ask/tell searchers (maximizing fitness).

    Subclasses implement `_ask` and `_tell` and extend `state_dict` / `load_state_dict` with
    their own state. The base class keeps the generation and evaluation counters, the best
    genome and fitness seen so far, and the generator.

    Args:
        dim: Genome length.
        rng: The searcher's own generator (all its randomness comes from it).

    Attributes:
        dim: Genome length.
        rng: The generator.
        generation: Completed ask/tell rounds.
        evaluations: Fitness evaluations told so far.
        best_genome: The best genome told so far ((dim,) float64), or None.
        best_fitness: Its fitness (-inf before the first tell).
        last_genomes: The population of the last `tell` ((P, dim)), or None.
        last_fitness: Its fitness ((P,)), or None.
    """

    name: str = "searcher"

    def __init__(self, dim: int, rng: np.random.Generator) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise RnnaiError(f"dim must be an int >= 1, got {dim!r}")
        if not isinstance(rng, np.random.Generator):
            raise RnnaiError(
                f"{self.name} needs its own generator: rng must be a numpy.random.Generator "
                f"(e.g. numpy.random.default_rng(seed)), got {type(rng).__name__}"
            )
        self.dim = int(dim)
        self.rng = rng
        self.generation = 0
        self.evaluations = 0
        self.best_genome: np.ndarray | None = None
        self.best_fitness = -np.inf
        self.last_genomes: np.ndarray | None = None
        self.last_fitness: np.ndarray | None = None
        self._pending: np.ndarray | None = None

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> np.ndarray:
        """Propose the next population.

        Returns:
            (P, dim) float64 genomes; call `tell` with their fitness before the next `ask`.

        Raises:
            RnnaiError: If the previous population was not told yet.
        """
        if self._pending is not None:
            raise RnnaiError(f"{self.name}: tell() the fitness of the last ask() first")
        genomes = np.ascontiguousarray(self._ask(), dtype=np.float64)
        self._pending = genomes
        return genomes.copy()

    def tell(self, fitness: np.ndarray) -> None:
        """Receive the fitness of the population returned by the last `ask`.

        Args:
            fitness: (P,) fitness, higher is better (NaN is an error; +-inf are allowed).

        Raises:
            RnnaiError: If there was no `ask`, or the fitness has the wrong shape or NaN.
        """
        if self._pending is None:
            raise RnnaiError(f"{self.name}: ask() before tell()")
        genomes = self._pending
        f = check_fitness(fitness, genomes.shape[0])
        k = int(np.argmax(f))
        if f[k] > self.best_fitness or self.best_genome is None:
            self.best_fitness = float(f[k])
            self.best_genome = genomes[k].copy()
        self.last_genomes = genomes.copy()
        self.last_fitness = f
        self._tell(genomes, f)
        self._pending = None
        self.evaluations += genomes.shape[0]
        self.generation += 1

    def step(self, problem: Problem, evaluator: Evaluator | None = None) -> float:
        """One generation: ask, evaluate, tell.

        Args:
            problem: The problem (its `dim` must match).
            evaluator: Where to evaluate; `LocalEvaluator` when None.

        Returns:
            The best fitness of this generation's population.
        """
        if problem.dim != self.dim:
            raise RnnaiError(f"problem has dim {problem.dim}, searcher has dim {self.dim}")
        genomes = self.ask()
        ev = evaluator if evaluator is not None else LocalEvaluator()
        fitness = check_fitness(ev(problem, genomes), genomes.shape[0])
        self.tell(fitness)
        return float(fitness.max())

    @abc.abstractmethod
    def _ask(self) -> np.ndarray:
        """Return the next population (P, dim)."""

    @abc.abstractmethod
    def _tell(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        """Update the search state from a checked (P,) fitness vector."""

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The searcher's state: JSON scalars, lists, dicts and numpy arrays (no pickles).

        Returns:
            A dict that `load_state_dict` restores (store it with
            `rnnai.runtime.checkpoint.pack_state`).
        """
        return {
            "searcher": self.name,
            "dim": self.dim,
            "generation": self.generation,
            "evaluations": self.evaluations,
            "best_fitness": float(self.best_fitness),
            "best_genome": None if self.best_genome is None else self.best_genome.copy(),
            "pending": None if self._pending is None else self._pending.copy(),
            "rng": numpy_rng_state(self.rng),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state returned by `state_dict` (of the same kind of searcher and dim).

        Args:
            state: The state.

        Raises:
            RnnaiError: If it belongs to another searcher or dimension.
        """
        if state.get("searcher") != self.name or int(state.get("dim", -1)) != self.dim:
            raise RnnaiError(
                f"state is for searcher {state.get('searcher')!r} with dim {state.get('dim')}, "
                f"not {self.name!r} with dim {self.dim}"
            )
        self.generation = int(state["generation"])
        self.evaluations = int(state["evaluations"])
        self.best_fitness = float(state["best_fitness"])
        bg = state["best_genome"]
        self.best_genome = None if bg is None else np.array(bg, dtype=np.float64)
        pending = state.get("pending")
        self._pending = None if pending is None else np.array(pending, dtype=np.float64)
        set_numpy_rng_state(self.rng, state["rng"])
