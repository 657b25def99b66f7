"""Levin-search tasks: the perceptron tasks of Schmidhuber 1995/97 and two textbook toys.

Paper: J. Schmidhuber, "Discovering neural nets with low Kolmogorov complexity and high
generalization capability", Neural Networks 10(5):857-873, 1997 (also ICML 1995, "Task 1:
counting inputs"). A linear network with 100 input units, one output unit and integer weights
``w_i`` in ``[-10000, 10000]`` gets binary inputs with exactly three bits on;
``y^p = sum_i w_i x^p_i``. There are C(100, 3) = 161,700 possible inputs. Only 3 training
examples are used: on-bits at positions (5, 17, 86), (13, 55, 58) and (40, 87, 94). A search
program writes the 100 weights (its Output values, in order); it solves a task when the weights
fit the 3 training examples exactly, and it is then judged on the 161,697 unseen inputs.

* Counting inputs: ``y^p`` = number of on-bits (target 3); the only solution is ``w_i = 1``; its
  shortest program runs for less than 400 steps (the paper's "logical depth").
* Adding input positions: ``y^p`` = sum of the on-bits' positions (targets 108, 126, 221); the
  only solution is ``w_i = i``. Paper (probabilistic search, 1997): programs fitting the training
  data in 10 of 5.5e7 runs, 8.14e8 time steps in total; 8 of the 10 generalized perfectly to all
  161,697 test inputs; the first was found after 6,902,963 runs, used 502 of its 8,192 allocated
  steps (time probability 2^-8, space probability 3.92e-16) and generalized perfectly.

The paper's numbers for the counting task's search (runs, steps) were not available to us; only
its task definition and the claim that search by Levin complexity generalizes where conventional
perceptron learning cannot.

Textbook toys (for tests and as a second `Language` example): `IncDoubleLanguage`, an accumulator
machine with tokens HALT/INC/DBL, and `reach_task` (halt with a given accumulator); and
`output_sequence_task` for the 1997 language (output a given sequence).

Examples:
    >>> from rnnai.search.levin_tasks import PerceptronConfig, PerceptronTask
    >>> task = PerceptronTask(PerceptronConfig(kind="counting"))
    >>> task.y.tolist()  # the targets of the 3 training inputs
    [3, 3, 3]
    >>> task.generalization([1] * 100)  # the solution w_i = 1
    Generalization(right=161697, total=161697)
    >>> task.generalization([1] * 50).right  # half the weights: only inputs with bits below 50
    19600
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnai.search._levin_kernels import BUDGET, ILL_PROGRAM_FULL, NEED, STOP
from rnnai.search.levin import Instruction, Language, LevinError, LevinTask, LinearOutputTask

__all__ = [
    "PAPER_ADDING",
    "PAPER_TRAIN_POSITIONS",
    "Generalization",
    "IncDoubleLanguage",
    "PerceptronConfig",
    "PerceptronTask",
    "output_sequence_task",
    "reach_task",
]

PAPER_TRAIN_POSITIONS: tuple[tuple[int, ...], ...] = ((5, 17, 86), (13, 55, 58), (40, 87, 94))
"""On-bit positions of the paper's 3 training inputs."""

PAPER_ADDING: dict[str, Any] = {
    "runs": 55_000_000,
    "runs_fitting_training": 10,
    "total_steps": 814_000_000,
    "fitting_that_generalize": 8,
    "first_fit_after_runs": 6_902_963,
    "first_fit_steps": 502,
    "first_fit_time_limit": 8_192,
    "first_fit_log2_time_probability": -8,
    "first_fit_space_probability": 3.92e-16,
    "test_examples": 161_697,
}
"""Schmidhuber 1997, adding input positions: the reported numbers (probabilistic search)."""


@dataclass(frozen=True, kw_only=True)
class PerceptronConfig:
    """A perceptron task of the 1995/97 papers.

    Attributes:
        kind: ``"counting"`` (target = number of on-bits) or ``"adding"`` (sum of positions).
        n_inputs: Input units = weights (paper: 100).
        train_positions: On-bit positions of each training input (paper: 3 inputs, 3 bits).
    """

    kind: str = "counting"
    n_inputs: int = 100
    train_positions: tuple[tuple[int, ...], ...] = PAPER_TRAIN_POSITIONS

    def __post_init__(self) -> None:
        if self.kind not in ("counting", "adding"):
            raise LevinError(f"perceptron kind must be 'counting' or 'adding', got {self.kind!r}")
        if self.n_inputs < 1:
            raise LevinError(f"n_inputs must be >= 1, got {self.n_inputs}")
        sizes = {len(p) for p in self.train_positions}
        if not self.train_positions or len(sizes) != 1:
            raise LevinError("train_positions must be a non-empty list of equal-size tuples")
        for p in self.train_positions:
            if len(set(p)) != len(p) or min(p) < 0 or max(p) >= self.n_inputs:
                raise LevinError(f"bad training input {p}: distinct positions in 0..n_inputs-1")


@dataclass(frozen=True, kw_only=True)
class Generalization:
    """Test-set result of a weight vector.

    Attributes:
        right: Test inputs whose output equals the target.
        total: Test inputs (all inputs with the training inputs' number of on-bits, minus those).
    """

    right: int
    total: int

    @property
    def perfect(self) -> bool:
        """All test inputs right."""
        return self.right == self.total


@functools.lru_cache(maxsize=4)
def _all_inputs(n: int, k: int) -> np.ndarray:
    return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(-1, k)


class PerceptronTask(LinearOutputTask):
    """The counting / adding perceptron task as a Levin-search task (weights = outputs).

    Args:
        config: Which task and training set.
    """

    def __init__(self, config: PerceptronConfig = PerceptronConfig()) -> None:
        self.config = config
        n = config.n_inputs
        X = np.zeros((len(config.train_positions), n), dtype=np.int64)
        for r, pos in enumerate(config.train_positions):
            X[r, list(pos)] = 1  # x^p_i
        y = np.array([self.target(p) for p in config.train_positions], dtype=np.int64)
        super().__init__(f"perceptron_{config.kind}", X, y)

    def target(self, positions: Sequence[int]) -> int:
        """The desired output for an input with on-bits at ``positions``."""
        return len(positions) if self.config.kind == "counting" else int(sum(positions))

    def solution(self) -> np.ndarray:
        """The task's unique solution: ``w_i = 1`` (counting) or ``w_i = i`` (adding)."""
        n = self.config.n_inputs
        return np.ones(n, np.int64) if self.config.kind == "counting" else np.arange(n)

    def generalization(self, output: Sequence[int]) -> Generalization:
        """Judge a program's output as weights on every unseen input.

        Args:
            output: The weights written (missing ones count as 0).

        Returns:
            Right and total over all inputs with the training inputs' number of on-bits,
            except the training inputs (161,697 in the paper's setting).
        """
        n = self.config.n_inputs
        w = np.zeros(n, dtype=np.int64)
        out = np.asarray(output, dtype=np.int64)[:n]
        w[: out.size] = out
        idx, target = self._test_set()
        y_hat = w[idx].sum(axis=1)  # y^p = sum_i w_i x^p_i
        return Generalization(right=int(np.sum(y_hat == target)), total=int(len(idx)))

    @functools.cached_property
    def _test_cache(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.config.n_inputs
        k = len(self.config.train_positions[0])
        idx = _all_inputs(n, k)  # (C(n,k), k) on-bit positions, ascending in each row
        powers = n ** np.arange(k, dtype=np.int64)
        train = np.sort(np.array(self.config.train_positions, dtype=np.int64), axis=1)
        idx = idx[~np.isin(idx @ powers, train @ powers)]
        target = np.full(len(idx), k) if self.config.kind == "counting" else idx.sum(axis=1)
        return idx, target

    def _test_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The unseen inputs' on-bit positions ``(N, k)`` and their targets ``(N,)``."""
        return self._test_cache


def output_sequence_task(values: Sequence[int], name: str = "output_sequence") -> LinearOutputTask:
    """Textbook task: output exactly ``values`` (then halt: the last value fills the output).

    Args:
        values: The sequence to write.
        name: Task name.

    Returns:
        A `LinearOutputTask` with ``X`` the identity.
    """
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    if v.size < 1:
        raise LevinError("output_sequence_task needs at least one value")
    return LinearOutputTask(name, np.eye(v.size, dtype=np.int64), v)


def reach_task(target: int) -> LinearOutputTask:
    """Textbook task for `IncDoubleLanguage`: halt with accumulator ``target``."""
    return LinearOutputTask(f"reach_{target}", np.ones((1, 1), dtype=np.int64), np.array([target]))


@dataclass
class _AccState:
    program: list[int]
    ip: int = 0
    acc: int = 0
    steps: int = 0
    out: tuple[int, ...] = ()


class IncDoubleLanguage(Language):
    """A textbook accumulator machine: tokens 0 = HALT, 1 = INC (acc += 1), 2 = DBL (acc *= 2).

    Programs run left to right from ``acc = 0``; each token costs one step; HALT outputs ``acc``.
    Every token is requested from the oracle with probability 1/3, so ``P(p) = 3**-len(p)``: the
    textbook setting where the optimal Levin-search order is easy to work out by hand.

    Args:
        max_len: Longest program (a longer one halts as ``ILL_PROGRAM_FULL``).
    """

    name = "inc_double"
    instructions = (
        Instruction("HALT", 0, "output acc and halt"),
        Instruction("INC", 0, "acc <- acc + 1"),
        Instruction("DBL", 0, "acc <- 2 acc"),
    )

    def __init__(self, max_len: int = 32) -> None:
        self.max_len = max_len

    def reset(self, task: LevinTask) -> _AccState:
        """Empty program, ``acc = 0``."""
        return _AccState(program=[])

    def run(self, state: _AccState, limit: int) -> int:
        """Run tokens until HALT, the end of the program (request) or ``limit`` steps."""
        while True:
            if state.steps >= limit:
                return BUDGET
            if state.ip == len(state.program):
                if len(state.program) >= self.max_len:
                    state.steps += 1
                    return ILL_PROGRAM_FULL
                return NEED
            op = state.program[state.ip]
            state.steps += 1
            state.ip += 1
            if op == 0:
                state.out = (state.acc,)
                return STOP
            state.acc = state.acc + 1 if op == 1 else 2 * state.acc

    def need(self, state: _AccState) -> tuple[int, int]:
        """Tokens 0, 1, 2."""
        return 0, 3

    def append(self, state: _AccState, value: int) -> None:
        """Append a token."""
        state.program.append(int(value))

    def clone(self, state: _AccState) -> _AccState:
        """Copy."""
        return _AccState(
            program=list(state.program), ip=state.ip, acc=state.acc, steps=state.steps,
            out=state.out,
        )  # fmt: skip

    def steps(self, state: _AccState) -> int:
        """Steps executed."""
        return state.steps

    def program(self, state: _AccState) -> tuple[int, ...]:
        """Tokens so far."""
        return tuple(state.program)

    def output(self, state: _AccState) -> tuple[int, ...]:
        """``(acc,)`` after HALT, else empty."""
        return state.out

    def describe(self, program: Sequence[int]) -> str:
        """Token names."""
        return " ".join(self.instructions[int(t)].name for t in program)
