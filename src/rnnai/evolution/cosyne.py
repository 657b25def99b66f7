"""CoSyNE: cooperative synapse neuroevolution, as an ask/tell searcher.

Citation:
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. Journal of Machine Learning Research 9:937-965, 2008
    (Section 3, Algorithm 1 and Eq. 1).

Algorithm. A network has n weights; the population is an m x n matrix P whose column i is the
subpopulation P_i of weight i and whose row j is network x_j = (x_j1, ..., x_jn). Each
generation (Algorithm 1):

1. evaluate every network x_j, giving f(x_j) (also credited to each of its weights: f(x_ij));
2. ``O <- Recombine(P)``: the top quarter of the networks are crossed over (one-point) and
   mutated (each weight, with probability ``mutation_rate``, gets Cauchy noise of scale
   ``mutation_scale``) into l offspring networks;
3. the offspring replace the l least fit networks (their weights enter every subpopulation);
4. every subpopulation is permuted: the weights of the surviving networks are each *marked* with
   probability (Eq. 1)::

       Pr(x_ij) = 1 - ((f(x_ij) - f_min) / (f_max - f_min)) ** (1 / n)

   and the marked weights of P_i are shuffled among themselves (a random permutation), so that
   the next generation's networks are new combinations. The n-th root makes the probability that
   network j keeps all its weights together exactly its normalized fitness; the best network is
   never broken up (Pr = 0). With ``permute_all`` every survivor is marked (the paper's simpler
   variant).

Deviations and choices: the paper's typeset Eq. 1 could not be checked here; another reading,
``(1 - (f - f_min)/(f_max - f_min)) ** (1/n)``, would mark almost every weight of a large
network. We use the form above, the one whose n-th root has a meaning (the chance
that a network survives intact equals its normalized fitness). Offspring (whose fitness is not
known yet) are never marked. When all survivors have the same fitness, all are marked. Infinite
fitness values are clipped to the largest finite one for the normalization. l defaults to
m minus the top quarter (every network but the top quarter is replaced each generation); the
crossover is one-point between two parents drawn from the top quarter; weights start uniform in
[-init_range, init_range]. The paper's constants for the pole tasks could not be checked here;
ours were set on the Markov double pole (measured with 6 seeds, 5,000 evaluations each: with
l = m/4 and mutation rate 0.3 the population collapsed onto one network and only 1-2 of 6 runs
solved; with l = 3m/4 and rate 0.8, 6 of 6; with noise scale 0.6, 8 of 8 on other seeds).

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import CoSyNE, CoSyNEConfig, marking_probability
    >>> marking_probability(np.array([3.0, 2.0, 1.0]), n=1).tolist()   # best never broken up
    [0.0, 0.5, 1.0]
    >>> s = CoSyNE(4, CoSyNEConfig(population=8), rng=np.random.default_rng(0))
    >>> pop = s.ask()
    >>> s.tell(-np.abs(pop).sum(axis=1))
    >>> pop.shape, s.evaluations, s.population.shape
    ((8, 4), 8, (8, 4))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnai.evolution.core import Searcher
from rnnai.runtime.errors import RnnaiError

__all__ = ["CoSyNE", "CoSyNEConfig", "marking_probability"]


@dataclass(frozen=True, kw_only=True)
class CoSyNEConfig:
    """CoSyNE's parameters."""

    population: int = 20
    """m, networks per generation (= the size of every weight subpopulation)."""
    top_fraction: float = 0.25
    """Fraction of the networks (the fittest) that recombine (the paper's top quarter)."""
    offspring: int | None = None
    """l, offspring per generation replacing the worst l networks; None: all but the top
    quarter (m - top quarter)."""
    mutation_rate: float = 0.8
    """Probability that an offspring weight is mutated."""
    mutation_scale: float = 0.6
    """Scale alpha of the Cauchy mutation noise."""
    init_range: float = 3.0
    """Initial weights uniform in [-init_range, init_range]."""
    permute_all: bool = False
    """Mark every surviving weight for permutation instead of using Eq. 1."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        if isinstance(self.population, bool) or not isinstance(self.population, int):
            raise RnnaiError(f"population must be an int, got {self.population!r}")
        if self.population < 4:
            raise RnnaiError(f"population must be >= 4, got {self.population}")
        if not 0.0 < self.top_fraction <= 1.0:
            raise RnnaiError(f"top_fraction must lie in (0, 1], got {self.top_fraction}")
        if self.offspring is not None and not 1 <= self.offspring < self.population:
            raise RnnaiError(
                f"offspring must lie in [1, population), got {self.offspring} "
                f"for population {self.population}"
            )
        if not 0.0 <= self.mutation_rate <= 1.0:
            raise RnnaiError(f"mutation_rate must lie in [0, 1], got {self.mutation_rate}")
        if self.mutation_scale < 0 or self.init_range <= 0:
            raise RnnaiError("mutation_scale must be >= 0 and init_range > 0")

    @property
    def n_parents(self) -> int:
        """Size of the top quarter (at least 2)."""
        return max(2, int(round(self.top_fraction * self.population)))

    @property
    def n_offspring(self) -> int:
        """l, offspring per generation."""
        if self.offspring is not None:
            return self.offspring
        return max(1, self.population - self.n_parents)


def marking_probability(fitness: np.ndarray, n: int) -> np.ndarray:
    """Eq. 1: the probability of marking each network's weights for permutation.

    ``Pr_j = 1 - ((f_j - f_min) / (f_max - f_min)) ** (1/n)``; 1 for every network when all
    fitness values are equal; +-inf are clipped to the extreme finite values.

    Args:
        fitness: (m,) fitness of the networks the weights took part in.
        n: Number of weights per network (subpopulations).

    Returns:
        (m,) probabilities in [0, 1]; 0 for the best network, 1 for the worst.
    """
    f = np.asarray(fitness, dtype=np.float64)
    finite = f[np.isfinite(f)]
    if finite.size == 0:
        return np.ones_like(f)
    f = np.clip(f, finite.min(), finite.max())
    lo, hi = f.min(), f.max()
    if hi == lo:
        return np.ones_like(f)
    ratio = (f - lo) / (hi - lo)
    return 1.0 - ratio ** (1.0 / n)  # Eq. 1


class CoSyNE(Searcher):
    """Cooperative synapse neuroevolution (Gomez, Schmidhuber & Miikkulainen 2008).

    Args:
        dim: n, weights per network.
        config: The parameters (default `CoSyNEConfig()`).
        rng: The searcher's own generator (required: all its randomness comes from it).

    Raises:
        RnnaiError: If ``rng`` is not a `numpy.random.Generator`.

    Attributes:
        population: (m, n) current networks (row j = network j; column i = subpopulation P_i).
    """

    name = "cosyne"

    def __init__(
        self, dim: int, config: CoSyNEConfig | None = None, *, rng: np.random.Generator
    ) -> None:
        super().__init__(dim, rng)
        self.config = config if config is not None else CoSyNEConfig()
        c = self.config
        self.population = self.rng.uniform(-c.init_range, c.init_range, (c.population, self.dim))

    def _ask(self) -> np.ndarray:
        return self.population.copy()

    def _recombine(self, parents: np.ndarray, l_: int) -> np.ndarray:
        """l offspring of the top-quarter networks: one-point crossover, then Cauchy mutation."""
        c, n = self.config, self.dim
        out = np.empty((l_, n))
        k = 0
        while k < l_:
            a, b = self.rng.choice(parents.shape[0], size=2, replace=False)
            cut = int(self.rng.integers(1, n)) if n > 1 else 0
            for child in (
                np.concatenate([parents[a, :cut], parents[b, cut:]]),
                np.concatenate([parents[b, :cut], parents[a, cut:]]),
            ):
                if k < l_:
                    out[k] = child
                    k += 1
        mutate = self.rng.random((l_, n)) < c.mutation_rate
        out += mutate * c.mutation_scale * self.rng.standard_cauchy((l_, n))
        return out

    def _tell(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        c = self.config
        m, n = genomes.shape
        order = np.argsort(-fitness, kind="stable")  # best first
        P = genomes[order]  # (m, n) sorted networks
        f = fitness[order]
        l_ = c.n_offspring
        offspring = self._recombine(P[: c.n_parents], l_)
        P[m - l_ :] = offspring  # replace the l least fit
        survivors = m - l_
        if c.permute_all:
            prob = np.ones(survivors)
        else:
            prob = marking_probability(f[:survivors], n)
        for i in range(n):  # permute each subpopulation P_i
            marked = np.flatnonzero(self.rng.random(survivors) < prob)
            if marked.size > 1:
                P[marked, i] = P[self.rng.permutation(marked), i]
        self.population = P

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the population matrix and the config."""
        return super().state_dict() | {
            "population": self.population.copy(),
            "config": asdict(self.config),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict` (the config must match)."""
        super().load_state_dict(state)
        if state.get("config") != asdict(self.config):
            raise RnnaiError(f"CoSyNE state has config {state.get('config')}, not {self.config}")
        self.population = np.array(state["population"], dtype=np.float64)
