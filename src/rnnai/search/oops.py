"""The Optimal Ordered Problem Solver (OOPS): bias-optimal incremental prefix search.

Schmidhuber, J. (2004). Optimal Ordered Problem Solver. Machine Learning 54:211-254
(arXiv cs/0207097). Sections 3-5 (the method), 6 (the experiments).

What is reproduced, exactly as the paper (and the original program oopscode.c) does it:

* **Prefix search** (Method 3.1 "Try"): a program is grown one instruction at a time. It is
  *executed while it is written*: whenever some task's instruction pointer reaches the first
  unwritten code address ``qp + 1``, the prefix requests an extension, and the search tries the
  instructions ``i = 1..nQ`` there in order, depth first. The probability of a prefix is
  ``P(p) = prod_k w_{i_k} / sum(w)``, each factor read from the *current search pattern on the
  requesting task's tape* at the moment of the request (so a prefix can reshape the distribution
  of its own suffixes: ``boostq``, ``incQ``, ``decQ``). A prefix may run at most
  ``t <= T P(p)`` steps, summed over all tasks of the ring; an extension is tried only if
  ``T P(p) w_i / sum(w) >= t + unsolved``.
* **Task ring**: the tasks being searched take turns, one instruction each; a task whose goal test
  holds leaves the ring; the search succeeds when the ring is empty.
* **One undo stack** (Section 5.1): every tape cell changed while testing the instruction at code
  level ``l`` is pushed once (old content) with its task; backtracking to ``l`` pops and restores
  them, reinserts tasks solved since, and restores ``t`` and ``P``.
* **The outer loop** (Method 4.1): for stage n (solve tasks 1..n), with ``T = 1, 2, 4, ...``:
  first try to prolong the most recent frozen solver (start at ``a_last``, task n only), then
  search fresh programs (start at ``a_frozen + 1``, tasks 1..n); on success freeze the code
  ``q_{a_frozen+1}..q_{qp}`` (it becomes read-only, and a fresh solver becomes callable through
  ``oldf``/``getq``/``boostq`` as frozen program ``oldp``).
* **Counts**: prefixes tested (each instruction put at a code level), instructions executed, time
  steps (instructions + the extra cost of copies and scans), the undo stack's peak height.

On several threads (``OOPSConfig(workers=N)``), search phases run side by side and are committed
in the sequential order (`rnnai.search._parallel`), with the same programs and counts.

Deviations (see `rnnai.search.vm` for those of the machine): none in the search. The search runs
in numba (`rnnai.search._kernels.run_until`) or in the plain-Python twin (`_twin.run_until`), in
chunks of instructions; between chunks the whole state is a set of arrays that is checkpointed
(only the used part of the undo stack) and resumed with an identical continuation.

Examples:
    Stage 1 of 1^n2^n with the paper's instructions and bias (about a second):

    >>> from rnnai.search.oops import OOPS, OOPSConfig
    >>> oops = OOPS(OOPSConfig(undo_capacity=20_000), "1n2n")
    >>> result = oops.solve_stage(1)
    >>> result.new_code, result.prefixes, result.time_steps
    ('defnp 2toD', 362367, 478354)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnai.search import _kernels as K
from rnnai.search._parallel import ParallelSearch
from rnnai.search.tasks import TaskSuite, get_suite
from rnnai.search.vm import (
    A_MAX,
    FROZEN_PROGRAMS,
    MAX_TASK,
    R_AFROZEN,
    R_ALAST,
    R_ANCHOR,
    R_CRASH,
    R_INSTS,
    R_OLDP,
    R_PEAKSP,
    R_PHASE,
    R_PREFS,
    R_PUSHEN,
    R_QP,
    R_SP,
    R_STAGE,
    R_TBIG,
    R_TOTALT,
    UNDO_CAPACITY,
    InstructionSet,
    Layout,
    MachineError,
)

__all__ = ["OOPS", "OOPSConfig", "StageResult", "ST_BUDGET", "ST_SOLVED", "ST_TCRASH"]

ST_BUDGET, ST_SOLVED, ST_TCRASH = K.ST_BUDGET, K.ST_SOLVED, K.ST_TCRASH
ENGINES = ("numba", "python")


@dataclass(frozen=True, kw_only=True)
class OOPSConfig:
    """Settings of one OOPS machine.

    Attributes:
        undo_capacity: Undo-stack entries (the original: 6,000,000; the paper used < 20,000).
            A full stack makes the current step illegal (its prefix halts).
        engine: ``"numba"`` (the kernel) or ``"python"`` (the plain-Python twin, ~100x slower).
        chunk: Instructions per kernel call between progress/checkpoint points (all threads
            together).
        workers: Threads: search phases run side by side and are committed in order
            (`rnnai.search._parallel`); any number gives the same programs and counts as one.
            Each thread holds a full copy of the state (about 2 MB plus 16 bytes per undo
            entry); more than half the machine's memory is refused.
    """

    undo_capacity: int = UNDO_CAPACITY
    engine: str = "numba"
    chunk: int = 20_000_000
    workers: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= 256:
            raise MachineError(f"workers must be in 1..256, got {self.workers}")
        if self.workers > 1 and self.engine != "numba":
            raise MachineError("a parallel search (workers > 1) needs engine='numba'")
        if not 1 <= self.undo_capacity <= 10**9:
            raise MachineError(f"undo_capacity must be in 1..1e9, got {self.undo_capacity}")
        if self.engine not in ENGINES:
            raise MachineError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.chunk < 1:
            raise MachineError(f"chunk must be >= 1, got {self.chunk}")


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """What one stage (tasks 1..n of a suite) ended with.

    Attributes:
        suite: The suite's name.
        n: The stage.
        program: The code that solves tasks 1..n, from its start address to ``qp``.
        new_code: The part appended at this stage (``a_frozen+1..qp``), empty if none was needed.
        fresh: Whether the solver is a fresh program (start ``a_frozen + 1``) rather than a
            prolongation of the previous solver.
        start: The solver's start address.
        prefixes: Prefixes tested so far (cumulative over the run).
        instructions: Instructions executed so far (cumulative).
        time_steps: Time steps so far (cumulative).
        peak_undo: Largest undo-stack height so far.
        T: The time limit of the successful search.
    """

    suite: str
    n: int
    program: str
    new_code: str
    fresh: bool
    start: int
    prefixes: int
    instructions: int
    time_steps: int
    peak_undo: int
    T: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class _Arrays:
    tape: np.ndarray
    mark: np.ndarray
    und: np.ndarray
    code: np.ndarray
    lvl: np.ndarray
    lvlf: np.ndarray
    old: np.ndarray
    ring: np.ndarray
    reg: np.ndarray
    freg: np.ndarray
    lay: np.ndarray
    optab: np.ndarray


class OOPS:
    """An OOPS machine: frozen code, task tapes and the search state, driven stage by stage.

    Args:
        config: The machine settings.
        suite: The first task suite (its tapes are initialised now).

    Example:
        >>> oops = OOPS(OOPSConfig(undo_capacity=20_000), "hanoi")
        >>> oops.suite.name, oops.stage, oops.prefixes
        ('hanoi', 0, 0)

        (`solve_stage` as in the module's example.)
    """

    def __init__(self, config: OOPSConfig | None = None, suite: str | TaskSuite = "1n2n") -> None:
        self.config = config or OOPSConfig()
        self.iset = InstructionSet()
        self.layout = Layout(self.iset.n_q)
        if self.config.workers > 1:  # each thread searches on its own full copy of the state
            need = (self.config.workers + 1) * (K.UND + 2 * (self.config.undo_capacity + 1)) * 8
            have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            if need > have // 2:
                raise MachineError(
                    f"{self.config.workers} threads with an undo stack of "
                    f"{self.config.undo_capacity:,} entries need {need / 2**30:.1f} GiB "
                    f"(a copy of the state each), more than half of this machine's "
                    f"{have / 2**30:.1f} GiB: use fewer threads or a smaller undo_capacity"
                )
        self.mem, self.fmem, views = K.allocate(self.config.undo_capacity)
        starts = []
        qp = 0
        code, old = views["code"], views["old"]
        for j, f in enumerate(FROZEN_PROGRAMS):
            body = self.iset.encode(f.body)
            starts.append(qp + 1)
            old[j + 1] = (qp + 1, len(body))
            code[qp + 1 : qp + 1 + len(body)] = body
            qp += len(body)
        self.ndecl = len(FROZEN_PROGRAMS)
        suite = get_suite(suite) if isinstance(suite, str) else suite
        views["lay"][:] = self.layout.array(
            self.iset.quote, self.iset.n_q, self.config.undo_capacity, suite.kind, self.ndecl
        )
        K.check_layout(views["lay"])
        optab = self.iset.optab(starts)
        if optab.shape[0] > K.N_OPS:
            raise MachineError(f"at most {K.N_OPS - 1} instructions, got {optab.shape[0] - 1}")
        views["optab"][: optab.shape[0]] = optab
        reg = views["reg"]
        reg[R_QP] = reg[R_AFROZEN] = qp
        reg[R_ALAST] = qp + 1
        reg[R_OLDP] = self.ndecl
        reg[R_PUSHEN] = 1
        views["freg"][0] = 1.0
        self.a = _Arrays(**views)
        self.suite = suite
        self.set_suite(suite)
        self.results: list[StageResult] = []
        self._parallel: ParallelSearch | None = None

    # ------------------------------------------------------------------ setup
    def set_suite(self, suite: str | TaskSuite) -> None:
        """Initialise every task tape for ``suite`` (keeping the frozen code), as the original
        does before its second curriculum."""
        suite = get_suite(suite) if isinstance(suite, str) else suite
        a = self.a
        if a.reg[R_SP] != 0:
            raise MachineError("cannot switch suites in the middle of a search")
        suite.init_tapes(a.tape, self.iset, self.layout)
        a.lay[K.L_KIND] = suite.kind
        for i in range(1, MAX_TASK + 1):
            a.ring[i] = (i - 1, i + 1)
        a.reg[R_ANCHOR] = 0
        self.suite = suite

    def start_stage(self, n: int) -> None:
        """Begin the search for stage n (tasks 1..n): ``qp = a_frozen``, ``T = 1``."""
        if not 1 <= n <= MAX_TASK:
            raise MachineError(f"stage must be in 1..{MAX_TASK}, got {n}")
        r = self.a.reg
        r[R_STAGE] = n
        r[R_QP] = r[R_AFROZEN]
        r[R_TBIG] = 1
        r[R_PHASE] = 0

    # ------------------------------------------------------------------ running
    def advance(self, budget: int) -> int:
        """Run the current stage's search for about ``budget`` more instructions.

        Returns:
            ST_SOLVED, ST_BUDGET or ST_TCRASH.
        """
        a = self.a
        par = self._parallel
        if par is None and self.config.workers > 1:
            par = self._parallel = ParallelSearch(self.mem, self.fmem, self.config.workers)
        if par is not None:
            if self.config.workers == 1 and not par.pending:
                self._parallel = None  # a parallel checkpoint's items are finished
            else:
                return int(par.advance(int(budget)))
        if self.config.engine == "numba":
            st = K.run_until(self.mem, self.fmem, int(budget))
        else:
            from rnnai.search import _twin

            st = _twin.run_until(
                a.tape, a.mark, a.und, a.code, a.lvl, a.lvlf, a.old, a.ring, a.reg, a.freg,
                a.lay, a.optab, int(budget),
            )  # fmt: skip
        if a.reg[R_CRASH]:
            raise MachineError(f"code array full: programs may have at most {A_MAX} instructions")
        return int(st)

    def freeze(self) -> StageResult:
        """Freeze the solution just found: ``a_frozen = qp``; a fresh solver supersedes the last
        one, which becomes frozen program ``oldp`` (callable, copyable, boostable)."""
        r, old, code = self.a.reg, self.a.old, self.a.code
        acur, alast, afro, qp = (
            int(r[K.R_ACURRENT]),
            int(r[R_ALAST]),
            int(r[R_AFROZEN]),
            int(r[R_QP]),
        )
        new_code = self.iset.decode(code[afro + 1 : qp + 1])
        if alast != acur:
            r[R_OLDP] += 1
            old[r[R_OLDP]] = (alast, acur - alast)
        r[R_ALAST] = acur
        r[R_AFROZEN] = qp
        self.a.lvl[qp, K.V_SP] = 0
        res = StageResult(
            suite=self.suite.name,
            n=int(r[R_STAGE]),
            program=self.iset.decode(code[acur : qp + 1]),
            new_code=new_code,
            fresh=acur == afro + 1,
            start=acur,
            prefixes=int(r[R_PREFS]),
            instructions=int(r[R_INSTS]),
            time_steps=int(r[R_TOTALT]),
            peak_undo=int(r[R_PEAKSP]),
            T=int(r[R_TBIG]),
        )
        self.results.append(res)
        return res

    def solve_stage(
        self,
        n: int,
        max_instructions: int | None = None,
        on_chunk: Callable[[OOPS], None] | None = None,
    ) -> StageResult | None:
        """Start stage n and search until it is solved (then freeze) or the budget is spent.

        Args:
            n: The stage.
            max_instructions: Stop (returning None) once this many instructions ran in total.
            on_chunk: Called after every chunk (progress, checkpoints).

        Returns:
            The stage's result, or None if the budget ran out first.
        """
        self.start_stage(n)
        return self.resume_stage(max_instructions, on_chunk)

    def resume_stage(
        self,
        max_instructions: int | None = None,
        on_chunk: Callable[[OOPS], None] | None = None,
    ) -> StageResult | None:
        """Continue the current stage's search (see `solve_stage`)."""
        while True:
            budget = self.config.chunk
            if max_instructions is not None:
                left = max_instructions - self.instructions
                if left <= 0:
                    return None
                budget = min(budget, left)
            st = self.advance(budget)
            if on_chunk is not None:
                on_chunk(self)
            if st == ST_SOLVED:
                return self.freeze()
            if st == ST_TCRASH:
                raise MachineError("T exceeded 5e17 without a solution")

    # ------------------------------------------------------------------ inspection
    def _counts(self) -> tuple[int, int, int]:
        if self._parallel is not None and self._parallel.pending:
            return self._parallel.totals()
        r = self.a.reg
        return int(r[R_PREFS]), int(r[R_INSTS]), int(r[R_TOTALT])

    @property
    def instructions(self) -> int:
        """Instructions executed so far (mid-phase of a parallel search: work done by all
        threads; exact sequential counts at each stage's end)."""
        return self._counts()[1]

    @property
    def prefixes(self) -> int:
        """Prefixes tested so far (see `instructions`)."""
        return self._counts()[0]

    @property
    def time_steps(self) -> int:
        """Time steps used so far (see `instructions`)."""
        return self._counts()[2]

    @property
    def T(self) -> int:  # noqa: N802 (the paper's symbol)
        """The current time limit (of a parallel search: its earliest phase not yet done)."""
        if self._parallel is not None and self._parallel.pending:
            return self._parallel.items[0].T
        return int(self.a.reg[R_TBIG])

    def close(self) -> None:
        """Stop a parallel search's threads (the state stays; `advance` starts them again)."""
        if self._parallel is not None:
            self._parallel.close()

    @property
    def stage(self) -> int:
        """The current stage n."""
        return int(self.a.reg[R_STAGE])

    @property
    def peak_undo(self) -> int:
        """Largest undo-stack height so far."""
        return int(self.a.reg[R_PEAKSP])

    def frozen_code(self) -> str:
        """All frozen code ``q_1..q_{a_frozen}`` as names."""
        return self.iset.decode(self.a.code[1 : self.a.reg[R_AFROZEN] + 1])

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The complete search state: arrays (only the used undo entries) and results."""
        a = self.a
        sp = int(a.reg[R_SP])
        return {
            "tape": a.tape.copy(),
            "mark": a.mark.copy(),
            "und": a.und[: sp + 1].copy(),
            "code": a.code.copy(),
            "lvl": a.lvl.copy(),
            "lvlf": a.lvlf.copy(),
            "old": a.old.copy(),
            "ring": a.ring.copy(),
            "reg": a.reg.copy(),
            "freg": a.freg.copy(),
            "lay": a.lay.copy(),
            "suite": self.suite.name,
            "results": [r.as_dict() for r in self.results],
            "parallel": None if self._parallel is None else self._parallel.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from `state_dict` (the continuation is then identical).

        Raises:
            MachineError: If an array has the wrong shape or dtype.
        """
        a = self.a
        for name in ("tape", "mark", "code", "lvl", "lvlf", "old", "ring", "reg", "freg", "lay"):
            src = np.asarray(state[name])
            dst = getattr(a, name)
            if src.shape != dst.shape or src.dtype != dst.dtype:
                raise MachineError(
                    f"checkpoint array {name!r}: expected {dst.dtype}{dst.shape}, "
                    f"got {src.dtype}{src.shape}"
                )
            dst[...] = src
        und = np.asarray(state["und"])
        if und.ndim != 2 or und.shape[1] != 2 or und.shape[0] > a.und.shape[0]:
            raise MachineError(f"checkpoint undo stack has shape {und.shape}")
        a.und[: und.shape[0]] = und
        self.suite = get_suite(state["suite"])
        self.results = [StageResult(**r) for r in state["results"]]
        self._parallel = None
        par = state.get("parallel")
        if par is not None:
            self._parallel = ParallelSearch(self.mem, self.fmem, self.config.workers)
            self._parallel.load_state_dict(par)
