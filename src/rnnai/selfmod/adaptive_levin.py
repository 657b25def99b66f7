"""Adaptive Levin search (ALS) with the success-story algorithm (SSA) on partially observable mazes.

Papers: J. Schmidhuber, J. Zhao & M. Wiering, "Shifting inductive bias with success-story
algorithm, adaptive Levin search, and incremental self-improvement", Machine Learning 28:105-130
(1997), Sec. 3 ("Implementation 1: plugging LS into SSA": Levin search, ALS, "Plugging ALS into
the basic SSA cycle", Experiments 1 and 2); M. Wiering & J. Schmidhuber, "Solving POMDPs with
Levin search and EIRA", Proc. ICML 1996, pp. 534-542 (the same mazes and instructions; EIRA is
SSA's earlier name).

The agent lives in a grid maze, starts at a fixed cell with a fixed heading and must reach a goal
cell. It senses only whether the field in front is blocked and whether the fields to its left and
right are free (a POMDP). A program is a sequence of instructions; the paper's 9 primitives are

=====  ============================================================================
 op    instruction
=====  ============================================================================
 0     REPEAT step forward UNTIL front is blocked, THEN rotate left
 1     REPEAT step forward UNTIL front is blocked, THEN rotate right
 2     REPEAT step forward UNTIL left field is free, THEN rotate left
 3     REPEAT step forward UNTIL left field is free, THEN rotate right
 4     REPEAT step forward UNTIL left field is free, THEN no rotation
 5     REPEAT step forward UNTIL right field is free, THEN rotate left
 6     REPEAT step forward UNTIL right field is free, THEN rotate right
 7     REPEAT step forward UNTIL right field is free, THEN no rotation
 8     Jump(address, times): a hidden counter ``to_go`` starts at ``times``; if ``to_go > 0``:
       decrement it and continue at ``address``; else reset it to ``times`` and go on
=====  ============================================================================

Levin search (LS) with a probability matrix. ``P[k, j]`` is the probability of instruction ``j``
at program address ``k``; ``Pbar[k, a]`` (``a = 0..k``) of a Jump at ``k`` going to address
``a``; ``Phat[k, r - 1]`` (``r = 1..MAXR``) of its ``times`` being ``r``. Programs are
self-delimiting: when the instruction pointer reaches the end of the written program, the next
instruction (with its arguments) is chosen, so a program ``q`` of length ``l(q)`` has probability
``P(q) = prod_k P[k, q_k] (Pbar[k, a_k] Phat[k, r_k - 1] if q_k is a Jump)``. Phase ``i`` has
total time ``T = 2**i``; every program runs for at most ``floor(P(q) T)`` time steps (the
prefixes are shared, depth first, lowest choice first); the phases double ``T`` until a program
reaches the goal. Each forward step costs one time step, the final rotation of a primitive one,
a Jump one. The search time of a task is the sum of all executed steps over all phases.

ALS (Sec. 3.2): all entries start uniform (``P[k, j] = 1/9``, ``Pbar[k, a] = 1/(k+1)``,
``Phat[k, r-1] = 1/MAXR``). After LS found a program ``q``, Adapt(q, P) changes the rows
``k = 0..l(q)-1`` with the learning rate ``gamma``::

    P_kj <- P_kj + gamma (1 - P_kj)   if q_k = b_j,    P_kj <- (1 - gamma) P_kj   otherwise  (Adapt)

(and the same rule for ``Pbar[k]`` and ``Phat[k]`` at the addresses where ``q_k`` is a Jump:
the paper updates all three matrices whenever a goal is found). If LS found nothing, l(q) = 0.

ALS + SSA (Sec. 3.3): the policy is (P, Pbar, Phat). Each task is one basic cycle: run LS with
the current policy (the time it consumes is the learner's time ``t``); on success add the reward
(Experiment 2: 1.0 divided by the solution's path length); then a checkpoint: SSA
(`rnnai.selfmod.ssa.SSAStack`) pops the blocks of modifications that are not followed by a
strictly increasing reward per time since their start, restoring the saved rows; then, if a
program was found, push a tag (t, R(t)), save the rows Adapt will change, and call Adapt.

What is verified from the papers' text: the 9 instructions and their sensing, the Adapt rule,
the initial uniform matrices, the three matrices P, Pbar, Phat, the plugging into SSA (reward,
push the rows Adapt modifies, SSA after each LS call), Experiment 2's task sequence (a 23 x 23
maze, 7 goals at growing distance, goalsets G_i = goals 1..3+i, 10 epochs per goalset, reward
1/path length, no resets) and that learning rates from 0.01 to 0.95 were tried.

Ours (the papers are silent or their text was not available to us): the maze itself (the
papers' figure is replaced by generated mazes, `make_maze`); where the goals lie
(`goal_sequence`: at growing shortest-path distance, drawn at random among the cells at each
distance); Jump's exact counter semantics (above), ``times`` in ``1..MAXR`` (the paper has a
constant MAXR; its value and whether ``times`` may mean "forever" were not available); a
blocked front ends a REPEAT loop (the agent does not walk into walls; the paper's collision rule
was not available); the time costs above; the longest program ``max_len``; the depth-first order
within a phase (the paper does not fix one); LS gives up after ``max_steps`` (then l(q) = 0);
the time of Adapt and of SSA itself is not counted. The paper's numbers (LS's time for goal 7,
ALS's and SSA+ALS's totals, its learning rate for the comparison) were not available to us.

Examples:
    >>> import numpy as np
    >>> grid = parse_maze(["#######", "#.....#", "#.###.#", "#.....#", "#######"])
    >>> task = MazeTask(grid=grid, start=(1, 1), heading=1, goal=(5, 3))
    >>> config = ALSConfig(max_len=6, maxr=3)
    >>> result = levin_search_maze(task, uniform_policy(config), config)
    >>> describe(result.program), result.path_length, result.phase
    ('R-UNTIL-BLOCKED; L-UNTIL-BLOCKED', 6, 10)
    >>> P, Pbar, Phat = adapt(result.program, uniform_policy(config), gamma=0.5)
    >>> round(float(P[0, 1]), 4), round(float(P[0, 0]), 4)  # 1/9 + 0.5 (1 - 1/9); 0.5 / 9
    (0.5556, 0.0556)
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod import _als_kernels as K
from rnnai.selfmod.ssa import SSAStack

SUCCESS, BUDGET, NEED = K.SUCCESS, K.BUDGET, K.NEED
"""Status codes of `run_program`: reached the goal, ran out of time, ran past its end."""

__all__ = [
    "BUDGET",
    "NEED",
    "SUCCESS",
    "INSTRUCTION_NAMES",
    "ALSConfig",
    "AdaptiveLevin",
    "MazeTask",
    "Policy",
    "SearchResult",
    "TaskRecord",
    "adapt",
    "describe",
    "goal_sequence",
    "levin_phase_py",
    "levin_search_maze",
    "make_maze",
    "maze_hash",
    "parse_maze",
    "program_probability",
    "run_program",
    "uniform_policy",
]

INSTRUCTION_NAMES: tuple[str, ...] = (
    "L-UNTIL-BLOCKED",
    "R-UNTIL-BLOCKED",
    "L-UNTIL-LEFT",
    "R-UNTIL-LEFT",
    "N-UNTIL-LEFT",
    "L-UNTIL-RIGHT",
    "R-UNTIL-RIGHT",
    "N-UNTIL-RIGHT",
    "JUMP",
)
"""Short names of the 9 instructions (rotation - UNTIL - condition; JUMP)."""

N_OPS = 9
MODES = ("ls", "als", "als+ssa")

Policy = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(P, Pbar, Phat): instruction, jump-address and jump-times probabilities per address."""
Program = tuple[tuple[int, int, int], ...]
"""Cells ``(op, address, times)``; address and times are 0 unless op is Jump (8)."""


@dataclass(frozen=True, kw_only=True)
class ALSConfig:
    """Settings of adaptive Levin search.

    Attributes:
        max_len: Longest program (rows of the probability matrices).
        maxr: MAXR, the largest ``times`` of a Jump.
        gamma: ALS's learning rate (0 < gamma < 1).
        max_phase: Last phase ``i`` (``T = 2**i``).
        max_steps: LS gives up after a phase that brings its total time to this many steps.
    """

    max_len: int = 12
    maxr: int = 4
    gamma: float = 0.1
    max_phase: int = 40
    max_steps: int = 10**9

    def __post_init__(self) -> None:
        if not 1 <= self.max_len <= 64:
            raise RnnaiError(f"max_len must be in 1..64, got {self.max_len}")
        if not 1 <= self.maxr <= 64:
            raise RnnaiError(f"maxr must be in 1..64, got {self.maxr}")
        if not 0.0 < self.gamma < 1.0:
            raise RnnaiError(f"gamma must be in (0, 1), got {self.gamma}")
        if not 0 <= self.max_phase <= 60:
            raise RnnaiError(f"max_phase must be in 0..60, got {self.max_phase}")
        if self.max_steps < 1:
            raise RnnaiError(f"max_steps must be >= 1, got {self.max_steps}")


@dataclass(frozen=True, kw_only=True)
class MazeTask:
    """Reach ``goal`` from ``start`` (cells as (x, y)) with initial heading (0 N, 1 E, 2 S, 3 W).

    Attributes:
        grid: (H, W) uint8, 1 = free; the border must be walls.
        start: Start cell (x, y).
        heading: Initial heading.
        goal: Goal cell (x, y).
    """

    grid: np.ndarray
    start: tuple[int, int]
    heading: int
    goal: tuple[int, int]

    def __post_init__(self) -> None:
        g = np.asarray(self.grid)
        if g.ndim != 2 or min(g.shape) < 3:
            raise RnnaiError(f"a maze grid must be 2-d, at least 3 x 3, got shape {g.shape}")
        if g[0].any() or g[-1].any() or g[:, 0].any() or g[:, -1].any():
            raise RnnaiError("a maze grid's border must be walls (0), got a free border cell")
        for name, (x, y) in (("start", self.start), ("goal", self.goal)):
            if not (0 <= y < g.shape[0] and 0 <= x < g.shape[1] and g[y, x]):
                raise RnnaiError(f"the {name} must be a free cell, got {(x, y)}")
        if self.heading not in (0, 1, 2, 3):
            raise RnnaiError(f"heading must be 0..3, got {self.heading}")
        if self.start == self.goal:
            raise RnnaiError(f"start and goal must differ, got both {self.start}")


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """The outcome of one Levin search.

    Attributes:
        found: Whether a program reached the goal.
        program: The first solution (empty if none).
        phase: The phase it was found in (-1 if none).
        search_steps: Time steps executed over all phases (the search time).
        programs: Programs finished over all phases.
        solution_steps: Time steps the solution used.
        path_length: Forward moves of the solution (its path length).
        log2_probability: log2 P(q) of the solution under the searched policy.
    """

    found: bool
    program: Program
    phase: int
    search_steps: int
    programs: int
    solution_steps: int
    path_length: int
    log2_probability: float


def uniform_policy(config: ALSConfig) -> Policy:
    """The initial (maximum-entropy) matrices: P 1/9, Pbar 1/(k+1) on ``0..k``, Phat 1/MAXR."""
    L = config.max_len
    P = np.full((L, N_OPS), 1.0 / N_OPS)
    Pbar = np.zeros((L, L))
    for k in range(L):
        Pbar[k, : k + 1] = 1.0 / (k + 1)
    Phat = np.full((L, config.maxr), 1.0 / config.maxr)
    return P, Pbar, Phat


def _check_policy(policy: Policy) -> None:
    P, Pbar, Phat = policy
    L = P.shape[0]
    if P.ndim != 2 or P.shape[1] != N_OPS or Pbar.shape != (L, L) or Phat.ndim != 2:
        raise RnnaiError(
            f"a policy is P (L, 9), Pbar (L, L), Phat (L, MAXR), got {P.shape}, {Pbar.shape}, "
            f"{Phat.shape}"
        )
    if Phat.shape[0] != L:
        raise RnnaiError(f"Phat must have {L} rows, got {Phat.shape[0]}")


def program_probability(program: Program, policy: Policy) -> float:
    """``log2 P(q)``: the sum of log2 probabilities of the program's choices."""
    P, Pbar, Phat = policy
    lp = 0.0
    for k, (op, a, r) in enumerate(program):
        lp += math.log2(P[k, op])
        if op == K.JUMP:
            lp += math.log2(Pbar[k, a]) + math.log2(Phat[k, r - 1])
    return lp


def describe(program: Program) -> str:
    """A readable listing, e.g. ``'R-UNTIL-BLOCKED; JUMP(0, 2)'``."""
    return "; ".join(
        f"JUMP({a}, {r})" if op == K.JUMP else INSTRUCTION_NAMES[op] for op, a, r in program
    )


# ----------------------------------------------------------------------------- the twin


@dataclass
class _Machine:
    x: int
    y: int
    d: int
    ip: int = 0
    steps: int = 0
    moves: int = 0
    to_go: dict[int, int] = field(default_factory=dict)

    def copy(self) -> _Machine:
        return _Machine(self.x, self.y, self.d, self.ip, self.steps, self.moves, dict(self.to_go))


def _run_py(task: MazeTask, prog: list[tuple[int, int, int]], m: _Machine, budget: int) -> int:
    grid = task.grid
    dx, dy = (0, 1, 0, -1), (-1, 0, 1, 0)

    def free(d: int) -> bool:
        return bool(grid[m.y + dy[d], m.x + dx[d]])

    while m.ip < len(prog):
        op, a, r = prog[m.ip]
        if m.steps >= budget:
            return K.BUDGET
        if op == K.JUMP:
            m.steps += 1
            if m.to_go[m.ip] > 0:
                m.to_go[m.ip] -= 1
                m.ip = a
            else:
                m.to_go[m.ip] = r
                m.ip += 1
            continue
        cond, turn = int(K.COND[op]), int(K.TURN[op])
        while free(m.d):
            if m.steps >= budget:
                return K.BUDGET
            m.steps += 1
            m.moves += 1
            m.x, m.y = m.x + dx[m.d], m.y + dy[m.d]
            if (m.x, m.y) == task.goal:
                return K.SUCCESS
            if (cond == 1 and free((m.d + 3) % 4)) or (cond == 2 and free((m.d + 1) % 4)):
                break
        if m.steps >= budget:
            return K.BUDGET
        m.steps += 1
        m.d = (m.d + turn) % 4
        m.ip += 1
    return K.NEED


def run_program(
    task: MazeTask, program: Program, limit: int = 1_000_000
) -> tuple[int, int, int, tuple[int, int]]:
    """Run a fixed program (no oracle) until it reaches the goal, its end or ``limit`` steps.

    Returns:
        (status, steps, forward moves, final cell): status `SUCCESS`, `BUDGET` or `NEED` (the
        instruction pointer ran past the last instruction).
    """
    m = _Machine(task.start[0], task.start[1], task.heading)
    m.to_go = {k: r for k, (op, _a, r) in enumerate(program) if op == K.JUMP}
    status = _run_py(task, list(program), m, int(limit))
    return status, m.steps, m.moves, (m.x, m.y)


def levin_phase_py(
    task: MazeTask, policy: Policy, maxr: int, t_total: float
) -> tuple[bool, int, int, Program, int, int]:
    """One LS phase in plain Python (recursive; the twin of the numba kernel).

    Returns:
        (found, steps executed, programs finished, solution, its steps, its forward moves).
    """
    P, Pbar, Phat = policy
    max_len = P.shape[0]
    counts = [0, 0]  # steps, programs

    def explore(
        prog: list[tuple[int, int, int]], m: _Machine, p: float
    ) -> tuple[Program, int, int] | None:
        before = m.steps
        status = _run_py(task, prog, m, math.floor(p * t_total))
        counts[0] += m.steps - before
        if status == K.NEED and len(prog) < max_len:
            k = len(prog)
            choices = [(op, 0, 0) for op in range(K.N_PRIM)]
            choices += [(K.JUMP, a, r) for a in range(k + 1) for r in range(1, maxr + 1)]
            for op, a, r in choices:
                pc = P[k, op] if op < K.N_PRIM else P[k, op] * Pbar[k, a] * Phat[k, r - 1]
                if math.floor(p * pc * t_total) <= m.steps:
                    continue
                child = m.copy()
                if op == K.JUMP:
                    child.to_go[k] = r
                found = explore(prog + [(op, a, r)], child, p * pc)
                if found is not None:
                    return found
            return None
        counts[1] += 1
        return (tuple(prog), m.steps, m.moves) if status == K.SUCCESS else None

    (sx, sy), d = task.start, task.heading
    res = explore([], _Machine(sx, sy, d), 1.0)
    if res is None:
        return False, counts[0], counts[1], (), 0, 0
    return True, counts[0], counts[1], res[0], res[1], res[2]


def levin_search_maze(
    task: MazeTask, policy: Policy, config: ALSConfig = ALSConfig(), use_kernel: bool = True
) -> SearchResult:
    """Levin search for a program that walks from the task's start to its goal.

    Args:
        task: The maze task.
        policy: (P, Pbar, Phat) with ``config.max_len`` rows.
        config: Phases, MAXR and the step limit.
        use_kernel: Use the numba kernel (else the Python twin).

    Returns:
        The first solution found and the search's counts.

    Raises:
        RnnaiError: If the policy's shapes do not fit the config.
    """
    _check_policy(policy)
    P, Pbar, Phat = (np.ascontiguousarray(m, dtype=np.float64) for m in policy)
    if P.shape[0] != config.max_len or Phat.shape[1] != config.maxr:
        raise RnnaiError(
            f"policy shapes {P.shape}, {Phat.shape} do not fit max_len={config.max_len}, "
            f"maxr={config.maxr}"
        )
    grid = np.ascontiguousarray(task.grid, dtype=np.uint8)
    (sx, sy), (gx, gy) = task.start, task.goal
    total = programs = 0
    for i in range(config.max_phase + 1):
        t_total = float(2**i)
        if use_kernel:
            prog_out = np.zeros((config.max_len, 3), dtype=np.int64)
            info = np.zeros(4, dtype=np.int64)
            found, steps, n = K.levin_phase(
                grid, sx, sy, task.heading, gx, gy, P, Pbar, Phat, config.maxr, t_total,
                prog_out, info,
            )  # fmt: skip
            program: Program = tuple((int(c[0]), int(c[1]), int(c[2])) for c in prog_out[: info[0]])
            sol_steps, moves = int(info[1]), int(info[2])
        else:
            found, steps, n, program, sol_steps, moves = levin_phase_py(
                task, (P, Pbar, Phat), config.maxr, t_total
            )
        total += int(steps)
        programs += int(n)
        if found:
            return SearchResult(
                found=True, program=program, phase=i, search_steps=total, programs=programs,
                solution_steps=sol_steps, path_length=moves,
                log2_probability=program_probability(program, (P, Pbar, Phat)),
            )  # fmt: skip
        if total >= config.max_steps:
            break
    return SearchResult(
        found=False, program=(), phase=-1, search_steps=total, programs=programs,
        solution_steps=0, path_length=0, log2_probability=0.0,
    )  # fmt: skip


# ----------------------------------------------------------------------------- ALS


def adapt(program: Program, policy: Policy, *, gamma: float) -> Policy:
    """ALS's Adapt(q, P): raise the probabilities of the program's choices (Eq. Adapt).

    Args:
        program: The solution ``q`` (rows ``0..l(q)-1`` change; an empty program changes nothing).
        policy: (P, Pbar, Phat); not modified.
        gamma: The learning rate.

    Returns:
        The new (P, Pbar, Phat).
    """
    P, Pbar, Phat = (m.copy() for m in policy)
    for k, (op, a, r) in enumerate(program):
        P[k] *= 1.0 - gamma  # P_kj <- (1 - gamma) P_kj  (j != q_k)
        P[k, op] += gamma  # P_kj <- P_kj + gamma (1 - P_kj)  (j = q_k)
        if op == K.JUMP:
            Pbar[k, : k + 1] *= 1.0 - gamma
            Pbar[k, a] += gamma
            Phat[k] *= 1.0 - gamma
            Phat[k, r - 1] += gamma
    return P, Pbar, Phat


@dataclass(frozen=True, kw_only=True)
class TaskRecord:
    """One basic cycle of the learner.

    Attributes:
        task: Index of the task in the learner's life.
        found: Whether LS found a program.
        search_steps: LS's time for this task.
        path_length: The solution's path length (0 if none).
        program_length: l(q).
        reward: Reward of this cycle.
        popped: Blocks SSA popped at this cycle's checkpoint.
        stack: Valid blocks on the SSA stack after the cycle.
    """

    task: int
    found: bool
    search_steps: int
    path_length: int
    program_length: int
    reward: float
    popped: int
    stack: int


class AdaptiveLevin:
    """A lifelong learner: plain LS (``"ls"``), ALS (``"als"``) or ALS + SSA (``"als+ssa"``).

    Args:
        mode: Which learner.
        config: Search and learning-rate settings.

    Attributes:
        policy: The current (P, Pbar, Phat).
        stack: The SSA stack (used in mode ``"als+ssa"``).
        t: The learner's time (sum of all search times).
        R: Its cumulative reward.
        n_tasks: Tasks seen.
    """

    def __init__(self, mode: str, config: ALSConfig = ALSConfig()) -> None:
        if mode not in MODES:
            raise RnnaiError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.config = config
        self.policy: Policy = uniform_policy(config)
        self.stack = SSAStack()
        self.t = 0.0
        self.R = 0.0
        self.n_tasks = 0

    def _rows(self, k: int) -> list[float]:
        P, Pbar, Phat = self.policy
        return [*P[k].tolist(), *Pbar[k].tolist(), *Phat[k].tolist()]

    def _set_rows(self, k: int, values: Sequence[float]) -> None:
        P, Pbar, Phat = self.policy
        L = P.shape[1] + Pbar.shape[1]
        P[k], Pbar[k], Phat[k] = values[: P.shape[1]], values[P.shape[1] : L], values[L:]

    def solve(self, task: MazeTask) -> TaskRecord:
        """One basic cycle: LS on ``task``, reward, SSA checkpoint, push and Adapt.

        Args:
            task: The next task of the learner's life.

        Returns:
            What happened.
        """
        res = levin_search_maze(task, self.policy, self.config)
        self.t += res.search_steps
        reward = 1.0 / max(res.path_length, 1) if res.found else 0.0
        self.R += reward
        popped = 0
        if self.mode == "als+ssa" and self.t > 0:
            before = len(self.stack)
            for k, old in self.stack.checkpoint(t=self.t, r=self.R):  # most recent first
                self._set_rows(k, old)
            popped = before - len(self.stack)
        if res.found and self.mode != "ls":
            if self.mode == "als+ssa":
                self.stack.push_tag(t=self.t, r=self.R)
                for k in range(len(res.program)):
                    self.stack.save(cell=k, old=self._rows(k))
            self.policy = adapt(res.program, self.policy, gamma=self.config.gamma)
        rec = TaskRecord(
            task=self.n_tasks, found=res.found, search_steps=res.search_steps,
            path_length=res.path_length, program_length=len(res.program), reward=reward,
            popped=popped, stack=len(self.stack),
        )  # fmt: skip
        self.n_tasks += 1
        return rec

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (floats round-trip exactly through JSON)."""
        return {
            "mode": self.mode,
            "policy": [m.tolist() for m in self.policy],
            "tags": [[g.t, g.r, g.first] for g in self.stack.tags],
            "saved": [[c, old] for c, old in self.stack.saved],
            "t": self.t,
            "R": self.R,
            "n_tasks": self.n_tasks,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict`.

        Raises:
            RnnaiError: If the state belongs to another mode or is malformed.
        """
        from rnnai.selfmod.ssa import Tag

        if state.get("mode") != self.mode:
            raise RnnaiError(
                f"state is for mode {state.get('mode')!r}, this learner is {self.mode!r}"
            )
        try:
            pol = tuple(np.asarray(m, dtype=np.float64) for m in state["policy"])
            self.policy = (pol[0], pol[1], pol[2])
            self.stack = SSAStack(
                tags=[Tag(t=float(t), r=float(r), first=int(f)) for t, r, f in state["tags"]],
                saved=[(int(c), [float(v) for v in old]) for c, old in state["saved"]],
            )
            self.t, self.R, self.n_tasks = (
                float(state["t"]),
                float(state["R"]),
                int(state["n_tasks"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise RnnaiError(f"malformed AdaptiveLevin state: {e!r}") from None
        _check_policy(self.policy)


# ----------------------------------------------------------------------------- mazes


def parse_maze(rows: Sequence[str]) -> np.ndarray:
    """A grid from text rows: ``#`` wall, anything else free.

    Examples:
        >>> parse_maze(["###", "#.#", "###"]).tolist()
        [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    if not rows or len({len(r) for r in rows}) != 1:
        raise RnnaiError("maze rows must be non-empty and of one length")
    return np.array([[0 if ch == "#" else 1 for ch in r] for r in rows], dtype=np.uint8)


def make_maze(rng: np.random.Generator, size: int, *, loops: float = 0.1) -> np.ndarray:
    """A random ``size x size`` maze: a depth-first spanning tree on the odd cells, plus loops.

    Args:
        rng: Random stream.
        size: Odd side length (>= 5), border included (the paper's maze is 23 x 23).
        loops: Fraction of the remaining inner walls between two corridors that are opened.

    Returns:
        (size, size) uint8 grid, 1 = free, walls on the border.

    Raises:
        RnnaiError: If ``size`` is even or below 5.
    """
    if size < 5 or size % 2 == 0:
        raise RnnaiError(f"maze size must be odd and >= 5, got {size}")
    if not 0.0 <= loops <= 1.0:
        raise RnnaiError(f"loops must be in [0, 1], got {loops}")
    n = (size - 1) // 2
    grid = np.zeros((size, size), dtype=np.uint8)
    seen = np.zeros((n, n), dtype=bool)
    stack = [(0, 0)]
    seen[0, 0] = True
    grid[1, 1] = 1
    while stack:  # randomized depth-first search over cells (2i+1, 2j+1)
        i, j = stack[-1]
        nbrs = [(i + a, j + b) for a, b in ((0, 1), (1, 0), (0, -1), (-1, 0))
                if 0 <= i + a < n and 0 <= j + b < n and not seen[i + a, j + b]]  # fmt: skip
        if not nbrs:
            stack.pop()
            continue
        i2, j2 = nbrs[int(rng.integers(len(nbrs)))]
        seen[i2, j2] = True
        grid[2 * i2 + 1, 2 * j2 + 1] = 1
        grid[i + i2 + 1, j + j2 + 1] = 1  # the wall between them
        stack.append((i2, j2))
    walls = [(y, x) for y in range(1, size - 1) for x in range(1, size - 1)
             if grid[y, x] == 0 and (y % 2) != (x % 2)]  # fmt: skip
    for idx in rng.permutation(len(walls))[: int(round(loops * len(walls)))]:
        y, x = walls[int(idx)]
        grid[y, x] = 1
    return grid


def _bfs(grid: np.ndarray, start: tuple[int, int]) -> dict[tuple[int, int], tuple[int, int]]:
    parent = {start: start}
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for ddx, ddy in ((0, -1), (1, 0), (0, 1), (-1, 0)):
            nxt = (x + ddx, y + ddy)
            if grid[nxt[1], nxt[0]] and nxt not in parent:
                parent[nxt] = (x, y)
                queue.append(nxt)
    return parent


def goal_sequence(
    grid: np.ndarray,
    start: tuple[int, int],
    n_goals: int,
    max_distance: int,
    rng: np.random.Generator | None = None,
) -> list[tuple[int, int]]:
    """Goals 1..n at growing shortest-path distance from ``start``.

    ``D`` is the largest distance of a reachable cell, capped at ``max_distance``; goal ``k`` is a
    cell at distance ``round(k D / n)``: drawn uniformly from those cells with ``rng``, or, without
    ``rng``, the first in breadth-first order. Goals drawn this way may lie in different branches
    of the maze, so a later goal's path need not extend an earlier one's.

    Returns:
        ``n_goals`` cells (x, y), each strictly further from ``start`` than the previous one.

    Raises:
        RnnaiError: If ``D < n_goals``.
    """
    parent = _bfs(grid, start)
    dist: dict[tuple[int, int], int] = {}
    for c in parent:  # insertion order is breadth-first order: parents come first
        dist[c] = 0 if c == start else dist[parent[c]] + 1
    D = min(max(dist.values()), int(max_distance))
    if D < n_goals:
        raise RnnaiError(f"the farthest usable cell is {D} steps away, need >= {n_goals} goals")
    goals = []
    for k in range(1, n_goals + 1):
        cells = [c for c in parent if dist[c] == int(round(k * D / n_goals))]
        goals.append(cells[int(rng.integers(len(cells)))] if rng is not None else cells[0])
    return goals


def maze_hash(grid: np.ndarray) -> str:
    """A content hash of a maze layout (to prove evaluation mazes differ from training ones)."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    return hashlib.sha256(g.tobytes() + str(g.shape).encode()).hexdigest()[:16]
