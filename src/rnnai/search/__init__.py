"""Program search: the OOPS virtual machine, its numba kernels, OOPS and its task suites.

Schmidhuber, J. (2004). Optimal Ordered Problem Solver. Machine Learning 54:211-254.

* `rnnai.search.vm`: the machine (tapes, address map, the 73 documented instructions).
* `rnnai.search._kernels` / `rnnai.search._twin`: the numba machine + prefix search and its
  plain-Python twin.
* `rnnai.search.oops`: OOPS (`OOPS`, `OOPSConfig`, `StageResult`).
* `rnnai.search.tasks`: the 1^n2^n and Towers of Hanoi suites.

Levin search (Levin 1973; Schmidhuber 1995/1997), general over instruction sets and tasks:

* `rnnai.search.levin`: `levin_search` (phases doubling the total time, time-sharing by program
  probability), the `Language` and `LevinTask` interfaces.
* `rnnai.search.levin_language`: the 1995/97 weight-program language (`Language1997`).
* `rnnai.search.levin_tasks`: the counting and adding perceptron tasks (`PerceptronTask`).

Both `vm` and `levin` define an ``Instruction`` type; the package exports the OOPS one, the
Levin one stays `rnnai.search.levin.Instruction`.

Examples:
    >>> from rnnai.search import LevinConfig, get_suite, levin_search
    >>> from rnnai.search.levin_tasks import IncDoubleLanguage, reach_task
    >>> language = IncDoubleLanguage()
    >>> result = levin_search(language, reach_task(4), LevinConfig(max_phase=20))
    >>> language.describe(result.first.program), result.first.phase
    ('INC INC DBL HALT', 9)
    >>> get_suite("hanoi").describe(3)
    'Hanoi n=3: move 3 disks from peg 1 to peg 3'
"""

from rnnai.search.levin import Language, LevinConfig, LevinResult, LevinTask, levin_search
from rnnai.search.levin_language import Language1997, Language1997Config
from rnnai.search.levin_tasks import PerceptronConfig, PerceptronTask
from rnnai.search.oops import OOPS, OOPSConfig, StageResult
from rnnai.search.tasks import HANOI, SYMMETRY, TaskSuite, get_suite
from rnnai.search.vm import INSTRUCTIONS, Instruction, InstructionSet, MachineError

__all__ = [
    "HANOI",
    "INSTRUCTIONS",
    "OOPS",
    "OOPSConfig",
    "PerceptronConfig",
    "PerceptronTask",
    "SYMMETRY",
    "Instruction",
    "InstructionSet",
    "Language",
    "Language1997",
    "Language1997Config",
    "LevinConfig",
    "LevinResult",
    "LevinTask",
    "MachineError",
    "StageResult",
    "TaskSuite",
    "get_suite",
    "levin_search",
]
