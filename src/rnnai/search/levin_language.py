"""The self-sizing assembly-like language of Schmidhuber 1995/1997 and its interpreter.

Papers: J. Schmidhuber, "Discovering solutions with low Kolmogorov complexity and high
generalization capability", Proc. ICML 1995; "Discovering neural nets with low Kolmogorov
complexity and high generalization capability", Neural Networks 10(5):857-873, 1997, Section 4.

The machine (from the papers). One array of integer cells: negative addresses form the work tape,
non-negative addresses the program tape. The legal ("visible") addresses are ``[Min, Max]``;
``Min`` moves with Allocate and Free, ``Max`` is the top of the program written so far. Programs
are self-delimiting: when execution needs the cell at ``OracleAddress = Max + 1`` an oracle
request writes a new token there; these requests are "the only source of randomness", and "the
bigger the used storage, the smaller the probability of guessing a particular visible address".
The paper's primitives (names from the paper; their numbers, argument order and the exact
semantics below are our reading, since the primitive table itself was not available to us;
``ck`` = contents of address ``ak``):

====  ==========  ============  ===================================================
 op   name        arguments     semantics
====  ==========  ============  ===================================================
  0   Jumpleq     a1 a2 a3      if c1 <= c2 then IP <- a3
  1   Output      a1            write c1 as the next output value (the next weight)
  2   Jump        a1            IP <- a1
  3   Stop                      halt
  4   Add         a1 a2 a3      c3 <- c1 + c2
  5   GetInput    a1 a2         c2 <- input[c1]
  6   Move        a1 a2         c2 <- c1
  7   Allocate    a1            c1 new work cells (zeroed) below Min
  8   Increment   a1            c1 <- c1 + 1
  9   Decrement   a1            c1 <- c1 - 1
 10   Subtract    a1 a2 a3      c3 <- c1 - c2
 11   Multiply    a1 a2 a3      c3 <- c1 * c2
 12   Free        a1            release the c1 lowest work cells
 13   Divide      a1 a2 a3      c3 <- floor(c1 / c2)   (ours, optional, off by default)
====  ==========  ============  ===================================================

Otherwise IP moves past the instruction and its arguments. Each attempted instruction costs one
time step; an oracle request costs none. The paper's weights are integers in ``[-10000, 10000]``;
we bound every cell by the same ``maxint = 10000``.

Our reading where the available text is silent (assumptions, stated as such):
* An oracle request for an instruction offers the ``n_instr`` primitives; one for an argument offers
  every legal address ``Min .. Max + 1`` (the new cell itself included), each uniformly likely.
* Illegal steps halt the program: an argument outside ``[Min, Max]``, a write to the program tape
  (programs never modify their own tape; code on the work tape may be executed), a result outside
  ``[-maxint, maxint]``, a bad instruction number under IP, IP outside the legal addresses, GetInput
  beyond the input vector, Allocate/Free of a non-positive amount or beyond the work tape's limit
  ``max_work``, a program longer than ``max_prog`` cells, and division by zero for Divide.
* Output writes the task's values in order; the program halts normally after the task's
  ``n_out``-th value (status ``OUTPUT_FULL``) or at Stop; values it never writes count as 0.
  Programs get no inputs in the perceptron tasks (the weights are computed, not learned).
* The work tape starts empty unless the task gives one. The size limits are ours:
  ``max_work = 100`` work cells and ``max_prog = 64`` program cells by default.

`Language1997` implements the `rnnai.search.levin.Language` interface with a plain-Python
interpreter (`exec_machine_py`, the twin) and a compiled Levin phase
(`rnnai.search._levin_kernels.levin_phase`) for `LinearOutputTask` tasks.

Examples:
    A program that outputs cell 0 (its own first cell, the Output opcode 1) forever; it halts
    when the task's 3 outputs are written:

    >>> from rnnai.search.levin import STATUS_NAMES
    >>> from rnnai.search.levin_language import assemble, execute
    >>> program = assemble("Output 0; Jump 0")
    >>> program
    (1, 0, 2, 0)
    >>> run = execute(program, n_out=3)
    >>> STATUS_NAMES[run.status], run.output, run.steps
    ('output_full', (1, 1, 1), 5)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnai.search._levin_kernels import (
    I_DEN,
    I_LEAVES,
    I_LEN,
    I_NOUT,
    I_STATUS,
    I_STEPS,
    I_TOTAL_STEPS,
    N_INFO,
    N_STATE,
    N_STATUS,
    S_IP,
    S_LO,
    S_MAX,
    S_MIN,
    S_N,
    S_NOUT,
    S_STEPS,
    exec_machine_py,
    levin_phase,
    run_program,
    run_program_py,
)
from rnnai.search.levin import (
    Instruction,
    Language,
    LevinError,
    LevinTask,
    LinearOutputTask,
    PhaseChunk,
)

__all__ = [
    "INSTRUCTIONS",
    "Language1997",
    "Language1997Config",
    "MachineState",
    "ProgramRun",
    "assemble",
    "execute",
]

INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction("Jumpleq", 3, "if c[a1] <= c[a2] then IP <- a3"),
    Instruction("Output", 1, "write c[a1] as the next output value"),
    Instruction("Jump", 1, "IP <- a1"),
    Instruction("Stop", 0, "halt"),
    Instruction("Add", 3, "c[a3] <- c[a1] + c[a2]"),
    Instruction("GetInput", 2, "c[a2] <- input[c[a1]]"),
    Instruction("Move", 2, "c[a2] <- c[a1]"),
    Instruction("Allocate", 1, "Min <- Min - c[a1]; the new cells are 0"),
    Instruction("Increment", 1, "c[a1] <- c[a1] + 1"),
    Instruction("Decrement", 1, "c[a1] <- c[a1] - 1"),
    Instruction("Subtract", 3, "c[a3] <- c[a1] - c[a2]"),
    Instruction("Multiply", 3, "c[a3] <- c[a1] * c[a2]"),
    Instruction("Free", 1, "Min <- Min + c[a1]"),
    Instruction("Divide", 3, "c[a3] <- floor(c[a1] / c[a2]) (not in the paper)"),
)
"""The instruction table; the first 13 rows are the paper's primitives, in its order."""

_MAX_MAXINT = 3_037_000_499  # maxint**2 must fit in int64 (Multiply)


@dataclass(frozen=True, kw_only=True)
class Language1997Config:
    """Limits of the 1995/97 machine.

    Attributes:
        maxint: Cells hold integers in ``[-maxint, maxint]`` (paper: weights in +-10000).
        max_work: Largest work tape (cells) Allocate may create.
        max_prog: Largest program (cells), the bound on self-delimiting program length.
        divide: Add the Divide primitive (op 13; not one of the paper's primitives).
    """

    maxint: int = 10_000
    max_work: int = 100
    max_prog: int = 64
    divide: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.maxint <= _MAX_MAXINT:
            raise LevinError(f"maxint must be in 1..{_MAX_MAXINT}, got {self.maxint}")
        if not 0 <= self.max_work <= 1_000_000:
            raise LevinError(f"max_work must be in 0..1000000, got {self.max_work}")
        if not 1 <= self.max_prog <= 100_000:
            raise LevinError(f"max_prog must be in 1..100000, got {self.max_prog}")

    @property
    def n_instr(self) -> int:
        """Number of primitives an oracle offers (13, or 14 with Divide)."""
        return 14 if self.divide else 13


@dataclass
class MachineState:
    """The Python twin's machine: storage by address plus the scalar state.

    Attributes:
        cells: Contents by address (work tape < 0, program tape >= 0).
        st: Scalars (instruction pointer, Min, Max, steps, outputs, pending request range),
            indexed like the kernel's ``st``.
        out: Output values written so far.
        inputs: The task's input vector.
        n_out: Output count after which the program halts.
    """

    cells: dict[int, int]
    st: list[int]
    out: list[int]
    inputs: list[int]
    n_out: int


@dataclass(frozen=True, kw_only=True)
class ProgramRun:
    """The result of running one fixed program (`execute`).

    Attributes:
        status: Final status code (see `rnnai.search.levin.STATUS_NAMES`).
        steps: Steps executed.
        output: Values written.
        ip: Final instruction pointer.
        min_address: Final ``Min``.
        work: Final work tape, addresses ``Min .. -1``.
    """

    status: int
    steps: int
    output: tuple[int, ...]
    ip: int
    min_address: int
    work: tuple[int, ...]


def _ints(values: Sequence[int], what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise LevinError(f"{what} must be a 1-D sequence of integers, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def execute(
    program: Sequence[int],
    config: Language1997Config = Language1997Config(),
    n_out: int = 100,
    inputs: Sequence[int] = (),
    work_init: Sequence[int] = (),
    limit: int = 1_000_000,
    use_kernel: bool = True,
) -> ProgramRun:
    """Run a complete program on the 1995/97 machine (no oracle: reading past its end is `NEED`).

    Args:
        program: Program-tape cells (instruction numbers and argument addresses).
        config: Machine limits.
        n_out: Outputs after which the program halts.
        inputs: Input vector for GetInput.
        work_init: Initial work tape (addresses ``-len .. -1``).
        limit: Step budget (every program stops within it: no hangs).
        use_kernel: Run the numba kernel (else the Python twin).

    Returns:
        The final status, steps, outputs and storage.

    Raises:
        LevinError: For a program longer than ``max_prog``, a work tape beyond ``max_work``,
            values beyond ``maxint``, ``n_out < 1`` or a negative ``limit``.
    """
    prog = _ints(program, "program")
    work = _ints(work_init, "work_init")
    inp = _ints(inputs, "inputs")
    if prog.size > config.max_prog:
        raise LevinError(f"program has {prog.size} cells, max_prog is {config.max_prog}")
    if work.size > config.max_work:
        raise LevinError(f"work_init has {work.size} cells, max_work is {config.max_work}")
    if np.any(np.abs(work) > config.maxint) or np.any(np.abs(prog) > config.maxint):
        raise LevinError(f"program/work_init values must be within +-{config.maxint}")
    if n_out < 1 or limit < 0:
        raise LevinError(f"need n_out >= 1 and limit >= 0, got n_out={n_out}, limit={limit}")
    args = (config.n_instr, config.max_work, config.max_prog, config.maxint, int(limit))
    if use_kernel:
        status, st, out, mem = run_program(prog, work, inp, int(n_out), *args)
        lo = int(st[S_MIN])
        w = tuple(int(v) for v in mem[config.max_work + lo : config.max_work])
        outs = tuple(int(v) for v in out[: st[S_NOUT]])
    else:
        status, st_py, out_py, cells = run_program_py(
            prog.tolist(), work.tolist(), inp.tolist(), int(n_out), *args
        )
        st = np.asarray(st_py, dtype=np.int64)
        lo = int(st[S_MIN])
        w = tuple(cells[a] for a in range(lo, 0))
        outs = tuple(out_py)
    return ProgramRun(
        status=int(status),
        steps=int(st[S_STEPS]),
        output=outs,
        ip=int(st[S_IP]),
        min_address=lo,
        work=w,
    )


def assemble(source: str, config: Language1997Config = Language1997Config()) -> tuple[int, ...]:
    """Turn ``"Output 0; Jump 0"`` style text into program cells.

    Args:
        source: Instructions separated by ``;`` or newlines, each a name then integer arguments.
        config: Which primitives exist.

    Returns:
        The cells.

    Raises:
        LevinError: For an unknown name or a wrong number of arguments.
    """
    names = {ins.name.lower(): k for k, ins in enumerate(INSTRUCTIONS[: config.n_instr])}
    cells: list[int] = []
    for part in source.replace("\n", ";").split(";"):
        words = part.split()
        if not words:
            continue
        op = names.get(words[0].lower())
        if op is None:
            raise LevinError(f"unknown instruction {words[0]!r}; known: {', '.join(names)}")
        if len(words) - 1 != INSTRUCTIONS[op].arity:
            raise LevinError(
                f"{INSTRUCTIONS[op].name} takes {INSTRUCTIONS[op].arity} arguments, "
                f"got {len(words) - 1}: {part.strip()!r}"
            )
        cells += [op] + [int(w) for w in words[1:]]
    return tuple(cells)


class Language1997(Language):
    """The 1995/97 self-sizing language for `rnnai.search.levin.levin_search`.

    Args:
        config: Machine limits.
    """

    def __init__(self, config: Language1997Config = Language1997Config()) -> None:
        self.config = config
        self.name = "schmidhuber1997" + ("+divide" if config.divide else "")
        self.instructions = INSTRUCTIONS[: config.n_instr]

    def reset(self, task: LevinTask) -> MachineState:
        """A machine with an empty program tape and the task's work tape and inputs."""
        w = len(task.work_init)
        if w > self.config.max_work:
            raise LevinError(f"task work tape has {w} cells, max_work is {self.config.max_work}")
        st = [0] * N_STATE
        st[S_MIN], st[S_MAX] = -w, -1
        cells = {a - w: int(v) for a, v in enumerate(task.work_init)}
        return MachineState(
            cells=cells, st=st, out=[], inputs=[int(v) for v in task.inputs], n_out=int(task.n_out)
        )

    def run(self, state: MachineState, limit: int) -> int:
        """Interpret until halt, oracle request or ``limit`` total steps (Python twin)."""
        c = self.config
        return exec_machine_py(
            state.cells,
            state.st,
            state.out,
            state.inputs,
            state.n_out,
            c.n_instr,
            c.max_work,
            c.max_prog,
            c.maxint,
            limit,
        )

    def need(self, state: MachineState) -> tuple[int, int]:
        """Token range of the pending oracle request."""
        return state.st[S_LO], state.st[S_N]

    def append(self, state: MachineState, value: int) -> None:
        """Write a token at the oracle address ``Max + 1``."""
        state.st[S_MAX] += 1
        state.cells[state.st[S_MAX]] = int(value)

    def clone(self, state: MachineState) -> MachineState:
        """Deep copy."""
        return copy.deepcopy(state)

    def steps(self, state: MachineState) -> int:
        """Steps executed."""
        return state.st[S_STEPS]

    def program(self, state: MachineState) -> tuple[int, ...]:
        """Program cells written (addresses ``0 .. Max``)."""
        return tuple(state.cells[a] for a in range(state.st[S_MAX] + 1))

    def output(self, state: MachineState) -> tuple[int, ...]:
        """Values output so far."""
        return tuple(state.out)

    def describe(self, program: Sequence[int]) -> str:
        """Disassemble, reading the tape sequentially from address 0 (``addr: Name args``).

        Code reached only by jumps into argument cells is listed as the sequential reading shows
        it; cells left over after the last whole instruction are listed raw.
        """
        lines, a, p = [], 0, list(program)
        while a < len(p):
            op = p[a]
            if 0 <= op < self.config.n_instr and a + INSTRUCTIONS[op].arity < len(p):
                ar = INSTRUCTIONS[op].arity
                args = " ".join(str(v) for v in p[a + 1 : a + 1 + ar])
                lines.append(f"{a}: {INSTRUCTIONS[op].name} {args}".rstrip())
                a += ar + 1
            else:
                lines.append(f"{a}: [{' '.join(str(v) for v in p[a:])}]")
                break
        return "; ".join(lines)

    def fast_phase(
        self,
        task: LevinTask,
        log2_t: int,
        novel_only: bool,
        stop_after: int,
        path: Sequence[int],
        leaf_limit: int,
    ) -> PhaseChunk | None:
        """The compiled phase (`levin_phase`) for `LinearOutputTask` tasks; None otherwise."""
        if not isinstance(task, LinearOutputTask):
            return None
        c = self.config
        if len(task.work_init) > c.max_work:
            raise LevinError(f"task work tape has {len(task.work_init)} cells > {c.max_work}")
        k = max(int(stop_after), 1)
        sol_prog = np.zeros((k, c.max_prog), dtype=np.int64)
        sol_out = np.zeros((k, task.n_out), dtype=np.int64)
        sol_info = np.zeros((k, N_INFO), dtype=np.int64)
        counts = np.zeros(N_STATUS, dtype=np.int64)
        code, programs, steps, n_sol, next_path, n_path = levin_phase(
            np.asarray(task.work_init, dtype=np.int64).reshape(-1),
            np.asarray(task.inputs, dtype=np.int64).reshape(-1),
            task.n_out,
            c.n_instr,
            c.max_work,
            c.max_prog,
            c.maxint,
            task.X,
            task.y,
            int(log2_t),
            bool(novel_only),
            k,
            np.asarray(path, dtype=np.int64).reshape(-1),
            int(leaf_limit),
            sol_prog,
            sol_out,
            sol_info,
            counts,
        )
        sols = []
        for r in range(n_sol):
            info = sol_info[r]
            sols.append(
                (
                    tuple(int(v) for v in sol_prog[r, : info[I_LEN]]),
                    int(info[I_DEN]),
                    int(info[I_STEPS]),
                    int(info[I_STATUS]),
                    tuple(int(v) for v in sol_out[r, : info[I_NOUT]]),
                    int(info[I_LEAVES]),
                    int(info[I_TOTAL_STEPS]),
                )
            )
        path_out = tuple(int(v) for v in next_path[:n_path])
        return PhaseChunk(
            code=int(code),
            programs=int(programs),
            steps=int(steps),
            solutions=sols,
            status_counts=counts,
            path=path_out,
        )
