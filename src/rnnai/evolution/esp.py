"""ESP: Enforced SubPopulations, neuron-level cooperative coevolution, as an ask/tell searcher.

Citations:
    F. Gomez and R. Miikkulainen. Solving non-Markovian control tasks with neuroevolution.
    IJCAI 1999, pp. 1356-1361 (ESP on the double pole without velocities).
    F. Gomez and R. Miikkulainen. Incremental evolution of complex general behavior. Adaptive
    Behavior 5:317-342, 1997 (ESP; burst mutation).
    F. Gomez, J. Schmidhuber and R. Miikkulainen. Accelerated neural evolution through
    cooperatively coevolved synapses. JMLR 9:937-965, 2008 (ESP as the baseline of the CoSyNE
    comparison).

Algorithm. A network of h neurons is evolved as h subpopulations of n neurons each; a neuron's
genome is its row of weights (inputs, bias, recurrent connections; see
`rnnai.evolution.networks`). Each generation:

1. *Evaluation*: networks are formed by drawing one neuron from every subpopulation; every
   neuron takes part in ``trials`` networks (here exactly: each round pairs the subpopulations
   through independent random permutations), so ``trials * n`` networks are evaluated.
2. *Credit*: a neuron's fitness is the average fitness of the networks it took part in.
3. *Recombination* within each subpopulation, sorted by fitness: every neuron of the top quarter
   is crossed over (one-point) with a neuron of higher or equal rank; the two offspring of each
   mating replace the bottom half. Each offspring weight is mutated with probability
   ``mutation_rate`` by Cauchy noise of scale ``mutation_scale``.
4. *Burst mutation*: when the best network has not improved for ``stagnation`` generations,
   every subpopulation is rebuilt around the best network's neuron: its exact copy plus n - 1
   copies perturbed by Cauchy noise of scale ``burst_scale`` (ESP's "delta coding" around the
   best solution).

Deviations: ESP's network-size adaptation after a second stagnation (lesioning or adding
neurons) is not done (the network shape is fixed by the problem); burst mutation keeps one
unperturbed copy of each best neuron; the constants (n, trials, mutation, stagnation) are
configurable and default to the values stated in the ESP papers as far as we know them
(10 trials per neuron, Cauchy alpha 0.3), not verified here.

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import ESP, ESPConfig
    >>> s = ESP(6, 2, ESPConfig(subpopulation=4, trials=2), rng=np.random.default_rng(0))
    >>> nets = s.ask()                    # trials * subpopulation networks of 2 neurons
    >>> s.tell(-np.abs(nets).sum(axis=1))
    >>> nets.shape, s.subpops.shape
    ((8, 6), (2, 4, 3))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnai.evolution.core import Searcher
from rnnai.runtime.errors import RnnaiError

__all__ = ["ESP", "ESPConfig"]


@dataclass(frozen=True, kw_only=True)
class ESPConfig:
    """ESP's parameters."""

    subpopulation: int = 20
    """n, neurons per subpopulation."""
    trials: int = 10
    """Networks each neuron takes part in per generation (trials * n networks are evaluated)."""
    mutation_rate: float = 0.4
    """Probability that an offspring weight is mutated."""
    mutation_scale: float = 0.3
    """Scale of the Cauchy mutation noise."""
    burst_scale: float = 0.3
    """Scale alpha of the Cauchy noise of burst mutation."""
    stagnation: int = 10
    """Generations without improvement of the best network before a burst mutation."""
    init_range: float = 1.0
    """Initial weights uniform in [-init_range, init_range]."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        for name in ("subpopulation", "trials", "stagnation"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise RnnaiError(f"{name} must be an int >= 1, got {v!r}")
        if self.subpopulation < 4:
            raise RnnaiError(f"subpopulation must be >= 4, got {self.subpopulation}")
        if not 0.0 <= self.mutation_rate <= 1.0:
            raise RnnaiError(f"mutation_rate must lie in [0, 1], got {self.mutation_rate}")
        if min(self.mutation_scale, self.burst_scale) < 0 or self.init_range <= 0:
            raise RnnaiError("mutation and burst scales must be >= 0 and init_range > 0")


class ESP(Searcher):
    """Enforced SubPopulations (Gomez & Miikkulainen 1997, 1999).

    Args:
        dim: Genome length h * L (h neurons of L weights each).
        n_neurons: h, the number of subpopulations.
        config: The parameters (default `ESPConfig()`).
        rng: The searcher's own generator (required: all its randomness comes from it).

    Raises:
        RnnaiError: If ``rng`` is not a `numpy.random.Generator`, or ``dim`` is not a multiple
            of ``n_neurons``.

    Attributes:
        subpops: (h, n, L) the neurons of every subpopulation.
        since_improvement: Generations since the best network last improved.
        bursts: Burst mutations so far.
    """

    name = "esp"

    def __init__(
        self,
        dim: int,
        n_neurons: int,
        config: ESPConfig | None = None,
        *,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(dim, rng)
        if isinstance(n_neurons, bool) or not isinstance(n_neurons, int) or n_neurons < 1:
            raise RnnaiError(f"n_neurons must be an int >= 1, got {n_neurons!r}")
        if dim % n_neurons:
            raise RnnaiError(f"dim {dim} is not a multiple of n_neurons {n_neurons}")
        self.config = config if config is not None else ESPConfig()
        self.h = n_neurons
        self.L = dim // n_neurons
        c = self.config
        shape = (self.h, c.subpopulation, self.L)
        self.subpops = self.rng.uniform(-c.init_range, c.init_range, shape)
        self.since_improvement = 0
        self.bursts = 0
        self._prev_best = -np.inf  # best fitness before the last tell
        self._members: np.ndarray | None = None  # (P, h) neuron index per network and subpop

    def _ask(self) -> np.ndarray:
        c, h = self.config, self.h
        n = c.subpopulation
        rounds = [
            np.stack([self.rng.permutation(n) for _ in range(h)], axis=1) for _ in range(c.trials)
        ]
        members = np.concatenate(rounds, axis=0)  # (trials * n, h)
        self._members = members
        nets = self.subpops[np.arange(h)[None, :], members]  # (P, h, L)
        return nets.reshape(members.shape[0], self.dim)

    def _tell(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        c, h, n = self.config, self.h, self.config.subpopulation
        members = self._members
        if members is None or members.shape[0] != genomes.shape[0]:
            raise RnnaiError("esp: the told population does not match the last ask()")
        improved = self.best_fitness > self._prev_best  # the base class updated best_fitness
        self._prev_best = self.best_fitness
        f = np.clip(fitness, -1e300, 1e300)  # +-inf would make the averages NaN
        for i in range(h):
            total = np.bincount(members[:, i], weights=f, minlength=n)
            count = np.bincount(members[:, i], minlength=n)
            neuron_fitness = total / np.maximum(count, 1)  # average over its trials
            order = np.argsort(-neuron_fitness, kind="stable")
            self.subpops[i] = self.subpops[i][order]
            self._recombine(i)
        self._members = None
        self.since_improvement = 0 if improved else self.since_improvement + 1
        if self.since_improvement >= c.stagnation and self.best_genome is not None:
            self._burst()

    def _recombine(self, i: int) -> None:
        """Top quarter x higher-or-equal ranked mates -> offspring over the bottom half."""
        c = self.config
        n, L = c.subpopulation, self.L
        sp = self.subpops[i]  # (n, L), best first
        quarter = max(1, n // 4)
        half = n // 2
        k = n - half  # first slot of the bottom half
        for rank in range(quarter):
            mate = int(self.rng.integers(0, rank + 1))
            cut = int(self.rng.integers(1, L)) if L > 1 else 0
            a, b = sp[rank].copy(), sp[mate].copy()
            for child in (
                np.concatenate([a[:cut], b[cut:]]),
                np.concatenate([b[:cut], a[cut:]]),
            ):
                if k < n:
                    sp[k] = child
                    k += 1
        bottom = sp[n - half :]
        mutate = self.rng.random(bottom.shape) < c.mutation_rate
        bottom += mutate * c.mutation_scale * self.rng.standard_cauchy(bottom.shape)

    def _burst(self) -> None:
        """Rebuild every subpopulation around the best network's neuron (Cauchy noise)."""
        c = self.config
        best = self.best_genome.reshape(self.h, self.L)  # type: ignore[union-attr]
        noise = c.burst_scale * self.rng.standard_cauchy((self.h, c.subpopulation, self.L))
        noise[:, 0] = 0.0  # one exact copy of the best neuron
        self.subpops = best[:, None, :] + noise
        self.since_improvement = 0
        self.bursts += 1

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the subpopulations, counters and config."""
        return super().state_dict() | {
            "subpops": self.subpops.copy(),
            "members": None if self._members is None else self._members.copy(),
            "since_improvement": self.since_improvement,
            "bursts": self.bursts,
            "prev_best": float(self._prev_best),
            "n_neurons": self.h,
            "config": asdict(self.config),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict` (the config and network shape must match)."""
        super().load_state_dict(state)
        if state.get("config") != asdict(self.config) or state.get("n_neurons") != self.h:
            raise RnnaiError(
                f"ESP state has config {state.get('config')} and {state.get('n_neurons')} "
                f"neurons, not {self.config} and {self.h}"
            )
        self.subpops = np.array(state["subpops"], dtype=np.float64)
        m = state.get("members")
        self._members = None if m is None else np.array(m, dtype=np.int64)
        self.since_improvement = int(state["since_improvement"])
        self.bursts = int(state["bursts"])
        self._prev_best = float(state["prev_best"])
