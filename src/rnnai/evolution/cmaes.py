"""CMA-ES (pycma) as an ask/tell `Searcher`: the baseline of the CoSyNE comparison.

Citations:
    N. Hansen and A. Ostermeier. Completely derandomized self-adaptation in evolution
    strategies. Evolutionary Computation 9(2):159-195, 2001 (CMA-ES).
    C. Igel. Neuroevolution for reinforcement learning using evolution strategies. CEC 2003
    (CMA-ES on the pole-balancing benchmarks, as quoted in the CoSyNE paper's tables).
    N. Hansen et al. pycma, https://github.com/CMA-ES/pycma (the implementation wrapped here).

The wrapper minimizes ``-fitness`` with ``cma.CMAEvolutionStrategy``. All of pycma's sampling
goes through its ``randn`` option, which we point at a numpy Generator of our own (seeded from the
searcher's generator), with ``seed=nan`` so that pycma never touches numpy's global random state,
and with every console and file output switched off.

Checkpoints: pycma's state can only be pickled, and pickles are never loaded here. Instead the
state holds the sampling seed and the fitness of every generation told so far; `load_state_dict`
re-creates the strategy from the seed and replays the asks and tells, which reproduces the
strategy exactly (checked against a digest of the last population). The replay costs one
pycma update per generation (milliseconds for the few dozen weights of the pole networks).

Deviations: infinite fitness values are clipped to +-1e300 before pycma sees them; pycma's own
termination criteria are ignored (the caller decides when to stop).

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import CMAES, CMAESConfig
    >>> s = CMAES(3, CMAESConfig(popsize=6), rng=np.random.default_rng(0))
    >>> x = s.ask()
    >>> s.tell(-np.sum(x ** 2, axis=1))
    >>> x.shape, s.generation, s.popsize
    ((6, 3), 1, 6)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnai.evolution.core import Searcher
from rnnai.runtime.errors import RnnaiError

if TYPE_CHECKING:  # pycma (and scipy.stats behind it) load on first use, not on import
    import cma

__all__ = ["CMAES", "CMAESConfig"]


@dataclass(frozen=True, kw_only=True)
class CMAESConfig:
    """CMA-ES parameters."""

    sigma0: float = 1.0
    """Initial step size."""
    popsize: int | None = None
    """lambda, samples per generation; None: pycma's default 4 + floor(3 ln n)."""
    init_range: float = 0.0
    """Initial mean uniform in [-init_range, init_range] (0: the origin)."""

    def __post_init__(self) -> None:
        """Validate the fields."""
        if not (math.isfinite(self.sigma0) and self.sigma0 > 0):
            raise RnnaiError(f"sigma0 must be a positive number, got {self.sigma0}")
        if self.popsize is not None and (not isinstance(self.popsize, int) or self.popsize < 2):
            raise RnnaiError(f"popsize must be an int >= 2 or None, got {self.popsize!r}")
        if self.init_range < 0:
            raise RnnaiError(f"init_range must be >= 0, got {self.init_range}")


def _digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()


class CMAES(Searcher):
    """pycma's CMA-ES behind the ask/tell `Searcher` interface (maximizing fitness).

    Args:
        dim: Genome length (pycma needs dim >= 2).
        config: The parameters (default `CMAESConfig()`).
        rng: The searcher's own generator (required; draws the initial mean and pycma's
            sampling seed).

    Raises:
        RnnaiError: If ``rng`` is not a `numpy.random.Generator`, or ``dim`` < 2.
    """

    name = "cmaes"

    def __init__(
        self, dim: int, config: CMAESConfig | None = None, *, rng: np.random.Generator
    ) -> None:
        super().__init__(dim, rng)
        if self.dim < 2:
            raise RnnaiError(f"CMA-ES needs dim >= 2, got {self.dim}")
        self.config = config if config is not None else CMAESConfig()
        c = self.config
        self.x0 = (
            self.rng.uniform(-c.init_range, c.init_range, self.dim)
            if c.init_range
            else (np.zeros(self.dim))
        )
        self.sample_seed = int(self.rng.integers(0, 2**63 - 1))
        self.history: list[list[float]] = []  # fitness of every generation told
        self._last_digest = ""
        self._es = self._new_es()

    def _new_es(self) -> cma.CMAEvolutionStrategy:
        import cma

        sampler = np.random.default_rng(self.sample_seed)

        def randn(*shape: int) -> np.ndarray:
            return sampler.standard_normal(shape)

        opts: dict[str, Any] = {
            "randn": randn,
            "seed": float("nan"),
            "verbose": -9,
            "verb_disp": 0,
            "verb_log": 0,
            "verb_filenameprefix": "",
        }
        if self.config.popsize is not None:
            opts["popsize"] = self.config.popsize
        return cma.CMAEvolutionStrategy(self.x0.copy(), self.config.sigma0, opts)

    @property
    def popsize(self) -> int:
        """lambda, samples per generation."""
        return int(self._es.popsize)

    @property
    def sigma(self) -> float:
        """The current overall step size."""
        return float(self._es.sigma)

    def _ask(self) -> np.ndarray:
        return np.array(self._es.ask(), dtype=np.float64)

    def _tell(self, genomes: np.ndarray, fitness: np.ndarray) -> None:
        loss = -np.clip(fitness, -1e300, 1e300)
        self._es.tell(list(genomes), loss.tolist())
        self.history.append([float(v) for v in fitness])
        self._last_digest = _digest(genomes)

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the seed, the initial mean and the fitness history (for replay)."""
        return super().state_dict() | {
            "x0": self.x0.copy(),
            "sample_seed": str(self.sample_seed),
            "history": np.array(self.history, dtype=np.float64).reshape(
                len(self.history), self.popsize
            ),
            "last_digest": self._last_digest,
            "config": asdict(self.config),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Re-create pycma's strategy from the seed and replay the told generations.

        Raises:
            RnnaiError: If the state is for another config, or the replay does not reproduce the
                saved population (e.g. another pycma version).
        """
        if state.get("config") != asdict(self.config):
            raise RnnaiError(f"CMA-ES state has config {state.get('config')}, not {self.config}")
        super().load_state_dict(state)
        pending = self._pending
        self._pending = None
        self.x0 = np.array(state["x0"], dtype=np.float64)
        self.sample_seed = int(state["sample_seed"])
        self._es = self._new_es()
        history = np.asarray(state["history"], dtype=np.float64)
        self.history = []
        last = None
        for f in history:
            last = np.array(self._es.ask(), dtype=np.float64)
            self._es.tell(list(last), (-np.clip(f, -1e300, 1e300)).tolist())
            self.history.append([float(v) for v in f])
        self._last_digest = "" if last is None else _digest(last)
        if self._last_digest != state["last_digest"]:
            raise RnnaiError(
                "replaying the CMA-ES checkpoint did not reproduce its last population "
                f"(pycma {_cma_version()}); delete the checkpoint or run without --resume"
            )
        if pending is not None:  # an ask was outstanding: draw it again from the replayed state
            again = self._ask()
            if _digest(again) != _digest(pending):
                raise RnnaiError("replaying the CMA-ES checkpoint did not reproduce its last ask")
            self._pending = again


def _cma_version() -> str:
    import cma

    return str(cma.__version__)
