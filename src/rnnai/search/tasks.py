"""Task suites of the OOPS experiments: 1^n2^n symmetry and Towers of Hanoi, n = 1..30.

Schmidhuber, J. (2004). Optimal Ordered Problem Solver. Machine Learning 54:211-254, Section 6.

* **1^n2^n** (context-free symmetry, Section 6.2): the tape of task n starts with ``ds = [n]``;
  the task is solved when the auxiliary stack Ds ends in n ones followed by n twos (written with
  the task-specific instructions ``1toD``/``2toD``). As in the original program the test also needs
  at least one cell on Ds below those 2n cells.
* **Towers of Hanoi** (Section 6.1): the tape of task n holds three pegs with n disks on peg 1
  (largest at the bottom) and starts with ``ds = [1, 2, 3, n]`` (source, auxiliary, destination,
  size); solved when pegs 1 and 2 are empty. ``mvdsk`` moves a disk between the pegs named at
  ``base+1`` and ``base+3``; an illegal move halts.

Each suite also sets the initial search pattern of every tape (Section 6.3): weight 1 for every
instruction ("maximum entropy"), then ``+nQ`` for a few boosted instructions (``c1 c2 dec by2
boostq`` for 1^n2^n; ``c3 c4 c5 dec by2 boostq`` for Hanoi), so that each boosted instruction is
about nQ + 1 = 74 times as likely as the others.

Examples:
    >>> from rnnai.search.tasks import HANOI, get_suite
    >>> get_suite("1n2n").describe(2)
    '1^n2^n n=2: write 1122 on Ds'
    >>> HANOI.boosted
    ('c3', 'c4', 'c5', 'dec', 'by2', 'boostq')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnai.search.vm import (
    A_MIN,
    KIND_HANOI,
    KIND_SYMMETRY,
    MAX_INT,
    MAX_TASK,
    InstructionSet,
    Layout,
    MachineError,
)

__all__ = ["HANOI", "SUITES", "SYMMETRY", "TaskSuite", "get_suite"]


@dataclass(frozen=True, kw_only=True)
class TaskSuite:
    """A sequence of tasks n = 1..30 sharing the goal test and the initial search pattern.

    Attributes:
        name: ``"1n2n"`` or ``"hanoi"``.
        kind: The kernel's goal-test selector (`KIND_SYMMETRY` or `KIND_HANOI`).
        boosted: Instructions whose initial weight gets ``+nQ``.
    """

    name: str
    kind: int
    boosted: tuple[str, ...]

    def init_tapes(self, tape: np.ndarray, iset: InstructionSet, layout: Layout) -> None:
        """Write every task's start state (environment, ds, search pattern 0) into ``tape``.

        Only the cells the original program's task initialisation writes are touched; the rest
        of each tape (for Hanoi after 1^n2^n: what the earlier suite left) stays.

        Args:
            tape: The flat tape array, ``(maxtask + 1) * W`` int64.
            iset: The instruction set (for weights and boosted names).
            layout: The tape layout.
        """
        w = -A_MIN + 1
        if tape.shape != ((MAX_TASK + 1) * w,):
            raise MachineError(f"tape must have shape ({(MAX_TASK + 1) * w},), got {tape.shape}")
        boost = [iset.encode([b])[0] for b in self.boosted]
        for n in range(1, MAX_TASK + 1):
            row = tape[n * w : (n + 1) * w]

            def put(a: int, v: int, row: np.ndarray = row) -> None:
                row[-a] = v

            put(layout.atask, n)
            if self.kind == KIND_HANOI:
                d = MAX_TASK + 1
                for peg, top in ((1, n), (2, 0), (3, 0)):
                    put(layout.aenv + (peg - 1) * d, top)
                for i in range(1, n + 1):
                    put(layout.aenv + i, n + 1 - i)
                    put(layout.aenv + d + i, 0)
                    put(layout.aenv + 2 * d + i, 0)
                stack = [1, 2, 3, n]
            else:
                stack = [n]
            put(layout.adp, len(stack))
            for i, v in enumerate(stack, 1):
                put(layout.adp + i, v)
            # search pattern 0: maximum entropy, then the boosts
            put(layout.apatp, 0)
            put(layout.acurp, 0)
            nq = iset.n_q
            weights = np.ones(nq + 1, dtype=np.int64)
            total, most = nq, 1
            for b in boost:
                if total + nq > MAX_INT:
                    continue
                total += nq
                weights[b] += nq
                most = max(most, int(weights[b]))
            put(layout.acurp + 1, total)
            put(layout.acurp + 2, most)
            for i in range(1, nq + 1):
                put(layout.acurp + 2 + i, int(weights[i]))

    def describe(self, n: int) -> str:
        """One line describing task n."""
        if self.kind == KIND_HANOI:
            return f"Hanoi n={n}: move {n} disks from peg 1 to peg 3"
        return f"1^n2^n n={n}: write {'1' * n}{'2' * n} on Ds"


SYMMETRY = TaskSuite(name="1n2n", kind=KIND_SYMMETRY, boosted=("c1", "c2", "dec", "by2", "boostq"))
"""Context-free symmetry 1^n2^n (the paper's first suite)."""
HANOI = TaskSuite(name="hanoi", kind=KIND_HANOI, boosted=("c3", "c4", "c5", "dec", "by2", "boostq"))
"""Towers of Hanoi (the paper's second suite)."""
SUITES: dict[str, TaskSuite] = {s.name: s for s in (SYMMETRY, HANOI)}


def get_suite(name: str) -> TaskSuite:
    """The suite called ``name``.

    Raises:
        MachineError: For an unknown name.
    """
    if name not in SUITES:
        raise MachineError(f"unknown task suite {name!r}; known: {sorted(SUITES)}")
    return SUITES[name]
