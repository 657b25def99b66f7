"""Plain-Python twin of the OOPS kernels (`rnnai.search._kernels`), written the readable way.

A `Machine` object wraps the same arrays as the kernels (see that module's docstring) but works on
Python lists and attributes: ``m.dp``, ``m.Dp``, ``m.cp``, ``m.ip``, ``m.base`` are properties of
the current task's tape, each instruction is a method named after the paper (`Machine.i_bsf`,
...), and the search is written as in the paper's Method 3.1/4.1. `run_until` and `run_program`
take exactly the kernels' arguments and leave exactly the same arrays behind; the tests hold the
two against each other on random programs and states, and `rnnai bench search` times both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnai.search.vm import (
    A_MAX,
    A_MIN,
    KIND_HANOI,
    MAX_CP,
    MAX_DP,
    MAX_FN,
    MAX_INT,
    MAX_PAT,
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
    R_TOPT,
    R_TOTALT,
    R_UNSOLVED,
    T_LIMIT,
    V_LAST,
    V_SP,
    V_SQ,
    V_T,
)

_REG_NAMES = {
    R_TASK: "task", R_HALT: "halt", R_JUMPED: "jumped", R_PUSHEN: "pushen", R_SP: "sp",
    R_T: "t", R_TOTALT: "totalt", R_INSTS: "insts", R_PREFS: "prefs", R_TBIG: "T",
    R_QP: "qp", R_AFROZEN: "afrozen", R_ALAST: "alast", R_ACURRENT: "acurrent",
    R_OLDP: "oldp", R_UNSOLVED: "unsolved", R_ANCHOR: "anchor", R_PEAKSP: "peak_sp",
    R_TOPT: "topt", R_STAGE: "stage", R_PHASE: "phase", R_RING_LO: "ring_lo",
    R_RING_HI: "ring_hi", R_DONE: "done", R_CRASH: "crash",
}  # fmt: skip
assert len(_REG_NAMES) == N_REG


class Machine:
    """The OOPS machine over the kernels' arrays, with registers as attributes."""

    # the registers (`_REG_NAMES`), read from ``reg`` in __init__ and written back by write_back
    task: int
    halt: int
    jumped: int
    pushen: int
    sp: int
    t: int
    totalt: int
    insts: int
    prefs: int
    T: int
    qp: int
    afrozen: int
    alast: int
    acurrent: int
    oldp: int
    unsolved: int
    anchor: int
    peak_sp: int
    topt: int
    stage: int
    phase: int
    ring_lo: int
    ring_hi: int
    done: int
    crash: int

    def __init__(
        self,
        tape: np.ndarray,
        mark: np.ndarray,
        und: np.ndarray,
        code: np.ndarray,
        lvl: np.ndarray,
        lvlf: np.ndarray,
        old: np.ndarray,
        ring: np.ndarray,
        reg: np.ndarray,
        freg: np.ndarray,
        lay: np.ndarray,
        optab: np.ndarray,
    ) -> None:
        self.arrays = (tape, und, reg, freg)
        self.cells: list[int] = tape.tolist()
        self.marks: list[int] = mark.tolist()
        self.mark_arr = mark
        self.undo: list[list[int]] = und[1 : int(reg[R_SP]) + 1].tolist()
        self.code, self.lvl, self.lvlf, self.old, self.ring = code, lvl, lvlf, old, ring
        self.optab = optab.tolist()
        for k, name in _REG_NAMES.items():
            setattr(self, name, int(reg[k]))
        self.P = float(freg[0])
        (self.W, self.acp, self.adp, self.aendstack, self.aDp, self.afnp, self.atask, self.apatp,
         self.acurp, self.aendpats, self.aquote, self.aenv, self.dsize, self.nq, self.quote,
         self.up, self.cap, self.kind, self.ndecl) = (int(v) for v in lay)  # fmt: skip
        self.tp = 0.0

    def write_back(self) -> None:
        """Copy the lists and attributes back into the arrays."""
        tape, und, reg, freg = self.arrays
        tape[:] = self.cells
        self.mark_arr[:] = self.marks
        if self.undo:
            und[1 : len(self.undo) + 1] = self.undo
        for k, name in _REG_NAMES.items():
            reg[k] = getattr(self, name)
        freg[0] = self.P

    # ---------------------------------------------------------------- cells
    def c(self, a: int) -> int:
        if a < A_MIN or a > 0:
            self.halt = 1
            return 0
        return self.cells[self.task * self.W - a]

    def z(self, a: int) -> int:
        return self.c(a) if a <= 0 else int(self.code[a])

    def set(self, a: int, v: int) -> None:
        if a < A_MIN or a > 0:
            self.halt = 1
            return
        i = self.task * self.W - a
        if self.cells[i] == v:
            return
        if self.pushen and not self.marks[i]:
            if self.sp >= self.cap:
                self.halt = 1
                return
            self.undo.append([i, self.cells[i]])
            self.sp += 1
            self.peak_sp = max(self.peak_sp, self.sp)
            self.marks[i] = 1
        self.cells[i] = v

    def charge(self, n: int) -> bool:
        if n < 0 or float(self.t + n) > self.tp:
            self.halt = 1
            return False
        self.t += n
        self.totalt += n
        return True

    # ---------------------------------------------------------------- named cells
    @property
    def dp(self) -> int:
        return self.c(self.adp)

    @property
    def Dp(self) -> int:  # noqa: N802
        return self.c(self.aDp)

    @property
    def cp(self) -> int:
        return self.c(self.acp)

    def fr(self, k: int) -> int:
        """Cell k of the top call frame (1 ip, 2 base, 3 out)."""
        return self.c(self.acp + k + self.cp)

    def set_fr(self, k: int, v: int) -> None:
        if not -MAX_INT <= v <= MAX_INT:
            self.halt = 1
            return
        self.set(self.acp + k + self.cp, v)

    @property
    def ip(self) -> int:
        return self.fr(1)

    @property
    def base(self) -> int:
        return self.fr(2)

    # ---------------------------------------------------------------- stacks
    def push(self, x: int) -> None:
        y = self.dp + 1
        if y > MAX_DP or not -MAX_INT <= x <= MAX_INT:
            self.halt = 1
            return
        self.set(self.adp, y)
        self.set(self.adp + y, x)

    def pop(self) -> int:
        d = self.dp
        if d == 0:
            self.halt = 1
            return 0
        self.set(self.adp, d - 1)
        return self.c(self.adp + d)

    def top(self) -> int:
        d = self.dp
        if d == 0:
            self.halt = 1
            return 0
        return self.c(self.adp + d)

    def ds(self, n: int) -> int:
        if not 0 <= n <= MAX_DP:
            self.halt = 1
            return 0
        return self.c(self.adp + n)

    def push_d(self, x: int) -> None:
        d = self.Dp
        if d == MAX_DP or not -MAX_INT <= x <= MAX_INT:
            self.halt = 1
            return
        self.set(self.aDp, d + 1)
        self.set(self.aDp + d + 1, x)

    def swap(self, m: int, n: int) -> None:
        if not (1 <= m <= MAX_DP and 1 <= n <= MAX_DP):
            self.halt = 1
            return
        x = self.ds(m)
        self.set(self.adp + m, self.ds(n))
        self.set(self.adp + n, x)

    # ---------------------------------------------------------------- calls
    def open_frame(self, m: int, n: int) -> None:
        cp, base, d = self.cp, self.base, self.dp
        if m > d or cp + 6 > MAX_CP:
            self.halt = 1
            return
        self.set(self.acp, cp + 3)
        self.set_fr(2, base if m < 0 else d - m)
        self.set_fr(3, n)
        self.jumped = 1

    def call(self, m: int, n: int, a: int) -> None:
        self.open_frame(m, n)
        self.set_fr(1, a)

    def copy(self, a: int, b: int, n: int, lo: int, hi: int) -> None:
        if n < 0 or not (A_MIN <= a <= self.qp and A_MIN <= a + n <= self.qp):
            self.halt = 1
            return
        if b < lo or b + n > hi:
            self.halt = 1
            return
        if a == b or not self.charge(n):
            return
        order = range(n) if b < a else range(n - 1, -1, -1)
        for k in order:
            self.set(b + k, self.z(a + k))

    def ret(self) -> None:
        cp, n = self.cp, self.fr(3)
        if cp < 1 or n > self.dp:
            self.halt = 1
            return
        if n >= 0:
            a = self.base
            i = self.dp - n + 1
            if i != a:
                if a > i:
                    self.halt = 1
                else:
                    self.set(self.adp, a + n)
                    if self.charge(n):
                        for k in range(n):
                            self.set(self.adp + a + 1 + k, self.c(self.adp + i + k))
        self.set(self.acp, cp - 3)

    # ---------------------------------------------------------------- patterns
    @property
    def po(self) -> int:
        return self.acurp + self.c(self.acurp) * (self.nq + 2)

    def add_weight(self, i: int, val: int) -> None:
        if val < 1 or not 1 <= i <= self.nq:
            return
        po = self.po
        s = self.c(po + 1) + val
        if s > MAX_INT:
            return
        self.set(po + 1, s)
        w = self.c(po + 2 + i) + val
        self.set(po + 2 + i, w)
        if w > self.c(po + 2):
            self.set(po + 2, w)

    def second_max(self, po: int) -> int:
        x = self.c(po + 2)
        n = po + 3
        while self.c(n) != x and not self.halt:
            n += 1
        s, m, end = 0, po + 2, po + 2 + self.nq
        while True:
            m += 1
            v = self.c(m)
            if s < v and m != n:
                s = v
            if not (s < x and m < end):
                return s

    # ---------------------------------------------------------------- Hanoi, goal tests
    def peg(self, tower: int) -> int:
        return self.aenv + (tower - 1) * self.dsize

    def solved(self) -> bool:
        row = self.task * self.W
        cell = self.cells
        if self.kind == KIND_HANOI:
            return cell[row - self.aenv] == 0 and cell[row - self.aenv - self.dsize] == 0
        n = self.task
        ds_top = cell[row - self.aDp]
        if ds_top - 2 * n <= 0:
            return False
        tail = [cell[row - self.aDp - k] for k in range(ds_top - 2 * n + 1, ds_top + 1)]
        return tail == [1] * n + [2] * n

    # ---------------------------------------------------------------- instructions
    def execute(self, op: int) -> None:  # noqa: C901 (one switch)
        while True:
            prim, m_in, n_out, start = self.optab[op]
            if prim == 0:
                self.call(m_in, n_out, start)
                return
            if prim != 64:
                break
            n = self.pop()  # exec
            if not 1 <= n <= self.nq:
                self.halt = 1
                return
            op = n
        getattr(self, _METHOD[prim])()

    def i_1toD(self) -> None:  # noqa: N802
        self.push_d(1)

    def i_2toD(self) -> None:  # noqa: N802
        self.push_d(2)

    def i_mvdsk(self) -> None:
        base = self.base
        a, b = self.ds(base + 1), self.ds(base + 3)
        if not (1 <= a <= 3 and 1 <= b <= 3) or a == b:
            self.halt = 1
            return
        ta = self.c(self.peg(a))
        if ta == 0:
            self.halt = 1
            return
        tb = self.c(self.peg(b))
        disk = self.c(self.peg(a) + ta)
        if tb > 0 and self.c(self.peg(b) + tb) < disk:
            self.halt = 1
            return
        self.set(self.peg(b), tb + 1)
        self.set(self.peg(b) + tb + 1, disk)
        self.set(self.peg(a) + ta, 0)
        self.set(self.peg(a), ta - 1)

    def _xmn(self) -> None:
        m, n = self.pop(), self.pop()
        d = self.dp
        self.swap(d - m + 1, d - n + 1)

    def i_x23(self) -> None:
        self.push(2)
        self.push(3)
        self._xmn()

    def i_x34(self) -> None:
        self.push(3)
        self.push(4)
        self._xmn()

    def i_xmn(self) -> None:
        self._xmn()

    def i_bsf(self) -> None:
        base = self.base
        self.call(-1, -1, base + self.adp + self.pop() + 1)

    def i_boostq(self) -> None:
        a = self.pop() + self.ndecl
        if not 0 <= a <= self.oldp:
            self.halt = 1
            return
        start, size = int(self.old[a, 0]), int(self.old[a, 1])
        if self.charge(size):
            for i in range(start, start + size):
                self.add_weight(int(self.code[i]), self.up)

    def _binary(self, f: Callable[[int, int], int]) -> None:
        x = self.pop()
        self.push(f(x, self.pop()))

    def i_add(self) -> None:
        self._binary(lambda x, y: y + x)

    def i_mul(self) -> None:
        self._binary(lambda x, y: y * x)

    def i_sub(self) -> None:
        self._binary(lambda x, y: y - x)

    def i_powr(self) -> None:
        n, m = self.pop(), self.pop()
        if m <= 1:
            self.push(1)
            return
        i = m
        while n > 1 and -MAX_INT < i < MAX_INT:
            i *= m
            n -= 1
        self.push(i)

    def i_div(self) -> None:
        x = self.pop()
        if x == 0:
            self.halt = 1
            return
        y = self.pop()
        q = abs(y) // abs(x)
        self.push(q if (y >= 0) == (x > 0) else -q)

    def i_inc(self) -> None:
        self.push(self.pop() + 1)

    def i_dec(self) -> None:
        self.push(self.pop() - 1)

    def i_by2(self) -> None:
        self.push(self.pop() * 2)

    def i_neg(self) -> None:
        x = self.pop()
        self.push(1 if x == 0 else -x)

    def i_getq(self) -> None:
        a = self.pop()
        if not 0 <= a <= self.oldp:
            self.halt = 1
            return
        n = int(self.old[a, 1])
        self.copy(int(self.old[a, 0]), self.adp + 1 + self.dp, n, self.adp + 1, self.aendstack)
        self.set(self.adp, self.dp + n)

    def i_insq(self) -> None:
        b, a = self.pop(), self.pop()
        base = self.base
        m = self.dp - base - b
        if not 0 <= a <= self.oldp or b < 0 or m < 0:
            self.halt = 1
            return
        n = int(self.old[a, 1])
        b += self.adp + base + 1
        self.copy(b, b + n, m, self.adp + 1, self.aendstack)
        self.copy(int(self.old[a, 0]), b, n, self.adp + 1, self.aendstack)
        self.set(self.adp, self.dp + n)

    def i_findb(self) -> None:
        k = self.pop()
        i = self.base + 1
        row = self.task * self.W
        while float(self.t) < self.tp:
            f = row - self.adp - i
            if not 0 <= f < len(self.cells):
                self.halt = 1
                break
            if self.cells[f] == k:
                break
            i += 1
            self.t += 1
            self.totalt += 1
        self.push(i)

    def i_incQ(self) -> None:  # noqa: N802
        self.add_weight(self.top(), 1)

    def i_decQ(self) -> None:  # noqa: N802
        i = self.top()
        if not 1 <= i <= self.nq:
            return
        po = self.po
        x = self.c(po + 2 + i)
        if x == 0:
            return
        y, z = self.c(po + 1), self.c(po + 2)
        if x == 1 and y <= z + 1:
            self.halt = 1
            return
        if x == z:
            self.set(po + 2, self.second_max(po))
        self.set(po + 2 + i, x - 1)
        self.set(po + 1, y - 1)

    def i_pupat(self) -> None:
        i = self.apatp  # the original reads the pointer's address, not its content
        if i > MAX_PAT:
            self.halt = 1
            return
        i += 1
        self.set(self.apatp, i)
        w = self.nq + 2
        self.copy(self.po + 1, self.acurp + 1 + i * w, w, self.acurp + 1, self.aendpats)

    def i_setpat(self) -> None:
        i = self.pop()
        if not 0 <= i <= self.c(self.apatp):
            self.halt = 1
            return
        self.set(self.acurp, i)

    def i_insn(self) -> None:
        b, n, a = self.pop(), self.pop(), self.pop()
        base = self.base
        m = self.dp - base - b
        if b < 0 or m < 0 or n < 1:
            self.halt = 1
            return
        b += self.adp + base + 1
        a += self.adp + base
        self.copy(b, b + n, m, self.adp + 1, self.aendstack)
        self.copy(a, b, n, self.adp + 1, self.aendstack)
        self.set(self.adp, self.dp + n)

    def i_mvn(self) -> None:
        b, n, a = self.pop(), self.pop(), self.pop()
        m = self.base + self.adp
        self.copy(m + a, m + b, n, self.adp + 1, self.aendstack)
        if b + n - 1 > self.dp:
            self.set(self.adp, b + n - 1)

    def i_deln(self) -> None:
        n, m = self.pop(), self.pop()
        if m < 0 or n < 0:
            self.halt = 1
            return
        base = self.base
        m += self.adp + base
        self.copy(m + n + 1, m + 1, self.dp - base - n, self.adp + 1, self.aendstack)
        self.set(self.adp, self.dp - n)

    def i_intpf(self) -> None:
        f = self.c(self.afnp)
        if f < 1:
            self.halt = 1
            return
        self.push(self.c(self.afnp + 3 * f - 2))

    def i_def(self) -> None:
        f = self.c(self.afnp) + 1
        if f > MAX_FN:
            self.halt = 1
            return
        self.set(self.afnp, f)
        a = self.afnp + 3 * f
        self.set(a, self.ip + 1)
        self.set(a - 1, self.pop())
        self.set(a - 2, self.pop())

    def i_topf(self) -> None:
        self.push(self.c(self.afnp))

    def i_dof(self) -> None:
        f = self.pop()
        if not 1 <= f <= self.c(self.afnp):
            self.halt = 1
            return
        a = self.afnp + 3 * f
        self.open_frame(self.c(a - 2), self.c(a - 1))
        self.set_fr(1, self.c(a))

    def i_oldf(self) -> None:
        a = self.pop()
        if not 0 <= a <= self.oldp:
            self.halt = 1
            return
        self.open_frame(0, 0)
        self.set_fr(1, int(self.old[a, 0]))

    def i_bsjmp(self) -> None:
        base = self.base
        self.set_fr(1, base + self.adp + self.pop())

    def i_ret(self) -> None:
        self.ret()

    def i_rt0(self) -> None:
        if self.pop() <= 0:
            self.ret()

    def i_eq(self) -> None:
        self._binary(lambda x, y: int(x == y))

    def i_grt(self) -> None:
        self._binary(lambda x, y: int(x > y))

    def i_clear(self) -> None:
        self.set(self.adp, 0)

    def i_del(self) -> None:
        d = self.dp
        if d == 0:
            self.halt = 1
            return
        self.set(self.adp, d - 1)

    def i_up(self) -> None:
        self.push(self.top())

    def i_ex(self) -> None:
        m = self.dp
        if m < 2:
            self.halt = 1
            return
        self.swap(m, m - 1)

    def i_jmp1(self) -> None:
        if self.pop() > 0:
            self.set_fr(1, self.pop())
            self.jumped = 1

    def i_outn(self) -> None:
        n = self.pop()
        self.push(self.ds(self.dp - n + 1))

    def _store_top(self, n: int) -> None:
        if not 1 <= n <= MAX_DP:
            self.halt = 1
            return
        self.set(self.adp + n, self.top())

    def i_inn(self) -> None:
        n = self.pop()
        self._store_top(self.dp - n + 1)

    def i_inb(self) -> None:
        n = self.pop()
        self._store_top(self.base + n)

    def i_cpn(self) -> None:
        n = self.pop()
        if n < 0:
            self.halt = 1
            return
        i = self.dp
        j = i + n
        if j > MAX_DP:
            self.halt = 1
            return
        self.set(self.adp, j)
        if self.charge(n):
            for k in range(n):
                self.set(self.adp + j - k, self.c(self.adp + i - k))

    def i_outb(self) -> None:
        n = self.pop()
        self.push(self.ds(self.base + n))

    def i_cpnb(self) -> None:
        n = self.pop()
        self.copy(self.adp + self.base + 1, self.adp + self.dp + 1, n, self.adp + 1, self.aendstack)
        self.set(self.adp, self.dp + n)

    def i_xmnb(self) -> None:
        m, n = self.pop(), self.pop()
        base = self.base
        self.swap(base + m, base + n)

    def i_ip2ds(self) -> None:
        self.push(self.ip)

    def i_pip(self) -> None:
        self.set_fr(1, self.pop())

    def i_pushdp(self) -> None:
        self.push(self.dp + 1)

    def i_popdp(self) -> None:
        a = self.pop()
        if not 0 <= a <= MAX_DP:
            self.halt = 1
            return
        self.set(self.adp, a)

    def i_toD(self) -> None:  # noqa: N802
        self.push_d(self.pop())

    def i_fromD(self) -> None:  # noqa: N802
        d = self.Dp
        if d == 0:
            self.halt = 1
            self.push(0)
            return
        self.push(self.c(self.aDp + d))

    def i_delD(self) -> None:  # noqa: N802
        d = self.Dp
        if d == 0:
            self.halt = 1
            return
        self.set(self.aDp, d - 1)

    def i_tsk(self) -> None:
        self.push(self.c(self.atask))

    def i_qot(self) -> None:
        self.set(self.aquote, 1)

    def i_nop(self) -> None:
        pass

    # ---------------------------------------------------------------- running
    def ip_ok(self) -> bool:
        a = self.ip
        if not A_MIN <= a <= self.qp:
            return False
        return 1 <= self.z(a) <= self.nq

    def one_step(self) -> None:
        n = self.z(self.ip)
        self.jumped = 0
        self.insts += 1
        self.t += 1
        self.totalt += 1
        if self.c(self.aquote) == 1:
            if n == self.quote:
                self.set(self.aquote, 0)
            else:
                self.push(n)
        else:
            self.execute(n)
        if not self.jumped:
            self.set_fr(1, self.ip + 1)
        task = self.task
        if self.solved():
            self.unsolved -= 1
            nxt, prv = int(self.ring[task, 0]), int(self.ring[task, 1])
            self.ring[prv, 0] = nxt
            self.ring[nxt, 1] = prv
            self.ring[task, 1] = self.anchor
            self.anchor = task
        self.task = int(self.ring[task, 0])

    def step_until(self) -> None:
        self.halt = 0
        self.tp = float(self.T) * self.P
        while (
            self.unsolved > 0
            and self.ip_ok()
            and not self.halt
            and float(self.t + self.unsolved) <= self.tp
        ):
            self.one_step()

    # ---------------------------------------------------------------- search
    def unmark_above(self, ptr: int) -> None:
        for k in range(self.sp, ptr, -1):
            self.marks[self.undo[k - 1][0]] = 0

    def undo_above(self, ptr: int) -> None:
        while self.sp > ptr:
            i, v = self.undo.pop()
            self.cells[i] = v
            self.sp -= 1

    def reinsert_solved(self, below: int) -> None:
        ring = self.ring
        while self.anchor != below:
            self.unsolved += 1
            task = self.anchor
            self.task = task
            self.anchor = int(ring[task, 1])
            nxt = int(ring[task, 0])
            ring[task, 1] = ring[nxt, 1]
            ring[nxt, 1] = task
            ring[ring[task, 1], 0] = task

    def maybe_grow(self) -> None:
        if self.halt or self.ip != self.qp + 1:
            return
        po = self.po
        tp = float(self.T) * self.P
        if tp * self.c(po + 2) < float((self.t + self.unsolved) * self.c(po + 1)):
            return
        if self.qp >= A_MAX:
            self.crash = 1
            return
        self.unmark_above(int(self.lvl[self.qp, V_SP]))
        self.qp += 1
        self.lvl[self.qp] = (self.sp, self.anchor, 0, self.t)
        self.lvlf[self.qp, 1] = self.P

    def next_choice(self) -> bool:
        qp = self.qp
        i = int(self.lvl[qp, V_SQ])
        if i != 0:
            sp0 = int(self.lvl[qp, V_SP])
            self.unmark_above(sp0)
            self.undo_above(sp0)
            self.reinsert_solved(int(self.lvl[qp, V_LAST]))
            self.t = int(self.lvl[qp, V_T])
            self.P = float(self.lvlf[qp, 1])
        if i == self.nq:
            return False
        po = self.po
        total = self.c(po + 1)
        if total <= 0:
            return False
        tmp = float(self.T) * self.P / float(total * (self.t + self.unsolved))
        for j in range(i + 1, self.nq + 1):
            w = self.c(po + 2 + j)
            if tmp * w >= 1.0:
                self.lvl[qp, V_SQ] = j
                self.code[qp] = j
                self.lvlf[qp, 0] = w / total
                self.P = float(self.lvlf[qp, 1]) * (w / total)
                self.prefs += 1
                return True
        return False

    def open_ring(self, lo: int, hi: int) -> bool:
        self.unsolved = hi - lo + 1
        if self.unsolved > self.T:
            return False
        self.ring[hi, 1] = lo
        self.ring[lo, 0] = hi
        for task in range(lo, hi + 1):
            row = task * self.W
            cp = self.cells[row - self.acp]
            self.cells[row - (self.acp + 1 + cp)] = self.acurrent
        self.pushen = 1
        self.task = hi
        self.t = 0
        self.P = 1.0
        self.ring_lo, self.ring_hi = lo, hi
        return True

    def close_ring(self) -> None:
        self.unmark_above(0)
        self.undo_above(0)
        self.reinsert_solved(0)
        self.ring[self.ring_lo, 0] = self.ring_lo - 1
        self.ring[self.ring_hi, 1] = self.ring_hi + 1

    def run_until(self, budget: int) -> int:
        stop = self.insts + budget
        n = self.stage
        while True:
            ph = self.phase
            if ph in (0, 2):
                self.acurrent = self.alast if ph == 0 else self.afrozen + 1
                if self.open_ring(n if ph == 0 else 1, n):
                    self.phase = ph + 1
                    self.lvl[self.afrozen, V_SP] = 0
                    continue
                ph += 1
            else:
                while True:
                    if self.insts >= stop:
                        return 0
                    self.step_until()
                    if self.unsolved == 0:
                        self.done = 1
                        self.close_ring()
                        return 1
                    self.maybe_grow()
                    while self.qp > self.afrozen and not self.next_choice():
                        self.qp -= 1
                    if self.qp == self.afrozen:
                        break
                self.close_ring()
            if ph == 3:
                if self.T >= T_LIMIT:
                    return 2
                self.T *= 2
                self.phase = 0
            else:
                self.phase = 2


_METHOD: dict[int, str] = {}
for _k, _name in enumerate(
    "1toD 2toD mvdsk x23 x34 bsf boostq add mul powr sub div inc dec by2 getq insq findb incQ "
    "decQ pupat setpat insn mvn deln intpf def topf dof oldf bsjmp ret rt0 neg eq grt clear del "
    "up ex jmp1 outn inn cpn xmn outb inb cpnb xmnb ip2ds pip pushdp popdp toD fromD delD tsk "
    "c0 c1 c2 c3 c4 c5 exec qot nop".split(),
    1,
):
    _METHOD[_k] = f"i_{_name}"
for _v in range(6):
    setattr(Machine, f"i_c{_v}", (lambda v: lambda self: self.push(v))(_v))


def run_until(
    tape: np.ndarray,
    mark: np.ndarray,
    und: np.ndarray,
    code: np.ndarray,
    lvl: np.ndarray,
    lvlf: np.ndarray,
    old: np.ndarray,
    ring: np.ndarray,
    reg: np.ndarray,
    freg: np.ndarray,
    lay: np.ndarray,
    optab: np.ndarray,
    budget: int,
) -> int:
    """Twin of `rnnai.search._kernels.run_until` (same arguments, same effects)."""
    m = Machine(tape, mark, und, code, lvl, lvlf, old, ring, reg, freg, lay, optab)
    st = m.run_until(int(budget))
    m.write_back()
    return st


def run_program(
    tape: np.ndarray,
    mark: np.ndarray,
    und: np.ndarray,
    code: np.ndarray,
    old: np.ndarray,
    ring: np.ndarray,
    reg: np.ndarray,
    freg: np.ndarray,
    lay: np.ndarray,
    optab: np.ndarray,
    max_steps: int,
) -> None:
    """Twin of `rnnai.search._kernels.run_program`."""
    lvl = np.zeros((1, 4), dtype=np.int64)
    lvlf = np.zeros((1, 2), dtype=np.float64)
    m = Machine(tape, mark, und, code, lvl, lvlf, old, ring, reg, freg, lay, optab)
    m.P = 1.0
    m.T = int(max_steps)
    m.step_until()
    m.write_back()


__all__ = ["Machine", "run_program", "run_until"]
