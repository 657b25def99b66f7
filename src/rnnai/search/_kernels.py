"""Numba kernels of the OOPS machine and of its prefix search; the Python twin is `_twin`.

The semantics are documented in `rnnai.search.vm` (addresses, instructions, deviations) and
`rnnai.search.oops` (the search). The whole state lives in two flat arrays, so that a search can
be interrupted at any prefix boundary, checkpointed and resumed, and so that every helper takes a
single array (numba passes each array argument with its reference count; with a dozen arrays per
call the machine ran 20x slower):

* ``mem`` int64, parts at fixed offsets: ``REG`` registers (`rnnai.search.vm` ``R_*``), ``LAY``
  the layout, ``TAPE`` the tapes (task k's cell for address ``a <= 0`` at ``k W - a``), ``MARK``
  (cell already on the undo stack for the current code level), ``CODE`` the code array ``q``,
  ``LVL`` per code address (undo-stack height, solved-task anchor, instruction tried, time used,
  before that address), ``OLD`` (start, size) of frozen programs, ``RING`` (next, prev) of the
  task ring and the solved list, ``OPTAB`` per instruction (primitive id or 0, inputs, outputs,
  address), and last ``UND`` the undo stack (flat cell index, old content; entry 0 unused).
* ``fmem`` float64: ``[P, (p_l, P_l) per code address l]``.

`allocate` returns both with named numpy views of the parts (the twin works on those views).

Time accounting (Section 4 of the paper): a prefix p may run ``t <= T P(p)`` steps summed over
all tasks in the ring; every instruction costs 1, copies cost 1 per cell moved, scans 1 per cell.
Comparisons are made in float64 exactly as ``T * P`` against integer counts, as in the original.
The layout of the paper's 73-instruction machine is compiled in as constants (`check_layout`).

Speed: every computed index into ``mem`` goes through `_u` (as uint64, numba omits its
negative-index wraparound code; every index is non-negative by construction, and address checks
come before each access), and the kernels use ``error_model="numpy"`` (no zero-division checks:
every division is guarded); the undo-stack peak is noted where the stack shrinks and when a
kernel returns (`note_peak`), not at every push; each step reads its instruction once. Together
about 1.3x on the 1^n2^n search (A/B, same machine), which puts the kernel at about 1.2x the
original C program (`rnnai bench search`). Tried without gain: equality-only dispatch, `execute`
as a real call, passing the task's tape offset down instead of reloading it.
"""

from __future__ import annotations

import numpy as np

from rnnai.runtime.jit import njit
from rnnai.search.vm import (
    A_MAX,
    A_MIN,
    FROZEN_PROGRAMS,
    INSTRUCTIONS,
    KIND_HANOI,
    L_ACP,
    L_ACURP,
    L_ADDP,
    L_ADP,
    L_AENDPATS,
    L_AENDSTACK,
    L_AENV,
    L_AFNP,
    L_APATP,
    L_AQUOTE,
    L_ATASK,
    L_CAP,
    L_DSIZE,
    L_KIND,
    L_NDECL,
    L_NQ,
    L_QUOTE,
    L_UPSQ,
    L_W,
    MAX_CP,
    MAX_DP,
    MAX_FN,
    MAX_INT,
    MAX_PAT,
    MAX_TASK,
    N_LAY,
    N_REG,
    R_ACURRENT,
    R_AFROZEN,
    R_ALAST,
    R_ANCHOR,
    R_CRASH,
    R_DONE,
    R_HALT,
    R_INSTS,
    R_JUMPED,
    R_OLDP,
    R_PEAKSP,
    R_PHASE,
    R_PREFS,
    R_PUSHEN,
    R_QP,
    R_RING_HI,
    R_RING_LO,
    R_SP,
    R_STAGE,
    R_T,
    R_TASK,
    R_TBIG,
    R_TOTALT,
    R_UNSOLVED,
    T_LIMIT,
    V_LAST,
    V_SP,
    V_SQ,
    V_T,
    Layout,
    MachineError,
)

MIN_INT = -MAX_INT
W = -A_MIN + 1
"""Cells per tape."""
TAPE_N = (MAX_TASK + 1) * W
N_OPS = 128
"""Room for instruction numbers 0..127 in the instruction table."""
# offsets of the parts of ``mem`` (int64) and ``fmem`` (float64)
REG = 0
LAY = 32
TAPE = 64
MARK = TAPE + TAPE_N
CODE = MARK + TAPE_N
LVL = CODE + A_MAX + 1
OLD = LVL + 4 * (A_MAX + 1)
RING = OLD + 2 * (A_MAX + 1)
OPTAB = RING + 2 * (MAX_TASK + 2)
UND = OPTAB + 4 * N_OPS
LVLF = 1
FMEM_N = LVLF + 2 * (A_MAX + 1)
# the paper's machine (73 instructions) as compile-time constants; `check_layout` holds ``lay``
# against them
_PAPER = Layout(len(INSTRUCTIONS))
ACP, ADP, AENDSTACK, ADDP = _PAPER.acp, _PAPER.adp, _PAPER.aendstack, _PAPER.aDp
AFNP, ATASK, APATP, ACURP = _PAPER.afnp, _PAPER.atask, _PAPER.apatp, _PAPER.acurp
AENDPATS, AQUOTE, AENV = _PAPER.aendpats, _PAPER.aquote, _PAPER.aenv
DSIZE, NQ, UPSQ = MAX_TASK + 1, len(INSTRUCTIONS), len(INSTRUCTIONS)
QUOTE = [i.name for i in INSTRUCTIONS].index("qot") + 1
NDECL = len(FROZEN_PROGRAMS)
_CONST_LAY = {
    L_ACP: ACP, L_ADP: ADP, L_AENDSTACK: AENDSTACK, L_ADDP: ADDP, L_AFNP: AFNP, L_ATASK: ATASK,
    L_APATP: APATP, L_ACURP: ACURP, L_AENDPATS: AENDPATS, L_AQUOTE: AQUOTE, L_AENV: AENV,
    L_DSIZE: DSIZE, L_NQ: NQ, L_QUOTE: QUOTE, L_UPSQ: UPSQ, L_NDECL: NDECL, L_W: W,
}  # fmt: skip


def check_layout(lay: np.ndarray) -> None:
    """Raise `MachineError` unless ``lay`` is the layout compiled into the kernels."""
    for k, v in _CONST_LAY.items():
        if int(lay[k]) != v:
            raise MachineError(
                f"the numba kernels are compiled for the paper's {NQ}-instruction machine; "
                f"layout entry {k} is {int(lay[k])}, expected {v}"
            )


# run_until statuses
ST_BUDGET, ST_SOLVED, ST_TCRASH, ST_PHASE = 0, 1, 2, 3


@njit(cache=True, forceinline=True, error_model="numpy")
def _u(i):
    """An index as uint64: numba then skips its negative-index wraparound code."""
    return np.uint64(i)


# --------------------------------------------------------------------------- tape cells + undo


@njit(cache=True, forceinline=True, error_model="numpy")
def rd(mem, a):
    """Content of tape address ``a`` of the current task; halts (returns 0) outside the tape."""
    if a < A_MIN or a > 0:
        mem[REG + R_HALT] = 1
        return 0
    return mem[_u(TAPE + mem[REG + R_TASK] * W - a)]


@njit(cache=True, forceinline=True, error_model="numpy")
def wr(mem, a, v):
    """Store ``v`` at tape address ``a``, first saving the old content on the undo stack."""
    if a < A_MIN or a > 0:
        mem[REG + R_HALT] = 1
        return
    i = mem[REG + R_TASK] * W - a
    if mem[_u(TAPE + i)] == v:
        return
    if mem[REG + R_PUSHEN] != 0 and mem[_u(MARK + i)] == 0:
        sp = mem[REG + R_SP]
        if sp >= mem[LAY + L_CAP]:  # full undo stack: illegal step, the cell stays as it is
            mem[REG + R_HALT] = 1
            return
        sp += 1
        mem[_u(UND + 2 * (sp) + 0)] = i
        mem[_u(UND + 2 * (sp) + 1)] = mem[_u(TAPE + i)]
        mem[_u(MARK + i)] = 1
        mem[REG + R_SP] = sp
    mem[_u(TAPE + i)] = v


@njit(cache=True, forceinline=True, error_model="numpy")
def zq(mem, a):
    """Content of any address: a tape cell (a <= 0) or a code cell (1..qp)."""
    if a <= 0:
        return rd(mem, a)
    return mem[_u(CODE + a)]


@njit(cache=True, forceinline=True, error_model="numpy")
def charge(mem, tp, n):
    """Charge ``n`` extra steps if they fit ``t + n <= T P``; otherwise halt. Returns success."""
    if n < 0 or float(mem[REG + R_T] + n) > tp:
        mem[REG + R_HALT] = 1
        return False
    mem[REG + R_T] += n
    mem[REG + R_TOTALT] += n
    return True


# --------------------------------------------------------------------------- stacks and frames


@njit(cache=True, forceinline=True, error_model="numpy")
def push(mem, x):
    adp = ADP
    y = rd(mem, adp) + 1
    if y > MAX_DP or x < MIN_INT or x > MAX_INT:
        mem[REG + R_HALT] = 1
        return
    wr(mem, adp, y)
    wr(mem, adp + y, x)


@njit(cache=True, forceinline=True, error_model="numpy")
def pop(mem):
    adp = ADP
    d = rd(mem, adp)
    if d == 0:
        mem[REG + R_HALT] = 1
        return 0
    wr(mem, adp, d - 1)
    return rd(mem, adp + d)


@njit(cache=True, forceinline=True, error_model="numpy")
def top(mem):
    adp = ADP
    d = rd(mem, adp)
    if d == 0:
        mem[REG + R_HALT] = 1
        return 0
    return rd(mem, adp + d)


@njit(cache=True, forceinline=True, error_model="numpy")
def ds(mem, n):
    """ds[n] (n = 0 reads dp itself); halts outside 0..maxdp."""
    if n < 0 or n > MAX_DP:
        mem[REG + R_HALT] = 1
        return 0
    return rd(mem, ADP + n)


@njit(cache=True, forceinline=True, error_model="numpy")
def push_d(mem, x):
    a = ADDP
    d = rd(mem, a)
    if d == MAX_DP or x < MIN_INT or x > MAX_INT:
        mem[REG + R_HALT] = 1
        return
    wr(mem, a, d + 1)
    wr(mem, a + d + 1, x)


@njit(cache=True, forceinline=True, error_model="numpy")
def top_d(mem):
    a = ADDP
    d = rd(mem, a)
    if d == 0:
        mem[REG + R_HALT] = 1
        return 0
    return rd(mem, a + d)


@njit(cache=True, forceinline=True, error_model="numpy")
def frame(mem, k):
    """Cell k (1 = ip, 2 = base, 3 = out) of the top call frame."""
    acp = ACP
    return rd(mem, acp + k + rd(mem, acp))


@njit(cache=True, forceinline=True, error_model="numpy")
def set_frame(mem, k, v):
    if v > MAX_INT or v < MIN_INT:
        mem[REG + R_HALT] = 1
        return
    acp = ACP
    wr(mem, acp + k + rd(mem, acp), v)


@njit(cache=True, forceinline=True, error_model="numpy")
def open_frame(mem, m, n):
    """New call frame with m inputs (m < 0: the caller's base) and n outputs."""
    acp = ACP
    cp = rd(mem, acp)
    base = frame(mem, 2)
    d = rd(mem, ADP)
    if m > d:
        mem[REG + R_HALT] = 1
        return
    cp += 3
    if cp + 3 > MAX_CP:
        mem[REG + R_HALT] = 1
        return
    wr(mem, acp, cp)
    set_frame(mem, 2, base if m < 0 else d - m)
    set_frame(mem, 3, n)
    mem[REG + R_JUMPED] = 1


@njit(cache=True, forceinline=True, error_model="numpy")
def call(mem, m, n, a):
    open_frame(mem, m, n)
    set_frame(mem, 1, a)


@njit(cache=True, error_model="numpy")
def copy_cells(mem, tp, a, b, n, lo, hi):
    """Copy n cells from address a (tape or code) to tape address b in [lo, hi]; costs n."""
    if n < 0 or a < A_MIN or a > mem[REG + R_QP] or a + n < A_MIN or a + n > mem[REG + R_QP]:
        mem[REG + R_HALT] = 1
        return
    if b < lo or b + n > hi:
        mem[REG + R_HALT] = 1
        return
    if a == b:
        return
    if not charge(mem, tp, n):
        return
    if b < a:
        for k in range(n):
            wr(mem, b + k, zq(mem, a + k))
    else:
        for k in range(n - 1, -1, -1):
            wr(mem, b + k, zq(mem, a + k))


@njit(cache=True, error_model="numpy")
def move_down(mem, tp, n, a):
    """Move the n top elements of ds to just above a; dp = a + n (used by ret)."""
    adp = ADP
    i = rd(mem, adp) - n + 1
    if i == a:
        return
    if a > i:
        mem[REG + R_HALT] = 1
        return
    wr(mem, adp, a + n)
    dst = a + adp + 1
    src = i + adp
    if not charge(mem, tp, n):
        return
    for k in range(n):
        wr(mem, dst + k, rd(mem, src + k))


@njit(cache=True, error_model="numpy")
def ret(mem, tp):
    acp = ACP
    cp = rd(mem, acp)
    n = frame(mem, 3)
    if cp < 1:
        mem[REG + R_HALT] = 1
        return
    if n > rd(mem, ADP):
        mem[REG + R_HALT] = 1
        return
    if n >= 0:
        move_down(mem, tp, n, frame(mem, 2))
    wr(mem, acp, cp - 3)


# --------------------------------------------------------------------------- search patterns


@njit(cache=True, forceinline=True, error_model="numpy")
def pat_off(mem):
    """Address just before the current pattern's (sum, max, w_1..w_nQ)."""
    return ACURP + rd(mem, ACURP) * (NQ + 2)


@njit(cache=True, error_model="numpy")
def add_weight(mem, i, val):
    """w_i += val in the current pattern (no effect if val < 1, i unknown or the sum overflows)."""
    if val < 1 or i > NQ or i < 1:
        return
    po = pat_off(mem)
    x = rd(mem, po + 1) + val
    if x > MAX_INT:
        return
    wr(mem, po + 1, x)
    x = rd(mem, po + 2 + i) + val
    wr(mem, po + 2 + i, x)
    if x > rd(mem, po + 2):
        wr(mem, po + 2, x)


@njit(cache=True, error_model="numpy")
def second_max(mem, po):
    """The original program's running maximum over the weights other than the first maximal one."""
    x = rd(mem, po + 2)
    n = po + 2
    end = n + NQ
    while True:
        n += 1
        if rd(mem, n) == x or mem[REG + R_HALT] != 0:
            break
    m = po + 2
    s = 0
    while True:
        m += 1
        c = rd(mem, m)
        if s < c and m != n:
            s = c
        if not (s < x and m < end):
            break
    return s


@njit(cache=True, error_model="numpy")
def dec_weight(mem):
    i = top(mem)
    if i > NQ or i < 1:
        return
    po = pat_off(mem)
    x = rd(mem, po + 2 + i)
    if x == 0:
        return
    y = rd(mem, po + 1)
    z = rd(mem, po + 2)
    if x == 1 and y <= z + 1:
        mem[REG + R_HALT] = 1
        return
    if x == z:
        wr(mem, po + 2, second_max(mem, po))
    wr(mem, po + 2 + i, x - 1)
    wr(mem, po + 1, y - 1)


# --------------------------------------------------------------------------- Hanoi environment


@njit(cache=True, forceinline=True, error_model="numpy")
def peg(mem, tower):
    return AENV + (tower - 1) * DSIZE


@njit(cache=True, error_model="numpy")
def move_disk(mem, a, b):
    ta = rd(mem, peg(mem, a))
    if ta == 0:
        mem[REG + R_HALT] = 1
        return
    tb = rd(mem, peg(mem, b))
    disk = rd(mem, peg(mem, a) + ta)
    if tb > 0 and rd(mem, peg(mem, b) + tb) < disk:
        mem[REG + R_HALT] = 1
        return
    tb += 1
    wr(mem, peg(mem, b), tb)
    wr(mem, peg(mem, b) + tb, disk)
    wr(mem, peg(mem, a) + ta, 0)
    wr(mem, peg(mem, a), ta - 1)


@njit(cache=True, forceinline=True, error_model="numpy")
def solved(mem):
    """The task's goal test: Hanoi (pegs 1 and 2 empty) or 1^n2^n on Ds (n ones then n twos
    on top, with at least one cell below them)."""
    w = mem[REG + R_TASK] * W
    if mem[LAY + L_KIND] == KIND_HANOI:
        return mem[_u(TAPE + w - AENV)] == 0 and mem[_u(TAPE + w - AENV - DSIZE)] == 0
    n = mem[REG + R_TASK]
    addp = ADDP
    i = addp + mem[_u(TAPE + w - addp)]
    j = i - 2 * n
    if j <= addp:
        return False
    j += n
    while i > j and mem[_u(TAPE + w - i)] == 2:
        i -= 1
    if i != j:
        return False
    j -= n
    while i > j and mem[_u(TAPE + w - i)] == 1:
        i -= 1
    return i == j


# --------------------------------------------------------------------------- one instruction


@njit(cache=True, forceinline=True, error_model="numpy")
def execute(mem, tp, op):  # noqa: C901 (one switch)
    """Execute instruction number ``op`` on the current task (``exec`` loops, no recursion)."""
    adp = ADP
    while True:
        k = mem[_u(OPTAB + 4 * (op) + 0)]
        if k == 0:  # frozen program: call it
            call(
                mem,
                mem[_u(OPTAB + 4 * (op) + 1)],
                mem[_u(OPTAB + 4 * (op) + 2)],
                mem[_u(OPTAB + 4 * (op) + 3)],
            )
            return
        if k == 64:  # exec
            n = pop(mem)
            if n < 1 or n > NQ:
                mem[REG + R_HALT] = 1
                return
            op = n
            continue
        break
    if k <= 2:  # 1toD 2toD
        push_d(mem, k)
    elif k == 3:  # mvdsk
        base = frame(mem, 2)
        a = ds(mem, base + 1)
        b = ds(mem, base + 3)
        if a < 1 or a > 3 or b < 1 or b > 3 or a == b:
            mem[REG + R_HALT] = 1
        else:
            move_disk(mem, a, b)
    elif k == 4 or k == 5 or k == 45:  # x23 x34 xmn
        if k == 4:
            push(mem, 2)
            push(mem, 3)
        elif k == 5:
            push(mem, 3)
            push(mem, 4)
        m = pop(mem)
        n = pop(mem)
        d = rd(mem, adp)
        m = d - m + 1
        n = d - n + 1
        if m < 1 or m > MAX_DP or n < 1 or n > MAX_DP:
            mem[REG + R_HALT] = 1
        else:
            x = ds(mem, m)
            wr(mem, adp + m, ds(mem, n))
            wr(mem, adp + n, x)
    elif k == 6:  # bsf
        base = frame(mem, 2)
        v = pop(mem)
        call(mem, -1, -1, base + adp + v + 1)
    elif k == 7:  # boostq
        a = pop(mem) + NDECL
        if a < 0 or a > mem[REG + R_OLDP]:
            mem[REG + R_HALT] = 1
        else:
            n = mem[_u(OLD + 2 * (a) + 1)]
            s = mem[_u(OLD + 2 * (a) + 0)]
            if charge(mem, tp, n):
                for i in range(s, s + n):
                    add_weight(mem, mem[_u(CODE + i)], UPSQ)
    elif k <= 15 or k == 34:  # add mul powr sub div inc dec by2 neg
        x = pop(mem)
        if k == 8:
            push(mem, x + pop(mem))
        elif k == 9:
            push(mem, x * pop(mem))
        elif k == 10:
            m = pop(mem)
            if m <= 1:
                push(mem, 1)
            else:
                i = m
                while x > 1 and MIN_INT < i < MAX_INT:
                    i *= m
                    x -= 1
                push(mem, i)
        elif k == 11:
            push(mem, pop(mem) - x)
        elif k == 12:
            if x == 0:
                mem[REG + R_HALT] = 1
            else:
                y = pop(mem)
                q = abs(y) // abs(x)  # C division truncates toward zero
                push(mem, q if (y >= 0) == (x > 0) else -q)
        elif k == 13:
            push(mem, x + 1)
        elif k == 14:
            push(mem, x - 1)
        elif k == 15:
            push(mem, x * 2)
        else:
            push(mem, 1 if x == 0 else -x)
    elif k == 16:  # getq
        a = pop(mem)
        if a < 0 or a > mem[REG + R_OLDP]:
            mem[REG + R_HALT] = 1
        else:
            n = mem[_u(OLD + 2 * (a) + 1)]
            d = rd(mem, adp)
            copy_cells(
                mem,
                tp,
                mem[_u(OLD + 2 * (a) + 0)],
                adp + 1 + d,
                n,
                adp + 1,
                AENDSTACK,
            )
            wr(mem, adp, rd(mem, adp) + n)
    elif k == 17:  # insq
        b = pop(mem)
        a = pop(mem)
        base = frame(mem, 2)
        m = rd(mem, adp) - base - b
        if a < 0 or a > mem[REG + R_OLDP] or b < 0 or m < 0:
            mem[REG + R_HALT] = 1
        else:
            n = mem[_u(OLD + 2 * (a) + 1)]
            b += adp + base + 1
            hi = AENDSTACK
            copy_cells(mem, tp, b, b + n, m, adp + 1, hi)
            copy_cells(mem, tp, mem[_u(OLD + 2 * (a) + 0)], b, n, adp + 1, hi)
            wr(mem, adp, rd(mem, adp) + n)
    elif k == 18:  # findb
        kk = pop(mem)
        i = frame(mem, 2) + 1
        w0 = mem[REG + R_TASK] * W
        while float(mem[REG + R_T]) < tp:
            # past the tape's end the scan reads on into the previous task's tape, as the
            # original's memory layout does; before the first tape it halts
            f = w0 - adp - i
            if f < 0 or f >= TAPE_N:
                mem[REG + R_HALT] = 1
                break
            if mem[_u(TAPE + f)] == kk:
                break
            i += 1
            mem[REG + R_T] += 1
            mem[REG + R_TOTALT] += 1
        push(mem, i)
    elif k == 19:  # incQ
        add_weight(mem, top(mem), 1)
    elif k == 20:  # decQ
        dec_weight(mem)
    elif k == 21:  # pupat (reads the pointer's address, as the original; always halts)
        i = APATP
        if i > MAX_PAT:
            mem[REG + R_HALT] = 1
        else:
            i += 1
            wr(mem, APATP, i)
            w = NQ + 2
            copy_cells(
                mem,
                tp,
                pat_off(mem) + 1,
                ACURP + 1 + i * w,
                w,
                ACURP + 1,
                AENDPATS,
            )
    elif k == 22:  # setpat
        i = pop(mem)
        if i < 0 or i > rd(mem, APATP):
            mem[REG + R_HALT] = 1
        else:
            wr(mem, ACURP, i)
    elif k == 23:  # insn
        b = pop(mem)
        n = pop(mem)
        a = pop(mem)
        base = frame(mem, 2)
        m = rd(mem, adp) - base - b
        if b < 0 or m < 0 or n < 1:
            mem[REG + R_HALT] = 1
        else:
            b += adp + base + 1
            a += adp + base
            hi = AENDSTACK
            copy_cells(mem, tp, b, b + n, m, adp + 1, hi)
            copy_cells(mem, tp, a, b, n, adp + 1, hi)
            wr(mem, adp, rd(mem, adp) + n)
    elif k == 24:  # mvn
        b = pop(mem)
        n = pop(mem)
        a = pop(mem)
        m = frame(mem, 2) + adp
        copy_cells(mem, tp, m + a, m + b, n, adp + 1, AENDSTACK)
        a = b + n - 1
        if a > rd(mem, adp):
            wr(mem, adp, a)
    elif k == 25:  # deln
        n = pop(mem)
        m = pop(mem)
        if m < 0 or n < 0:
            mem[REG + R_HALT] = 1
        else:
            base = frame(mem, 2)
            m += adp + base
            d = rd(mem, adp)
            copy_cells(
                mem,
                tp,
                m + n + 1,
                m + 1,
                d - base - n,
                adp + 1,
                AENDSTACK,
            )
            wr(mem, adp, rd(mem, adp) - n)
    elif k == 26:  # intpf
        n = rd(mem, AFNP)
        if n < 1:
            mem[REG + R_HALT] = 1
        else:
            push(mem, rd(mem, AFNP + 3 * n - 2))
    elif k == 27:  # def
        afnp = AFNP
        i = 1 + rd(mem, afnp)
        if i > MAX_FN:
            mem[REG + R_HALT] = 1
        else:
            wr(mem, afnp, i)
            i = 3 * i + afnp
            wr(mem, i, frame(mem, 1) + 1)
            wr(mem, i - 1, pop(mem))
            wr(mem, i - 2, pop(mem))
    elif k == 28:  # topf
        push(mem, rd(mem, AFNP))
    elif k == 29:  # dof
        n = pop(mem)
        afnp = AFNP
        if n < 1 or n > rd(mem, afnp):
            mem[REG + R_HALT] = 1
        else:
            n = afnp + 3 * n
            open_frame(mem, rd(mem, n - 2), rd(mem, n - 1))
            set_frame(mem, 1, rd(mem, n))
    elif k == 30:  # oldf
        a = pop(mem)
        if a < 0 or a > mem[REG + R_OLDP]:
            mem[REG + R_HALT] = 1
        else:
            open_frame(mem, 0, 0)
            set_frame(mem, 1, mem[_u(OLD + 2 * (a) + 0)])
    elif k == 31:  # bsjmp
        base = frame(mem, 2)
        set_frame(mem, 1, base + adp + pop(mem))
    elif k == 32:  # ret
        ret(mem, tp)
    elif k == 33:  # rt0
        if pop(mem) <= 0:
            ret(mem, tp)
    elif k == 35 or k == 36:  # eq grt
        x = pop(mem)
        y = pop(mem)
        c = (x == y) if k == 35 else (x > y)
        push(mem, 1 if c else 0)
    elif k == 37:  # clear
        wr(mem, adp, 0)
    elif k == 38:  # del
        d = rd(mem, adp)
        if d == 0:
            mem[REG + R_HALT] = 1
        else:
            wr(mem, adp, d - 1)
    elif k == 39:  # up
        push(mem, top(mem))
    elif k == 40:  # ex
        m = rd(mem, adp)
        if m < 2:
            mem[REG + R_HALT] = 1
        else:
            x = ds(mem, m)
            wr(mem, adp + m, ds(mem, m - 1))
            wr(mem, adp + m - 1, x)
    elif k == 41:  # jmp1
        if pop(mem) > 0:
            set_frame(mem, 1, pop(mem))
            mem[REG + R_JUMPED] = 1
    elif k == 42:  # outn
        n = pop(mem)
        d = rd(mem, adp)
        push(mem, ds(mem, d - n + 1))
    elif k == 43 or k == 47:  # inn inb
        n = pop(mem)
        if k == 43:
            n = rd(mem, adp) - n + 1
        else:
            n = frame(mem, 2) + n
        if n < 1 or n > MAX_DP:
            mem[REG + R_HALT] = 1
        else:
            wr(mem, adp + n, top(mem))
    elif k == 44:  # cpn
        n = pop(mem)
        if n < 0:
            mem[REG + R_HALT] = 1
        else:
            i = rd(mem, adp)
            j = i + n
            if j > MAX_DP:
                mem[REG + R_HALT] = 1
            else:
                wr(mem, adp, j)
                if charge(mem, tp, n):
                    for kk in range(n):
                        wr(
                            mem,
                            adp + j - kk,
                            rd(mem, adp + i - kk),
                        )
    elif k == 46:  # outb
        n = pop(mem)
        push(mem, ds(mem, frame(mem, 2) + n))
    elif k == 48:  # cpnb
        n = pop(mem)
        base = frame(mem, 2)
        d = rd(mem, adp)
        copy_cells(
            mem,
            tp,
            adp + base + 1,
            adp + d + 1,
            n,
            adp + 1,
            AENDSTACK,
        )
        wr(mem, adp, rd(mem, adp) + n)
    elif k == 49:  # xmnb
        m = pop(mem)
        n = pop(mem)
        base = frame(mem, 2)
        m += base
        n += base
        if m < 1 or m > MAX_DP or n < 1 or n > MAX_DP:
            mem[REG + R_HALT] = 1
        else:
            x = ds(mem, m)
            wr(mem, adp + m, ds(mem, n))
            wr(mem, adp + n, x)
    elif k == 50:  # ip2ds
        push(mem, frame(mem, 1))
    elif k == 51:  # pip
        set_frame(mem, 1, pop(mem))
    elif k == 52:  # pushdp
        push(mem, rd(mem, adp) + 1)
    elif k == 53:  # popdp
        a = pop(mem)
        if a < 0 or a > MAX_DP:
            mem[REG + R_HALT] = 1
        else:
            wr(mem, adp, a)
    elif k == 54:  # toD
        push_d(mem, pop(mem))
    elif k == 55:  # fromD
        push(mem, top_d(mem))
    elif k == 56:  # delD
        d = rd(mem, ADDP)
        if d == 0:
            mem[REG + R_HALT] = 1
        else:
            wr(mem, ADDP, d - 1)
    elif k == 57:  # tsk
        push(mem, rd(mem, ATASK))
    elif k <= 63:  # c0..c5
        push(mem, k - 58)
    elif k == 65:  # qot
        wr(mem, AQUOTE, 1)
    # k == 66: nop


# --------------------------------------------------------------------------- running tasks


@njit(cache=True, forceinline=True, error_model="numpy")
def one_step(mem, tp, n):
    """Execute one instruction of the current task, test success, pass on to the next task."""
    mem[REG + R_JUMPED] = 0
    mem[REG + R_INSTS] += 1
    mem[REG + R_T] += 1
    mem[REG + R_TOTALT] += 1
    if rd(mem, AQUOTE) == 1:
        if n == QUOTE:
            wr(mem, AQUOTE, 0)
        else:
            push(mem, n)
    else:
        execute(mem, tp, n)
    if mem[REG + R_JUMPED] == 0:
        set_frame(mem, 1, frame(mem, 1) + 1)
    task = mem[REG + R_TASK]
    if solved(mem):  # also after a halting instruction, as in the original
        mem[REG + R_UNSOLVED] -= 1
        nxt, prv = mem[_u(RING + 2 * (task) + 0)], mem[_u(RING + 2 * (task) + 1)]
        mem[_u(RING + 2 * (prv) + 0)] = nxt
        mem[_u(RING + 2 * (nxt) + 1)] = prv
        mem[_u(RING + 2 * (task) + 1)] = mem[REG + R_ANCHOR]
        mem[REG + R_ANCHOR] = task
    mem[REG + R_TASK] = mem[_u(RING + 2 * (task) + 0)]


@njit(cache=True, forceinline=True, error_model="numpy")
def step_until(mem, fmem):
    """Run the ring until all solved, a halt, an ip off the code (a request), or ``t`` reaching
    ``T P``."""
    mem[REG + R_HALT] = 0
    tp = float(mem[REG + R_TBIG]) * fmem[0]
    while (
        mem[REG + R_UNSOLVED] > 0
        and mem[REG + R_HALT] == 0
        and float(mem[REG + R_T] + mem[REG + R_UNSOLVED]) <= tp
    ):
        a = frame(mem, 1)  # the ip must point at an instruction; it is read once per step
        if a < A_MIN or a > mem[REG + R_QP]:
            return
        n = zq(mem, a)
        if n < 1 or n > NQ:
            return
        one_step(mem, tp, n)


@njit(cache=True, error_model="numpy")
def run_program(mem, fmem, max_steps):
    """Run the current ring without searching (a test harness): ``step_until`` once."""
    fmem[0] = 1.0
    mem[REG + R_TBIG] = max_steps
    step_until(mem, fmem)
    note_peak(mem)


# --------------------------------------------------------------------------- the prefix search


@njit(cache=True, forceinline=True, error_model="numpy")
def note_peak(mem):
    """Raise the undo-stack peak to the current height (done where the stack shrinks and where
    the kernel returns, not at every push)."""
    if mem[REG + R_SP] > mem[REG + R_PEAKSP]:
        mem[REG + R_PEAKSP] = mem[REG + R_SP]


@njit(cache=True, forceinline=True, error_model="numpy")
def unmark(mem, ptr):
    for k in range(mem[REG + R_SP], ptr, -1):
        mem[_u(MARK + mem[_u(UND + 2 * (k) + 0)])] = 0


@njit(cache=True, forceinline=True, error_model="numpy")
def undo_to(mem, ptr):
    sp = mem[REG + R_SP]
    if sp > mem[REG + R_PEAKSP]:  # the peak is noted where the stack shrinks
        mem[REG + R_PEAKSP] = sp
    while sp > ptr:
        mem[_u(TAPE + mem[_u(UND + 2 * (sp) + 0)])] = mem[_u(UND + 2 * (sp) + 1)]
        sp -= 1
    mem[REG + R_SP] = sp


@njit(cache=True, forceinline=True, error_model="numpy")
def reinsert_solved(mem, below):
    """Put tasks solved since the anchor ``below`` back into the ring (undo of their removal)."""
    while mem[REG + R_ANCHOR] != below:
        mem[REG + R_UNSOLVED] += 1
        task = mem[REG + R_ANCHOR]
        mem[REG + R_TASK] = task
        mem[REG + R_ANCHOR] = mem[_u(RING + 2 * (task) + 1)]
        nxt = mem[_u(RING + 2 * (task) + 0)]
        mem[_u(RING + 2 * (task) + 1)] = mem[_u(RING + 2 * (nxt) + 1)]
        mem[_u(RING + 2 * (nxt) + 1)] = task
        mem[_u(RING + 2 * (mem[_u(RING + 2 * (task) + 1)]) + 0)] = task


@njit(cache=True, forceinline=True, error_model="numpy")
def maybe_grow(mem, fmem):
    """If the current task requests the instruction at ``qp + 1`` and the most probable one
    could still run, open that code level (remember undo height, anchor, t, P)."""
    if mem[REG + R_HALT] != 0 or frame(mem, 1) != mem[REG + R_QP] + 1:
        return
    po = pat_off(mem)
    tp = float(mem[REG + R_TBIG]) * fmem[0]
    if tp * rd(mem, po + 2) < float((mem[REG + R_T] + mem[REG + R_UNSOLVED]) * rd(mem, po + 1)):
        return
    qp = mem[REG + R_QP]
    if qp >= A_MAX:
        mem[REG + R_CRASH] = 1
        return
    unmark(mem, mem[_u(LVL + 4 * (qp) + V_SP)])
    qp += 1
    mem[REG + R_QP] = qp
    mem[_u(LVL + 4 * (qp) + V_LAST)] = mem[REG + R_ANCHOR]
    mem[_u(LVL + 4 * (qp) + V_SP)] = mem[REG + R_SP]
    mem[_u(LVL + 4 * (qp) + V_SQ)] = 0
    mem[_u(LVL + 4 * (qp) + V_T)] = mem[REG + R_T]
    fmem[_u(LVLF + 2 * (qp) + 1)] = fmem[0]


@njit(cache=True, forceinline=True, error_model="numpy")
def next_choice(mem, fmem):
    """Put the next instruction with enough probability at the top code level ``qp``:
    ``T P(p) w_i / sum(w) >= t + unsolved``. Restores the level's start state first."""
    qp = mem[REG + R_QP]
    i = mem[_u(LVL + 4 * (qp) + V_SQ)]
    if i != 0:
        unmark(mem, mem[_u(LVL + 4 * (qp) + V_SP)])
        undo_to(mem, mem[_u(LVL + 4 * (qp) + V_SP)])
        reinsert_solved(mem, mem[_u(LVL + 4 * (qp) + V_LAST)])
        mem[REG + R_T] = mem[_u(LVL + 4 * (qp) + V_T)]
        fmem[0] = fmem[_u(LVLF + 2 * (qp) + 1)]
    nq = NQ
    if i == nq:
        return False
    po = pat_off(mem)
    s = rd(mem, po + 1)
    if s <= 0:
        return False
    tmp = float(mem[REG + R_TBIG]) * fmem[0] / float(s * (mem[REG + R_T] + mem[REG + R_UNSOLVED]))
    if po + 3 < A_MIN or po + 2 + nq > 0:
        return False
    wbase = TAPE + mem[REG + R_TASK] * W - po - 2  # w_j at wbase - j: read directly (hot loop)
    i += 1
    while i <= nq and tmp * mem[_u(wbase - i)] < 1.0:
        i += 1
    if i > nq:
        return False
    mem[_u(LVL + 4 * (qp) + V_SQ)] = i
    mem[_u(CODE + qp)] = i
    p = float(rd(mem, po + 2 + i)) / float(s)
    fmem[_u(LVLF + 2 * (qp) + 0)] = p
    fmem[0] = fmem[_u(LVLF + 2 * (qp) + 1)] * p
    mem[REG + R_PREFS] += 1
    return True


@njit(cache=True, error_model="numpy")
def open_ring(mem, fmem, lo, hi):
    """Start a search on tasks lo..hi (ring hi -> hi-1 -> .. -> lo -> hi) from ``acurrent``."""
    mem[REG + R_UNSOLVED] = hi - lo + 1
    if mem[REG + R_UNSOLVED] > mem[REG + R_TBIG]:
        return False
    mem[_u(RING + 2 * (hi) + 1)] = lo
    mem[_u(RING + 2 * (lo) + 0)] = hi
    mem[REG + R_PUSHEN] = 0
    for task in range(lo, hi + 1):
        mem[REG + R_TASK] = task
        acp = ACP
        w = task * W
        mem[_u(TAPE + w - (acp + 1 + mem[_u(TAPE + w - acp)]))] = mem[REG + R_ACURRENT]
    mem[REG + R_PUSHEN] = 1
    mem[REG + R_TASK] = hi
    mem[REG + R_T] = 0
    fmem[0] = 1.0
    mem[REG + R_RING_LO] = lo
    mem[REG + R_RING_HI] = hi
    return True


@njit(cache=True, error_model="numpy")
def close_ring(mem):
    """Undo everything of the search (tapes, marks, solved list) and reopen the chain."""
    unmark(mem, 0)
    undo_to(mem, 0)
    reinsert_solved(mem, 0)
    lo, hi = mem[REG + R_RING_LO], mem[REG + R_RING_HI]
    mem[_u(RING + 2 * (lo) + 0)] = lo - 1
    mem[_u(RING + 2 * (hi) + 1)] = hi + 1


@njit(cache=True, forceinline=True, error_model="numpy")
def outer_loop(mem, fmem, budget, one_phase):
    """Method 4.1 for stage n = ``mem[REG + R_STAGE]``: phases 0 open ring {n} at ``alast``
    (prolong the last solver), 1 search it, 2 open ring {1..n} at ``afrozen + 1`` (fresh
    programs), 3 search it; after phase 3, ``T`` doubles. With ``one_phase`` it returns ST_PHASE
    when a search phase ends (the next phase's number and ``T`` are then set)."""
    stop = mem[REG + R_INSTS] + budget
    n = mem[REG + R_STAGE]
    while True:
        ph = mem[REG + R_PHASE]
        if ph == 0 or ph == 2:
            mem[REG + R_ACURRENT] = mem[REG + R_ALAST] if ph == 0 else mem[REG + R_AFROZEN] + 1
            lo = n if ph == 0 else 1
            if open_ring(mem, fmem, lo, n):
                mem[REG + R_PHASE] = ph + 1
                mem[_u(LVL + 4 * (mem[REG + R_AFROZEN]) + V_SP)] = 0
                continue
            ph += 1  # no time to even start: skip this search
        else:
            while True:
                if mem[REG + R_INSTS] >= stop:
                    note_peak(mem)
                    return ST_BUDGET
                step_until(mem, fmem)
                if mem[REG + R_UNSOLVED] == 0:
                    mem[REG + R_DONE] = 1
                    close_ring(mem)
                    return ST_SOLVED
                maybe_grow(mem, fmem)
                while mem[REG + R_QP] > mem[REG + R_AFROZEN] and not next_choice(mem, fmem):
                    mem[REG + R_QP] -= 1
                if mem[REG + R_QP] == mem[REG + R_AFROZEN]:
                    break
            close_ring(mem)
        if ph == 3:
            if mem[REG + R_TBIG] >= T_LIMIT:
                return ST_TCRASH
            mem[REG + R_TBIG] *= 2
            mem[REG + R_PHASE] = 0
        else:
            mem[REG + R_PHASE] = 2
        if one_phase:
            note_peak(mem)
            return ST_PHASE


@njit(cache=True, nogil=True, error_model="numpy")
def run_until(mem, fmem, budget):
    """Advance the search for the current stage by about ``budget`` instructions (checked
    between prefixes; see `outer_loop`). Returns ST_SOLVED (code ``afrozen+1..qp`` solves tasks
    1..n), ST_BUDGET or ST_TCRASH."""
    return outer_loop(mem, fmem, budget, False)


@njit(cache=True, nogil=True, error_model="numpy")
def run_phase(mem, fmem, budget):
    """`run_until` within one search phase: ST_BUDGET, ST_SOLVED, ST_TCRASH, or ST_PHASE when
    the phase ended without a solution (the parallel search, `rnnai.search._parallel`)."""
    return outer_loop(mem, fmem, budget, True)


def allocate(cap: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Zeroed ``mem`` (int64) and ``fmem`` (float64) for an undo stack of ``cap`` entries, and
    named views of their parts (shared memory: writing a view writes ``mem``)."""
    mem = np.zeros(UND + 2 * (cap + 1), dtype=np.int64)
    fmem = np.zeros(FMEM_N, dtype=np.float64)
    views = {
        "reg": mem[REG : REG + N_REG],
        "lay": mem[LAY : LAY + N_LAY],
        "tape": mem[TAPE : TAPE + TAPE_N],
        "mark": mem[MARK : MARK + TAPE_N],
        "code": mem[CODE : CODE + A_MAX + 1],
        "lvl": mem[LVL:OLD].reshape(A_MAX + 1, 4),
        "old": mem[OLD:RING].reshape(A_MAX + 1, 2),
        "ring": mem[RING:OPTAB].reshape(MAX_TASK + 2, 2),
        "optab": mem[OPTAB:UND].reshape(N_OPS, 4),
        "und": mem[UND:].reshape(cap + 1, 2),
        "freg": fmem[0:1],
        "lvlf": fmem[LVLF:].reshape(A_MAX + 1, 2),
    }
    return mem, fmem, views
