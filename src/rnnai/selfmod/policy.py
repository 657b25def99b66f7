"""Self-modifying policies (SMPs): probabilistic programs that change their own probabilities.

Papers: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), Sec. 4 ("Implementation 2: incremental self-improvement", IS); J. Schmidhuber, J. Zhao &
N. N. Schraudolph, "Reinforcement learning with self-modifying policies", in Learning to Learn,
Kluwer 1997.

The machine (verified from the papers' text): m program cells 0..m-1 and work cells c_0..c_{n-1}
(real-valued; the environment writes its inputs into some of them); an instruction pointer IP,
initially 0; a fixed set I = {0..n_ops-1} of integer values that stand for instructions or for
arguments depending on where IP is. For every program cell i there is a probability distribution
P_i over I (the policy P, an m x n_ops matrix), initially uniform (maximum entropy). When IP = i,
the contents d_i of cell i is drawn from P_i and read as instruction b_{d_i}; the cells following
i are drawn from their own distributions and read as its arguments. Each instruction occupies 4
cells (the instruction and up to 3 arguments; unused ones are still drawn). Instructions named in
the paper: Add(w1,w2,w3): c_w3 <- c_w1 + c_w2; Sub, Mul likewise; Mov(w1,w2): c_w2 <- c_w1;
JumpHome: IP <- 0; IncProb (a self-modification that raises one probability of one cell);
EndSelfMod (ends a self-delimiting sequence of self-modifications, SMS). Only SMSs change P, and
SSA (`rnnai.selfmod.ssa`) judges them: the SMS's start is a checkpoint at which SSA pops
unsuccessful earlier SMSs, a tag is pushed, and every modified column P_i is saved before its
first change.

Our instruction set (`OPS`), n_ops = 12, arguments a1, a2, a3 in 0..11 index work cells
(n = n_ops work cells; cells 0..4 receive the observation after every step):

=====  ==================  ==========================================================
 id     instruction         effect
=====  ==================  ==========================================================
 0      Add(a1,a2,a3)       c_a3 <- c_a1 + c_a2
 1      Sub(a1,a2,a3)       c_a3 <- c_a1 - c_a2
 2      Mul(a1,a2,a3)       c_a3 <- c_a1 * c_a2
 3      Mov(a1,a2)          c_a2 <- c_a1
 4      Init(a1,a2)         c_a2 <- a1
 5      Jmpl(a1,a2,a3)      if c_a1 < c_a2: IP <- 4 a3 (mod m)
 6      JumpHome            IP <- 0
 7      Move                world action 0 (10 pixels forward)
 8      Turn(a1)            world action 1 + (a1 mod 7) (turn (1 + a1 mod 7) x 45 degrees)
 9      IncProb(a1,a2,a3)   cell i = (a1 n_ops + a2) mod m, value j = a3 (Eq. Inc)
 10     DecProb(a1,a2,a3)   same cell and value (Eq. Dec)
 11     EndSelfMod(a1)      close the SMS; SSA runs after the next a1 + 1 goal rewards
=====  ==================  ==========================================================

The probability modifications, with lambda = `SMPConfig.lam`::

    Inc:  P_ij <- 1 - lambda (1 - P_ij),   P_ik <- lambda P_ik  (k != j)               (Eq. Inc)
    Dec:  P_ij <- lambda P_ij,   P_ik <- P_ik (1 - lambda P_ij) / (1 - P_ij)  (k != j)  (Eq. Dec)

A modification that would push any probability below `SMPConfig.min_p` is not made (the papers
keep every probability positive so that exploration never stops).

Not verified (our reading or our choice, since the papers' full instruction tables were not
available): Init, Jmpl (from Schmidhuber's related assembler-like languages), Move and Turn as
the world actions, DecProb, the exact forms Eq. Inc / Eq. Dec, lambda = 0.3, MinP = 0.001, how
IncProb's arguments address a cell, m = 48, and the evaluation rule of EndSelfMod (the papers'
function-approximation experiment calls SSA after a fixed number of non-zero rewards after each
SMS; we let EndSelfMod's argument choose that number, so the policy sets its own checkpoints).
While an evaluation is pending, IncProb / DecProb do nothing (they take their time step).
Multiplications are clipped to +-1e6 to keep the work cells finite.

Time: every instruction takes one time step; the two agents of `rnnai.selfmod.keys_world` run in
lockstep and a step in which an agent executes an internal instruction is a no-op action in the
world. SSA's own pushing and popping take no time steps here (the papers count their time in
the learner's time). Rewards: those of the world (a -0.0001 penalty per move or turn, 5.0 / 3.0
at the goal).

The lifelong loop of both agents (instruction execution, SSA and the world) runs in the numba
kernel `rnnai.selfmod._kernels.run_smp_life`; this module holds the configuration, the
instruction table and the pure probability-modification rules it compiles.

Examples:
    >>> import numpy as np
    >>> p = np.full(4, 0.25)
    >>> inc_prob(p, 1, 0.3, 0.001)
    True
    >>> np.round(p, 4).tolist()
    [0.075, 0.775, 0.075, 0.075]
    >>> dec_prob(p, 1, 0.3, 0.001)
    True
    >>> round(float(p.sum()), 12), round(float(p[1]), 4)
    (1.0, 0.2325)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "N_OPS",
    "N_SENSOR_CELLS",
    "OPS",
    "SMPConfig",
    "dec_prob",
    "inc_prob",
    "modified_cell",
    "sample_index",
]

OPS = (
    "Add", "Sub", "Mul", "Mov", "Init", "Jmpl", "JumpHome", "Move", "Turn", "IncProb", "DecProb",
    "EndSelfMod",
)  # fmt: skip
"""Instruction names by id."""
N_OPS = len(OPS)
"""n_ops: instruction / argument values (also the number of work cells)."""
N_SENSOR_CELLS = 5
"""Work cells 0..4 receive the world's observation after every step."""
OP_ADD, OP_SUB, OP_MUL, OP_MOV, OP_INIT, OP_JMPL, OP_HOME, OP_MOVE, OP_TURN = range(9)
OP_INC, OP_DEC, OP_END = 9, 10, 11
CLIP = 1e6
"""Work-cell values are clipped to [-CLIP, CLIP] after Mul."""


@dataclass(frozen=True, kw_only=True)
class SMPConfig:
    """A self-modifying policy with SSA.

    Attributes:
        n_cells: Program cells m (a multiple of 4).
        lam: lambda of Eq. Inc / Eq. Dec, in (0, 1).
        min_p: Smallest allowed probability.
        max_tags: Capacity of the SSA stack in tags (blocks); a block that would not fit is not
            opened (its modifications are not made).
        max_mods: Capacity of the SSA stack in saved columns.
    """

    n_cells: int = 48
    lam: float = 0.3
    min_p: float = 0.001
    max_tags: int = 50_000
    max_mods: int = 200_000

    def __post_init__(self) -> None:
        if self.n_cells < 4 or self.n_cells % 4:
            raise RnnaiError(f"n_cells must be a positive multiple of 4, got {self.n_cells}")
        if not 0.0 < self.lam < 1.0:
            raise RnnaiError(f"lam must be in (0, 1), got {self.lam}")
        if not 0.0 < self.min_p < 1.0 / N_OPS:
            raise RnnaiError(f"min_p must be in (0, 1/{N_OPS}), got {self.min_p}")
        if self.max_tags < 1 or self.max_mods < 1:
            raise RnnaiError(
                f"stack capacities must be >= 1, got {self.max_tags} tags, {self.max_mods} mods"
            )


def inc_prob(p: np.ndarray, j: int, lam: float, min_p: float) -> bool:
    """Eq. Inc on one column ``p`` in place, unless a probability would fall below ``min_p``.

    Returns:
        Whether the column was changed.
    """
    for k in range(p.shape[0]):
        if k != j and lam * p[k] < min_p:
            return False
    for k in range(p.shape[0]):
        if k == j:
            p[k] = 1.0 - lam * (1.0 - p[k])  # Eq. Inc
        else:
            p[k] = lam * p[k]
    return True


def dec_prob(p: np.ndarray, j: int, lam: float, min_p: float) -> bool:
    """Eq. Dec on one column ``p`` in place, unless P_ij would fall below ``min_p``.

    Returns:
        Whether the column was changed.
    """
    old = p[j]
    if lam * old < min_p or old >= 1.0:
        return False
    scale = (1.0 - lam * old) / (1.0 - old)
    for k in range(p.shape[0]):
        if k == j:
            p[k] = lam * old  # Eq. Dec
        else:
            p[k] = p[k] * scale
    return True


def modified_cell(a1: int, a2: int, n_cells: int) -> int:
    """The program cell addressed by IncProb / DecProb's first two arguments.

    Examples:
        >>> modified_cell(3, 5, 48), modified_cell(11, 11, 48)
        (41, 47)
    """
    return (a1 * N_OPS + a2) % n_cells


def sample_index(p: np.ndarray, u: float) -> int:
    """The value drawn from the distribution ``p`` by the uniform ``u`` in [0, 1).

    Examples:
        >>> import numpy as np
        >>> p = np.array([0.2, 0.5, 0.3])
        >>> sample_index(p, 0.1), sample_index(p, 0.69)
        (0, 1)
    """
    acc = 0.0
    last = p.shape[0] - 1
    for k in range(last):
        acc += p[k]
        if u < acc:
            return k
    return last
