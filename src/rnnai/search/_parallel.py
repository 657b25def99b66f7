"""OOPS's search on several threads, with exactly the sequential search's programs and counts.

What can run in parallel. Method 4.1 is a sequence of *search phases*: for T = 1, 2, 4, ...
first prolong the last solver (ring {n}), then search fresh programs (ring {1..n}). Each phase
opens its ring on a fully restored machine (the previous phase's `close_ring` undid every change)
and touches nothing the next phase reads: its result depends only on the frozen state, ``T`` and
which of the two it is. So the phases can run side by side, each on its own copy of the state,
and be *committed in order*: a phase without a solution adds its counts; the first phase (in the
sequential order) that solves gives the stage's result, with the counts of all phases before it
plus its own up to the solution; later phases are dropped, as the sequential search never runs
them. The undo-stack peak is the maximum over the same phases. The result equals the sequential
search's for any number of threads (tests hold them equal).

What cannot: subtrees of one phase are *not* independent. Backtracking restores tapes, ``t``, ``P``
and the ring, but not the ring's position (whose turn it is), in the original program as here; the
next sibling starts wherever the last subtree left it. Splitting a phase would change the search.

Speed-up: each phase costs about twice the one two places before it, and a prolong phase at 2T
costs about what the fresh phase at T does (1^n2^n: fresh phases are ~2/3 of the work), so two
threads run them in pairs at nearly twice the speed; more threads help less (at most ~3x: the
solving phase itself runs on one thread).

State between `ParallelSearch.advance` calls: the machine's own arrays hold the *frontier* (the
state at the start of the next phase not yet handed out, with the counts committed so far), and
each handed-out phase not yet committed is a compact copy (or, once run out, just its counts).
`state_dict` holds them, so a checkpoint resumes with the same result. The kernels are compiled
``nogil``: the threads run truly in parallel.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from rnnai.search import _kernels as K
from rnnai.search.vm import (
    R_AFROZEN,
    R_CRASH,
    R_INSTS,
    R_PEAKSP,
    R_PHASE,
    R_PREFS,
    R_QP,
    R_SP,
    R_TBIG,
    R_TOTALT,
    T_LIMIT,
    MachineError,
)

_COUNTS = (R_PREFS, R_INSTS, R_TOTALT)
PAUSED, RUNNING, DONE = "paused", "running", "done"
ENDS = ("phase", "solved", "tcrash")


def compact(mem: np.ndarray) -> np.ndarray:
    """The used part of ``mem``: everything before the undo stack, and the stack up to its top."""
    return mem[: K.UND + 2 * (int(mem[K.REG + R_SP]) + 1)].copy()


@dataclass
class _Phase:
    """One search phase handed out: its copy (while not run out), counts at the copy, and how
    it ended."""

    T: int
    phase: int  # 0: prolong, 2: fresh (the number the phase starts with)
    base: list[int]
    state: str = PAUSED
    mem: np.ndarray | None = None
    fmem: np.ndarray | None = None
    delta: list[int] | None = None
    peak: int = 0
    end: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # shallow (no copy of the state arrays), unlike dataclasses.asdict
        return {f.name: getattr(self, f.name) for f in fields(self)}


class ParallelSearch:
    """Runs the current stage's search phases of one OOPS machine on ``workers`` threads.

    Args:
        mem: The machine's ``mem`` (the frontier; holds the result when a stage is solved).
        fmem: The machine's ``fmem``.
        workers: Threads (1 is allowed: it finishes the phases of a parallel checkpoint).
    """

    def __init__(self, mem: np.ndarray, fmem: np.ndarray, workers: int) -> None:
        self.mem, self.fmem = mem, fmem
        self.workers = workers
        self.items: list[_Phase] = []
        self._lock = threading.Lock()
        self._bufs: list[tuple[np.ndarray, np.ndarray]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ state
    @property
    def pending(self) -> bool:
        """Whether phases are handed out (the machine's arrays then hold the frontier)."""
        return bool(self.items)

    def totals(self) -> tuple[int, int, int]:
        """Work so far (prefixes, instructions, time steps): committed counts plus the work of
        every handed-out phase (which may include phases the sequential search will not run)."""
        tot = [int(self.mem[K.REG + r]) for r in _COUNTS]
        for it in self.items:
            if it.delta is not None:
                add = it.delta
            elif it.mem is not None:
                add = [int(it.mem[K.REG + r]) - b for r, b in zip(_COUNTS, it.base, strict=True)]
            else:
                continue
            tot = [a + b for a, b in zip(tot, add, strict=True)]
        return tot[0], tot[1], tot[2]

    def _begin(self) -> None:
        """Turn the machine's state into the frontier: a phase under way becomes item 0."""
        mem = self.mem
        ph = int(mem[K.REG + R_PHASE])
        if ph in (1, 3):  # a ring is open: hand the running phase out as it is
            self.items.append(
                _Phase(
                    T=int(mem[K.REG + R_TBIG]),
                    phase=ph - 1,
                    base=[int(mem[K.REG + r]) for r in _COUNTS],
                    mem=compact(mem),
                    fmem=self.fmem.copy(),
                )
            )
            K.close_ring(mem)
            mem[K.REG + R_QP] = mem[K.REG + R_AFROZEN]
            if ph == 1:
                mem[K.REG + R_PHASE] = 2
            else:
                mem[K.REG + R_TBIG] *= 2
                mem[K.REG + R_PHASE] = 0

    def _next_phase(self) -> _Phase | None:
        """Hand out the frontier's phase and move the frontier on (None once T is exhausted)."""
        mem = self.mem
        T, ph = int(mem[K.REG + R_TBIG]), int(mem[K.REG + R_PHASE])
        if T > T_LIMIT:
            return None
        c = compact(mem)
        for r in _COUNTS:
            c[K.REG + r] = 0
        c[K.REG + R_PEAKSP] = 0
        it = _Phase(T=T, phase=ph, base=[0, 0, 0], state=RUNNING, mem=c, fmem=self.fmem.copy())
        if ph == 0:
            mem[K.REG + R_PHASE] = 2
        else:
            mem[K.REG + R_TBIG] = 2 * T
            mem[K.REG + R_PHASE] = 0
        return it

    # ------------------------------------------------------------------ threads
    def _buffers(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        while len(self._bufs) <= slot:
            self._bufs.append((np.zeros_like(self.mem), np.zeros_like(self.fmem)))
        return self._bufs[slot]

    def _take(self) -> _Phase | None:
        """The earliest paused phase, else a new one; none once a phase has solved or the
        time limit ran out (later phases cannot matter)."""
        with self._lock:
            for it in self.items:  # in the sequential order
                if it.end in ("solved", "tcrash"):
                    return None
                if it.state == PAUSED:
                    it.state = RUNNING
                    return it
            nxt = self._next_phase()
            if nxt is not None:
                self.items.append(nxt)
            return nxt

    def _search(self, it: _Phase, slot: int, budget: int) -> int:
        """Run phase ``it`` for about ``budget`` instructions in buffer ``slot``; returns the
        instructions run."""
        bm, bf = self._buffers(slot)
        assert it.mem is not None and it.fmem is not None
        bm[: it.mem.shape[0]] = it.mem
        bf[:] = it.fmem
        before = int(bm[K.REG + R_INSTS])
        st = int(K.run_phase(bm, bf, budget))
        used = int(bm[K.REG + R_INSTS]) - before
        if bm[K.REG + R_CRASH]:
            raise MachineError(f"code array full: programs may have at most {K.A_MAX} instructions")
        with self._lock:
            it.peak = int(bm[K.REG + R_PEAKSP])
            if st == K.ST_BUDGET:
                it.mem, it.fmem, it.state = compact(bm), bf.copy(), PAUSED
                return used
            it.state = DONE
            it.delta = [int(bm[K.REG + r]) - b for r, b in zip(_COUNTS, it.base, strict=True)]
            if st == K.ST_SOLVED:  # keep the end state (ring closed, stack empty)
                it.end, it.mem, it.fmem = "solved", compact(bm), bf.copy()
            else:
                it.end, it.mem, it.fmem = ("tcrash" if st == K.ST_TCRASH else "phase"), None, None
        return used

    def _work(self, slot: int, share: int) -> None:
        try:
            done = 0
            while done < share and self._error is None:
                it = self._take()
                if it is None:
                    return
                done += self._search(it, slot, share - done)
        except BaseException as e:  # noqa: BLE001 (re-raised in the calling thread)
            self._error = e

    # ------------------------------------------------------------------ driving
    def advance(self, budget: int) -> int:
        """About ``budget`` instructions of search on all threads together.

        Returns:
            ST_SOLVED (the machine's arrays now hold the solved state with the sequential
            search's counts), ST_BUDGET or ST_TCRASH.
        """
        if not self.items:
            self._begin()
        share = max(1, budget // self.workers)
        if self.workers == 1:
            self._work(0, share)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="oops")
            futures = [self._pool.submit(self._work, s, share) for s in range(self.workers)]
            for f in futures:
                f.result()
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return self._commit()

    def _commit(self) -> int:
        """Commit finished phases in order: add a phase without solution to the counts; the
        first solving phase becomes the machine's state."""
        mem = self.mem
        while self.items and self.items[0].state == DONE:
            it = self.items.pop(0)
            assert it.delta is not None
            peak = max(int(mem[K.REG + R_PEAKSP]), it.peak)
            counts = [int(mem[K.REG + r]) + d for r, d in zip(_COUNTS, it.delta, strict=True)]
            if it.end == "solved":
                assert it.mem is not None and it.fmem is not None
                mem[: it.mem.shape[0]] = it.mem
                self.fmem[:] = it.fmem
            for r, v in zip(_COUNTS, counts, strict=True):
                mem[K.REG + r] = v
            mem[K.REG + R_PEAKSP] = peak
            if it.end in ("solved", "tcrash"):
                self.items = []
                return K.ST_SOLVED if it.end == "solved" else K.ST_TCRASH
        return K.ST_BUDGET

    def close(self) -> None:
        """Stop the threads (the state stays)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The handed-out phases in order (the frontier is the machine's own state)."""
        return {"items": [it.as_dict() for it in self.items]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict`.

        Raises:
            MachineError: If the state is malformed.
        """
        items = []
        for k, d in enumerate(state.get("items", [])):
            it = _Phase(**d)
            ok = it.phase in (0, 2) and it.T >= 1 and len(it.base) == 3
            if it.state == PAUSED:
                ok = ok and it.end is None and it.delta is None and it.mem is not None
            elif it.state == DONE:
                ok = ok and it.end in ENDS and it.delta is not None
                ok = ok and (it.mem is not None) == (it.end == "solved")
            else:
                ok = False
            if not ok:
                raise MachineError(f"checkpoint: handed-out phase {k} is malformed")
            if it.mem is not None:
                it.mem = np.asarray(it.mem, dtype=np.int64)
                it.fmem = np.asarray(it.fmem, dtype=np.float64)
                if it.mem.shape[0] > self.mem.shape[0] or it.fmem.shape != self.fmem.shape:
                    raise MachineError(f"checkpoint: phase {k}'s arrays do not fit this machine")
            items.append(it)
        self.items = items
