"""Neuroevolution: an ask/tell core, ESP, CoSyNE, CMA-ES (pycma) and compressed network search.

Modules:

* `rnnai.evolution.core`: `Problem` (picklable, deterministic fitness, higher is better),
  `Evaluator` / `LocalEvaluator` (where a population is evaluated), `Searcher` (ask/tell/step,
  ``state_dict`` for checkpoints).
* `rnnai.evolution.esp`: ESP, neuron subpopulations (Gomez & Miikkulainen 1997, 1999).
* `rnnai.evolution.cosyne`: CoSyNE, weight subpopulations (Gomez, Schmidhuber & Miikkulainen 2008).
* `rnnai.evolution.cmaes`: pycma's CMA-ES behind the same interface.
* `rnnai.evolution.dct`: compressed network search (Koutnik, Gomez & Schmidhuber 2010).
* `rnnai.evolution.networks`, `rnnai.evolution.problems`: the fully recurrent pole-balancing
  controllers, evaluated in numba together with the physics, and the benchmark problems.
* ``rnnai.evolution.distributed``: a Ray evaluator (optional, ``rnnai[distributed]``).
"""

from __future__ import annotations

from rnnai.evolution.cmaes import CMAES, CMAESConfig
from rnnai.evolution.core import (
    EvaluationError,
    Evaluator,
    LocalEvaluator,
    Problem,
    Searcher,
    check_fitness,
    check_genomes,
)
from rnnai.evolution.cosyne import CoSyNE, CoSyNEConfig, marking_probability
from rnnai.evolution.dct import CompressedProblem, DCTCoding, frequency_order
from rnnai.evolution.esp import ESP, ESPConfig
from rnnai.evolution.networks import RecurrentNet, RecurrentNetSpec, rollout
from rnnai.evolution.problems import (
    PROBLEMS,
    DoublePoleMarkov,
    DoublePoleNonMarkov,
    PoleProblem,
    SinglePoleMarkov,
    make_problem,
)

__all__ = [
    "CMAES",
    "ESP",
    "PROBLEMS",
    "CMAESConfig",
    "CoSyNE",
    "CoSyNEConfig",
    "CompressedProblem",
    "DCTCoding",
    "DoublePoleMarkov",
    "DoublePoleNonMarkov",
    "ESPConfig",
    "EvaluationError",
    "Evaluator",
    "LocalEvaluator",
    "PoleProblem",
    "Problem",
    "RecurrentNet",
    "RecurrentNetSpec",
    "Searcher",
    "SinglePoleMarkov",
    "check_fitness",
    "check_genomes",
    "frequency_order",
    "make_problem",
    "marking_probability",
    "rollout",
]
