"""Numba kernels of the 1995/97 self-sizing program machine and of its Levin-search phase.

The machine and the search are described in `rnnai.search.levin_language` (the language) and
`rnnai.search.levin` (the search); this module holds only their compiled inner loops, each beside
its plain-Python twin (`exec_machine_py` here, the generic depth-first phase
`rnnai.search.levin.run_phase_py` for `levin_phase`); tests hold the pairs to identical results.

Storage layout inside the kernels. One ``int64`` array ``mem`` of length ``max_work + max_prog``
holds both tapes: storage address ``a`` (work tape ``a < 0``, program tape ``a >= 0``) lives at
``mem[a + max_work]``. The scalar machine state is an ``int64`` array ``st`` indexed by the
``S_*`` constants: instruction pointer, ``Min`` (lowest legal address), ``Max`` (highest written
program cell; the oracle address is ``Max + 1``), steps used, outputs written, and the token range
``[lo, lo + n)`` of a pending oracle request.
"""

from __future__ import annotations

import numpy as np

from rnnai.runtime.jit import njit

# ------------------------------------------------------------------------------ status codes
NEED = 0
"""The program reads the unwritten cell at the oracle address: it needs its next token."""
STOP = 1
"""The program executed Stop."""
OUTPUT_FULL = 2
"""The program wrote its last output value (the task's ``n_out``-th): a normal halt."""
BUDGET = 3
"""The program used up its step budget (or could not afford its next token)."""
ILL_ADDRESS = 10
"""An argument is outside the legal addresses ``[Min, Max]``."""
ILL_WRITE = 11
"""A write to the read-only program tape (address >= 0)."""
ILL_OVERFLOW = 12
"""A result outside ``[-maxint, maxint]``."""
ILL_DIVZERO = 13
"""Division by zero (only with the optional Divide primitive)."""
ILL_OPCODE = 14
"""The cell under the instruction pointer holds no instruction number."""
ILL_INPUT = 15
"""GetInput with an input index outside the task's input vector."""
ILL_ALLOC = 16
"""Allocate/Free of a non-positive amount, or beyond the work tape's limits."""
ILL_PROGRAM_FULL = 17
"""The program needs a token beyond the program tape's size limit."""
ILL_IP = 18
"""The instruction pointer left the legal addresses (e.g. into freed work cells)."""
N_STATUS = 19
"""Size of a status histogram (codes are ``0 .. N_STATUS - 1``)."""

# ------------------------------------------------------------------------------ opcodes
JUMPLEQ = 0
OUTPUT = 1
JUMP = 2
STOP_OP = 3
ADD = 4
GETINPUT = 5
MOVE = 6
ALLOCATE = 7
INCREMENT = 8
DECREMENT = 9
SUBTRACT = 10
MULTIPLY = 11
FREE = 12
DIVIDE = 13
ARITY = np.array([3, 1, 1, 0, 3, 2, 2, 1, 1, 1, 3, 3, 1, 3], dtype=np.int64)
"""Number of address arguments of each opcode."""

# ------------------------------------------------------------------------------ state indices
S_IP = 0
S_MIN = 1
S_MAX = 2
S_STEPS = 3
S_NOUT = 4
S_LO = 5
S_N = 6
N_STATE = 7

# columns of the solution-info rows written by `levin_phase`
I_LEN = 0
I_DEN = 1
I_STEPS = 2
I_STATUS = 3
I_NOUT = 4
I_LEAVES = 5
I_TOTAL_STEPS = 6
N_INFO = 7


# ------------------------------------------------------------------------------ interpreter


def exec_machine_py(
    cells: dict[int, int],
    st: list[int],
    out: list[int],
    inputs: list[int],
    n_out: int,
    n_instr: int,
    max_work: int,
    max_prog: int,
    maxint: int,
    limit: int,
) -> int:
    """Plain-Python twin of `exec_machine`: storage is a dict ``address -> value``.

    Runs until the program halts, needs a token, or has used ``limit`` steps in total.

    Args:
        cells: Storage contents by address (work tape < 0, program tape >= 0); mutated.
        st: Scalar state (``S_*`` indices); mutated.
        out: Output values written so far; appended to.
        inputs: The task's input vector (read by GetInput).
        n_out: Number of output values after which the program halts (``OUTPUT_FULL``).
        n_instr: Number of primitives in use (13, or 14 with Divide).
        max_work: Work tape size limit.
        max_prog: Program tape size limit.
        maxint: Cell values must stay within ``[-maxint, maxint]``.
        limit: Total step limit (``st[S_STEPS]`` never exceeds it).

    Returns:
        The status code (one of the module constants).
    """
    while True:
        if st[S_STEPS] >= limit:
            return BUDGET
        ip, lo, hi = st[S_IP], st[S_MIN], st[S_MAX]
        if ip == hi + 1:  # the instruction itself is the next token
            if hi + 1 >= max_prog:
                st[S_STEPS] += 1
                return ILL_PROGRAM_FULL
            st[S_LO], st[S_N] = 0, n_instr
            return NEED
        if ip < lo or ip > hi:
            st[S_STEPS] += 1
            return ILL_IP
        op = cells[ip]
        if op < 0 or op >= n_instr:
            st[S_STEPS] += 1
            return ILL_OPCODE
        args = []
        for k in range(1, int(ARITY[op]) + 1):
            if ip + k == hi + 1:  # an argument is the next token: any legal address
                if hi + 1 >= max_prog:
                    st[S_STEPS] += 1
                    return ILL_PROGRAM_FULL
                st[S_LO], st[S_N] = lo, hi + 2 - lo
                return NEED
            a = cells[ip + k]
            if a < lo or a > hi:
                st[S_STEPS] += 1
                return ILL_ADDRESS
            args.append(a)
        st[S_STEPS] += 1
        nxt = ip + len(args) + 1
        if op == JUMPLEQ:
            if cells[args[0]] <= cells[args[1]]:
                nxt = args[2]
        elif op == OUTPUT:
            out.append(cells[args[0]])
            st[S_NOUT] = len(out)
            st[S_IP] = nxt
            if len(out) >= n_out:
                return OUTPUT_FULL
        elif op == JUMP:
            nxt = args[0]
        elif op == STOP_OP:
            return STOP
        elif op in (ADD, SUBTRACT, MULTIPLY, DIVIDE):
            if args[2] >= 0:
                return ILL_WRITE
            x, y = cells[args[0]], cells[args[1]]
            if op == ADD:
                r = x + y
            elif op == SUBTRACT:
                r = x - y
            elif op == MULTIPLY:
                r = x * y
            else:
                if y == 0:
                    return ILL_DIVZERO
                r = x // y
            if r > maxint or r < -maxint:
                return ILL_OVERFLOW
            cells[args[2]] = r
        elif op == GETINPUT:
            k = cells[args[0]]
            if k < 0 or k >= len(inputs):
                return ILL_INPUT
            if args[1] >= 0:
                return ILL_WRITE
            v = inputs[k]
            if v > maxint or v < -maxint:
                return ILL_OVERFLOW
            cells[args[1]] = v
        elif op == MOVE:
            if args[1] >= 0:
                return ILL_WRITE
            cells[args[1]] = cells[args[0]]
        elif op == ALLOCATE:
            amount = cells[args[0]]
            if amount < 1 or amount > max_work + lo:
                return ILL_ALLOC
            for a in range(lo - amount, lo):
                cells[a] = 0
            st[S_MIN] = lo - amount
        elif op in (INCREMENT, DECREMENT):
            if args[0] >= 0:
                return ILL_WRITE
            r = cells[args[0]] + (1 if op == INCREMENT else -1)
            if r > maxint or r < -maxint:
                return ILL_OVERFLOW
            cells[args[0]] = r
        else:  # FREE
            amount = cells[args[0]]
            if amount < 1 or amount > -lo:
                return ILL_ALLOC
            st[S_MIN] = lo + amount
        st[S_IP] = nxt


@njit(cache=True)
def exec_machine(
    mem: np.ndarray,
    st: np.ndarray,
    out: np.ndarray,
    inputs: np.ndarray,
    n_instr: int,
    max_prog: int,
    maxint: int,
    limit: int | np.int64,
) -> int:
    """Run the machine in ``mem``/``st`` until it halts, needs a token, or reaches ``limit`` steps.

    Same semantics as `exec_machine_py`; ``max_work = len(mem) - max_prog``, ``n_out = len(out)``.
    """
    off = mem.shape[0] - max_prog
    n_out = out.shape[0]
    n_in = inputs.shape[0]
    while True:
        if st[S_STEPS] >= limit:
            return BUDGET
        ip = st[S_IP]
        lo = st[S_MIN]
        hi = st[S_MAX]
        if ip == hi + 1:
            if hi + 1 >= max_prog:
                st[S_STEPS] += 1
                return ILL_PROGRAM_FULL
            st[S_LO] = 0
            st[S_N] = n_instr
            return NEED
        if ip < lo or ip > hi:
            st[S_STEPS] += 1
            return ILL_IP
        op = mem[ip + off]
        if op < 0 or op >= n_instr:
            st[S_STEPS] += 1
            return ILL_OPCODE
        ar = ARITY[op]
        a1 = 0
        a2 = 0
        a3 = 0
        for k in range(1, ar + 1):
            if ip + k == hi + 1:
                if hi + 1 >= max_prog:
                    st[S_STEPS] += 1
                    return ILL_PROGRAM_FULL
                st[S_LO] = lo
                st[S_N] = hi + 2 - lo
                return NEED
            a = mem[ip + k + off]
            if a < lo or a > hi:
                st[S_STEPS] += 1
                return ILL_ADDRESS
            if k == 1:
                a1 = a
            elif k == 2:
                a2 = a
            else:
                a3 = a
        st[S_STEPS] += 1
        nxt = ip + ar + 1
        if op == JUMPLEQ:
            if mem[a1 + off] <= mem[a2 + off]:
                nxt = a3
        elif op == OUTPUT:
            nout = st[S_NOUT]
            out[nout] = mem[a1 + off]
            st[S_NOUT] = nout + 1
            st[S_IP] = nxt
            if nout + 1 >= n_out:
                return OUTPUT_FULL
        elif op == JUMP:
            nxt = a1
        elif op == STOP_OP:
            return STOP
        elif op == ADD or op == SUBTRACT or op == MULTIPLY or op == DIVIDE:
            if a3 >= 0:
                return ILL_WRITE
            x = mem[a1 + off]
            y = mem[a2 + off]
            if op == ADD:
                r = x + y
            elif op == SUBTRACT:
                r = x - y
            elif op == MULTIPLY:
                r = x * y
            else:
                if y == 0:
                    return ILL_DIVZERO
                r = x // y
            if r > maxint or r < -maxint:
                return ILL_OVERFLOW
            mem[a3 + off] = r
        elif op == GETINPUT:
            k = mem[a1 + off]
            if k < 0 or k >= n_in:
                return ILL_INPUT
            if a2 >= 0:
                return ILL_WRITE
            v = inputs[k]
            if v > maxint or v < -maxint:
                return ILL_OVERFLOW
            mem[a2 + off] = v
        elif op == MOVE:
            if a2 >= 0:
                return ILL_WRITE
            mem[a2 + off] = mem[a1 + off]
        elif op == ALLOCATE:
            amount = mem[a1 + off]
            if amount < 1 or amount > off + lo:
                return ILL_ALLOC
            for a in range(lo - amount, lo):
                mem[a + off] = 0
            st[S_MIN] = lo - amount
        elif op == INCREMENT or op == DECREMENT:
            if a1 >= 0:
                return ILL_WRITE
            r = mem[a1 + off] + (1 if op == INCREMENT else -1)
            if r > maxint or r < -maxint:
                return ILL_OVERFLOW
            mem[a1 + off] = r
        else:  # FREE
            amount = mem[a1 + off]
            if amount < 1 or amount > -lo:
                return ILL_ALLOC
            st[S_MIN] = lo + amount
        st[S_IP] = nxt


def run_program_py(
    program: list[int],
    work_init: list[int],
    inputs: list[int],
    n_out: int,
    n_instr: int,
    max_work: int,
    max_prog: int,
    maxint: int,
    limit: int,
) -> tuple[int, list[int], list[int], dict[int, int]]:
    """Plain-Python twin of `run_program`.

    Returns:
        ``(status, st, out, cells)`` with ``out`` holding only the values written.
    """
    w = len(work_init)
    cells = {a - w: int(v) for a, v in enumerate(work_init)}
    cells.update({a: int(v) for a, v in enumerate(program)})
    st = [0] * N_STATE
    st[S_MIN], st[S_MAX] = -w, len(program) - 1
    out: list[int] = []
    status = exec_machine_py(
        cells, st, out, [int(v) for v in inputs], n_out, n_instr, max_work, max_prog, maxint, limit
    )
    return status, st, out, cells


@njit(cache=True)
def _load(
    mem: np.ndarray, st: np.ndarray, program: np.ndarray, work_init: np.ndarray, max_prog: int
) -> None:
    off = mem.shape[0] - max_prog
    mem[:] = 0
    st[:] = 0
    w = work_init.shape[0]
    for i in range(w):
        mem[off - w + i] = work_init[i]
    for i in range(program.shape[0]):
        mem[off + i] = program[i]
    st[S_MIN] = -w
    st[S_MAX] = program.shape[0] - 1


@njit(cache=True)
def run_program(
    program: np.ndarray,
    work_init: np.ndarray,
    inputs: np.ndarray,
    n_out: int,
    n_instr: int,
    max_work: int,
    max_prog: int,
    maxint: int,
    limit: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Run a complete, fixed program (no oracle: reading past its end returns ``NEED``).

    Returns:
        ``(status, st, out, mem)``: the status code, the scalar state, the output buffer (the
        first ``st[S_NOUT]`` entries are written) and the storage array.
    """
    mem = np.zeros(max_work + max_prog, dtype=np.int64)
    st = np.zeros(N_STATE, dtype=np.int64)
    out = np.zeros(n_out, dtype=np.int64)
    _load(mem, st, program, work_init, max_prog)
    status = exec_machine(mem, st, out, inputs, n_instr, max_prog, maxint, limit)
    return status, st, out, mem


# ------------------------------------------------------------------------------ Levin phase


@njit(cache=True)
def _accepts(status: int, out: np.ndarray, nout: int, X: np.ndarray, y: np.ndarray) -> bool:
    if status != STOP and status != OUTPUT_FULL:
        return False
    for r in range(X.shape[0]):
        s = 0
        for j in range(nout):
            s += X[r, j] * out[j]
        if s != y[r]:
            return False
    return True


@njit(cache=True)
def levin_phase(
    work_init: np.ndarray,
    inputs: np.ndarray,
    n_out: int,
    n_instr: int,
    max_work: int,
    max_prog: int,
    maxint: int,
    X: np.ndarray,
    y: np.ndarray,
    log2_t: int,
    novel_only: bool,
    stop_after: int,
    path: np.ndarray,
    leaf_limit: int,
    sol_prog: np.ndarray,
    sol_out: np.ndarray,
    sol_info: np.ndarray,
    status_counts: np.ndarray,
) -> tuple[int, int, int, int, np.ndarray, int]:
    """One phase of Levin search (total time ``T = 2**log2_t``) over all self-delimiting programs.

    Depth first over the oracle's choices, lowest token first; the program prefix with
    probability ``1/D`` runs for at most ``T // D`` steps. Identical in counts and order to the
    generic `rnnai.search.levin.run_phase_py` run on the Python twin of the machine.

    Args:
        work_init, inputs, n_out: The task's initial work tape, input vector and output count.
        n_instr, max_work, max_prog, maxint: The language's limits.
        X, y: The task predicate: a halted program passes iff ``X @ w == y`` for its outputs
            ``w`` (zero beyond the values written).
        log2_t: The phase's ``i`` (``T = 2**i``).
        novel_only: Record only solutions that did not pass in phase ``i - 1``
            (``steps > (T // 2) // D``).
        stop_after: Stop once this many solutions are recorded (>= 1).
        path: Choice index per depth of the next program to run (resume point); empty at start.
        leaf_limit: Pause after this many finished programs (0: never).
        sol_prog, sol_out, sol_info: Output buffers, ``stop_after`` rows each.
        status_counts: Histogram of the finished programs' statuses; added to.

    Returns:
        ``(code, programs, steps, n_solutions, next_path, next_path_len)``: ``code`` is 0 when the
        phase is exhausted, 1 when paused at ``leaf_limit`` (resume from ``next_path``), 2 when
        ``stop_after`` solutions were found, -1 when ``path`` does not replay (corrupt resume).
    """
    t_total = np.int64(1) << log2_t
    half = t_total >> 1
    off = max_work
    mem = np.zeros(max_work + max_prog, dtype=np.int64)
    st = np.zeros(N_STATE, dtype=np.int64)
    out = np.zeros(n_out, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    _load(mem, st, empty, work_init, max_prog)
    depth_cap = max_prog + 1
    snap_st = np.zeros((depth_cap, N_STATE), dtype=np.int64)
    snap_work = np.zeros((depth_cap, max_work), dtype=np.int64)
    snap_den = np.zeros(depth_cap, dtype=np.int64)
    snap_j = np.zeros(depth_cap, dtype=np.int64)
    next_path = np.zeros(depth_cap, dtype=np.int64)
    depth = 0
    den = np.int64(1)
    programs = 0
    steps = 0
    n_sol = 0
    # replay the resume path (its steps were counted before the pause)
    for d in range(path.shape[0]):
        status = exec_machine(mem, st, out, inputs, n_instr, max_prog, maxint, t_total // den)
        if status != NEED:
            return -1, programs, steps, n_sol, next_path, 0
        snap_st[depth, :] = st
        w = -st[S_MIN]
        snap_work[depth, :w] = mem[off - w : off]
        snap_den[depth] = den
        snap_j[depth] = path[d]
        depth += 1
        mem[off + st[S_MAX] + 1] = st[S_LO] + path[d]
        st[S_MAX] += 1
        den = den * st[S_N]
    while True:
        before = st[S_STEPS]
        status = exec_machine(mem, st, out, inputs, n_instr, max_prog, maxint, t_total // den)
        steps += st[S_STEPS] - before
        if status == NEED:
            n = st[S_N]
            if n <= t_total // den and t_total // (den * n) >= st[S_STEPS] + 1:
                snap_st[depth, :] = st
                w = -st[S_MIN]
                snap_work[depth, :w] = mem[off - w : off]
                snap_den[depth] = den
                snap_j[depth] = 0
                depth += 1
                mem[off + st[S_MAX] + 1] = st[S_LO]
                st[S_MAX] += 1
                den = den * n
                continue
            status = BUDGET
        programs += 1
        status_counts[status] += 1
        nout = st[S_NOUT]
        if _accepts(status, out, nout, X, y):
            t = st[S_STEPS]
            if (not novel_only) or t > half // den:
                length = st[S_MAX] + 1
                sol_prog[n_sol, :] = 0
                sol_prog[n_sol, :length] = mem[off : off + length]
                sol_out[n_sol, :] = 0
                sol_out[n_sol, :nout] = out[:nout]
                sol_info[n_sol, I_LEN] = length
                sol_info[n_sol, I_DEN] = den
                sol_info[n_sol, I_STEPS] = t
                sol_info[n_sol, I_STATUS] = status
                sol_info[n_sol, I_NOUT] = nout
                sol_info[n_sol, I_LEAVES] = programs
                sol_info[n_sol, I_TOTAL_STEPS] = steps
                n_sol += 1
        # backtrack to the next sibling
        advanced = False
        while depth > 0:
            top = depth - 1
            snap_j[top] += 1
            n = snap_st[top, S_N]
            if snap_j[top] < n:
                st[:] = snap_st[top, :]
                w = -st[S_MIN]
                mem[off - w : off] = snap_work[top, :w]
                mem[off + st[S_MAX] + 1] = st[S_LO] + snap_j[top]
                st[S_MAX] += 1
                den = snap_den[top] * n
                advanced = True
                break
            depth -= 1
        if not advanced:
            return 0, programs, steps, n_sol, next_path, 0
        if n_sol >= stop_after or (leaf_limit > 0 and programs >= leaf_limit):
            for d in range(depth):
                next_path[d] = snap_j[d]
            return (2 if n_sol >= stop_after else 1), programs, steps, n_sol, next_path, depth
