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
* `rnnai.evolution.fastweights`, `rnnai.evolution.problems3d`: modular fast-weight controllers
  (Gomez & Schmidhuber 2005) and the 3D pole-balancing problem.
* `rnnai.evolution.runs`: the run loop (`evolve`, `evolve_runs`): success tests, budgets,
  checkpoints that resume exactly.
* ``rnnai.evolution.distributed``: a Ray evaluator (optional, ``rnnai[distributed]``; not
  imported here).

Examples:
    >>> import numpy as np
    >>> from rnnai.evolution import CoSyNE, CoSyNEConfig, evolve, make_problem
    >>> problem = make_problem("single_pole", success_steps=1_000)
    >>> searcher = CoSyNE(problem.dim, CoSyNEConfig(), rng=np.random.default_rng(0))
    >>> out = evolve(searcher, problem, max_evaluations=2_000)
    >>> out.solved, problem.solved(out.genome)
    (True, True)
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
from rnnai.evolution.fastweights import FastWeightNet, FastWeightNetConfig, fastweight_step
from rnnai.evolution.networks import (
    ACTIVATIONS,
    RecurrentNet,
    RecurrentNetSpec,
    RolloutResult,
    rollout,
    trajectory,
)
from rnnai.evolution.problems import (
    PROBLEMS,
    DoublePoleMarkov,
    DoublePoleNonMarkov,
    PoleProblem,
    SinglePoleMarkov,
    make_problem,
)
from rnnai.evolution.problems3d import Pole3DProblem
from rnnai.evolution.runs import (
    Check,
    PlannedRun,
    RunOutcome,
    StatefulEvaluator,
    best_passes,
    evolve,
    evolve_runs,
    first_reaching,
)

__all__ = [
    "ACTIVATIONS",
    "CMAES",
    "ESP",
    "PROBLEMS",
    "CMAESConfig",
    "Check",
    "CoSyNE",
    "CoSyNEConfig",
    "CompressedProblem",
    "DCTCoding",
    "DoublePoleMarkov",
    "DoublePoleNonMarkov",
    "ESPConfig",
    "EvaluationError",
    "Evaluator",
    "FastWeightNet",
    "FastWeightNetConfig",
    "LocalEvaluator",
    "PlannedRun",
    "Pole3DProblem",
    "PoleProblem",
    "Problem",
    "RecurrentNet",
    "RecurrentNetSpec",
    "RolloutResult",
    "RunOutcome",
    "Searcher",
    "SinglePoleMarkov",
    "StatefulEvaluator",
    "best_passes",
    "check_fitness",
    "check_genomes",
    "evolve",
    "evolve_runs",
    "fastweight_step",
    "first_reaching",
    "frequency_order",
    "make_problem",
    "marking_probability",
    "rollout",
    "trajectory",
]
