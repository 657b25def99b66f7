"""Levin search: time-sharing by program probability, phases doubling the total time.

Papers: L. A. Levin, "Universal sequential search problems", Problems of Information Transmission
9(3):265-266, 1973; J. Schmidhuber, "Discovering solutions with low Kolmogorov complexity and high
generalization capability", Proc. ICML 1995, pp. 488-496; J. Schmidhuber, "Discovering neural
nets with low Kolmogorov complexity and high generalization capability", Neural Networks
10(5):857-873, 1997 (Section 4, "probabilistic search", with the systematic variant discussed in
its comments).

What it does. A program ``p`` is self-delimiting: it is the sequence of tokens the machine asks for
while it runs (an "oracle request" whenever the instruction pointer, or an instruction's argument,
reaches the first unwritten program cell). Each request offers ``n`` tokens, uniformly likely, so a
program's probability is ``P(p) = prod_k 1/n_k = 1/D(p)``. Levin search runs phases
``i = i_0, i_0 + 1, ...`` with total time ``T = 2**i``; in phase ``i`` every program runs for at
most ``P(p) * T = T // D(p)`` steps (a prefix that requests its next token when its children
could not afford one more step is cut there). The search stops at the first halted program whose
output passes the task predicate. Since ``sum_p P(p) <= 1`` (Kraft), phase ``i`` costs at most
``2**i`` steps, and a program that solves the task in ``t(p)`` steps is found in phase
``ceil(log2(t(p) / P(p)))``, i.e. after less than ``4 t(p) / P(p)`` steps in total: within a
constant factor of the fastest solver, weighted by its probability. The quantity
``Kt(p) = -log2 P(p) + log2 t(p)`` is the program's Levin complexity (in bits).

Order and counts. Within a phase, programs are visited depth first over the oracle's choices,
lowest token first, and a program's state at each request is kept so that the shared prefix runs
once (the 1997 paper uses random program generation instead; systematic enumeration is the
variant its comments recommend "when speed is an issue"). Everything is deterministic: the counts
reported (programs tested = finished program runs, interpreter steps executed, phase) depend on
nothing but the language, the task and the phase range. Earlier phases are rerun from scratch, as
in Levin's algorithm, and their work is counted. Searching for several solutions continues through
later phases and records only programs new in each phase (``t(p) > (T/2) // D(p)``), so no program
is reported twice.

Generic over languages. A `Language` supplies ``reset / run / need / append / clone`` (the machine,
able to stop at each oracle request) and optionally a compiled ``fast_phase``; a `LevinTask`
supplies the predicate. `run_phase_py` is the plain-Python depth-first phase (the twin of
`rnnai.search._levin_kernels.levin_phase`); `levin_search` drives the phases, in chunks of
``chunk_programs`` finished programs, handing a JSON-able `SearchState` to a callback after each
chunk so that a long search can checkpoint and resume with identical counts.

Deviations: token probabilities are uniform within each request (a budget ``T // D`` in exact
integer arithmetic needs integer denominators); the paper's random-restart variant is not
implemented.

Examples:
    The accumulator machine `rnnai.search.levin_tasks.IncDoubleLanguage` (tokens HALT, INC, DBL,
    each with probability 1/3) must halt with 4; the shortest such program has ``P = 3**-4``
    and runs 4 steps, so it is found in phase ``ceil(log2(4 * 81)) = 9``:

    >>> from rnnai.search.levin import LevinConfig, levin_search
    >>> from rnnai.search.levin_tasks import IncDoubleLanguage, reach_task
    >>> language = IncDoubleLanguage()
    >>> result = levin_search(language, reach_task(4), LevinConfig(max_phase=20))
    >>> first = result.first
    >>> language.describe(first.program), first.denominator, first.steps, first.phase
    ('INC INC DBL HALT', 81, 4, 9)
    >>> result.programs  # programs tested in phases 0..9
    62
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.search._levin_kernels import (
    BUDGET,
    ILL_ADDRESS,
    ILL_ALLOC,
    ILL_DIVZERO,
    ILL_INPUT,
    ILL_IP,
    ILL_OPCODE,
    ILL_OVERFLOW,
    ILL_PROGRAM_FULL,
    ILL_WRITE,
    N_STATUS,
    NEED,
    OUTPUT_FULL,
    STOP,
)

__all__ = [
    "BUDGET",
    "HALTED",
    "NEED",
    "OUTPUT_FULL",
    "STATUS_NAMES",
    "STOP",
    "Instruction",
    "Language",
    "LevinConfig",
    "LevinError",
    "LevinResult",
    "LevinTask",
    "LinearOutputTask",
    "PhaseChunk",
    "PhaseStats",
    "SearchState",
    "Solution",
    "levin_search",
    "run_phase_py",
]

STATUS_NAMES: dict[int, str] = {
    NEED: "need_token",
    STOP: "stop",
    OUTPUT_FULL: "output_full",
    BUDGET: "budget",
    ILL_ADDRESS: "illegal_address",
    ILL_WRITE: "illegal_write",
    ILL_OVERFLOW: "overflow",
    ILL_DIVZERO: "division_by_zero",
    ILL_OPCODE: "illegal_opcode",
    ILL_INPUT: "illegal_input",
    ILL_ALLOC: "illegal_allocation",
    ILL_PROGRAM_FULL: "program_too_long",
    ILL_IP: "illegal_ip",
}
"""Readable name of every status code a finished program can end with."""

HALTED: tuple[int, ...] = (STOP, OUTPUT_FULL)
"""Statuses of programs that halted normally; only their outputs are judged."""

MAX_LOG2_T = 62
"""Largest phase: ``T = 2**62`` still fits the int64 budget arithmetic."""


class LevinError(RnnaiError):
    """Bad search input (config, language, task) or a resume state that does not fit.

    A `rnnai.runtime.errors.RnnaiError` (so also a ``ValueError``): the CLI prints it as one
    ``error:`` line.
    """


# ------------------------------------------------------------------------------ interfaces


@dataclass(frozen=True)
class Instruction:
    """One row of a language's instruction table.

    Attributes:
        name: The primitive's name, e.g. ``"Jumpleq"``.
        arity: Number of arguments (tokens that follow it on the program tape).
        doc: Its semantics in one line.
    """

    name: str
    arity: int
    doc: str


class LevinTask(abc.ABC):
    """A search problem: what the program sees and which outputs solve it.

    Attributes:
        name: Short name for reports.
        n_out: Output values after which a program halts (``OUTPUT_FULL``).
        inputs: The input vector programs may read (GetInput-like primitives).
        work_init: Initial work-tape contents (addresses ``-len .. -1``).
    """

    name: str
    n_out: int
    inputs: tuple[int, ...] = ()
    work_init: tuple[int, ...] = ()

    @abc.abstractmethod
    def accepts(self, status: int, output: Sequence[int]) -> bool:
        """Whether a finished program with this status and output solves the task.

        Args:
            status: The program's final status code.
            output: The values it wrote, in order.

        Returns:
            True for a solution.
        """


class LinearOutputTask(LevinTask):
    """A program solves the task iff it halts normally and ``X @ w == y`` for its output ``w``.

    ``w`` is the output padded with zeros to ``n_out`` values. This covers "output this sequence"
    (``X`` the identity) and the perceptron tasks (rows = training inputs, ``w`` = the weights),
    and it is the predicate the compiled search supports.

    Args:
        name: Short name.
        X: ``(m, n_out)`` integer matrix.
        y: ``(m,)`` integer targets.
        inputs: Input vector for GetInput.
        work_init: Initial work tape.

    Raises:
        LevinError: If shapes or dtypes do not fit.
    """

    def __init__(
        self,
        name: str,
        X: np.ndarray,
        y: np.ndarray,
        inputs: Sequence[int] = (),
        work_init: Sequence[int] = (),
    ) -> None:
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[1] < 1:
            raise LevinError(
                f"LinearOutputTask needs X (m, n_out>=1) and y (m,), got {X.shape} and {y.shape}"
            )
        for arr, what in ((X, "X"), (y, "y")):
            if not np.issubdtype(arr.dtype, np.integer):
                raise LevinError(f"LinearOutputTask {what} must be integer, got {arr.dtype}")
        self.name = name
        self.X = np.ascontiguousarray(X, dtype=np.int64)
        self.y = np.ascontiguousarray(y, dtype=np.int64)
        self.n_out = int(X.shape[1])
        self.inputs = tuple(int(v) for v in inputs)
        self.work_init = tuple(int(v) for v in work_init)

    def accepts(self, status: int, output: Sequence[int]) -> bool:
        """``status`` is a normal halt and ``X @ w == y`` (see class docstring)."""
        if status not in HALTED:
            return False
        w = np.zeros(self.n_out, dtype=np.int64)
        w[: len(output)] = np.asarray(output, dtype=np.int64)
        return bool(np.array_equal(self.X @ w, self.y))


class Language(abc.ABC):
    """A programming language for Levin search: an instruction table plus an interpreter.

    The interpreter must stop at every oracle request (status `NEED`) and be resumable after
    `append`; `clone` snapshots a machine so the search can branch. A language may also provide
    `fast_phase`, a compiled equivalent of `run_phase_py` (same order, same counts).

    Attributes:
        name: Short name.
        instructions: The instruction table.
    """

    name: str
    instructions: tuple[Instruction, ...]

    @abc.abstractmethod
    def reset(self, task: LevinTask) -> Any:
        """Return a fresh machine (empty program) for ``task``."""

    @abc.abstractmethod
    def run(self, state: Any, limit: int) -> int:
        """Run until halt, oracle request, or ``limit`` total steps; return the status code."""

    @abc.abstractmethod
    def need(self, state: Any) -> tuple[int, int]:
        """After `NEED`: the token range ``(lo, n)``, i.e. tokens ``lo .. lo + n - 1``."""

    @abc.abstractmethod
    def append(self, state: Any, value: int) -> None:
        """Write the requested token ``value`` (one of the range from `need`)."""

    @abc.abstractmethod
    def clone(self, state: Any) -> Any:
        """Return an independent copy of a machine."""

    @abc.abstractmethod
    def steps(self, state: Any) -> int:
        """Steps the machine has executed."""

    @abc.abstractmethod
    def program(self, state: Any) -> tuple[int, ...]:
        """The program tokens written so far."""

    @abc.abstractmethod
    def output(self, state: Any) -> tuple[int, ...]:
        """The values written so far."""

    def describe(self, program: Sequence[int]) -> str:
        """A readable listing of a program (default: the raw tokens)."""
        return " ".join(str(int(v)) for v in program)

    def fast_phase(
        self,
        task: LevinTask,
        log2_t: int,
        novel_only: bool,
        stop_after: int,
        path: Sequence[int],
        leaf_limit: int,
    ) -> PhaseChunk | None:
        """Compiled `run_phase_py`, or None when unavailable for this task (the default)."""
        return None


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, kw_only=True)
class LevinConfig:
    """Search settings.

    Attributes:
        max_phase: Last phase ``i`` to run (``T = 2**i`` steps); 0..62.
        min_phase: First phase.
        solutions: Stop after this many distinct solutions (1 = classic Levin search).
        chunk_programs: Finished programs per chunk between state callbacks (checkpoints,
            progress); does not change any count.
        use_kernel: Use the language's compiled phase when it has one.
    """

    max_phase: int = 40
    min_phase: int = 0
    solutions: int = 1
    chunk_programs: int = 5_000_000
    use_kernel: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.min_phase <= self.max_phase <= MAX_LOG2_T:
            raise LevinError(
                f"need 0 <= min_phase <= max_phase <= {MAX_LOG2_T}, got "
                f"min_phase={self.min_phase}, max_phase={self.max_phase}"
            )
        if self.solutions < 1:
            raise LevinError(f"solutions must be >= 1, got {self.solutions}")
        if self.chunk_programs < 1:
            raise LevinError(f"chunk_programs must be >= 1, got {self.chunk_programs}")


@dataclass(frozen=True, kw_only=True)
class Solution:
    """A program that passed the task predicate.

    Attributes:
        program: Its tokens (the cells it read).
        denominator: ``D`` with ``P(p) = 1/D``.
        steps: ``t(p)``, steps it ran.
        status: How it halted.
        output: The values it wrote.
        phase: The phase ``i`` in which it was found.
        programs: Programs tested by the search up to and including this one (all phases).
        total_steps: Interpreter steps the search executed up to this program (all phases).
    """

    program: tuple[int, ...]
    denominator: int
    steps: int
    status: int
    output: tuple[int, ...]
    phase: int
    programs: int
    total_steps: int

    @property
    def log2_probability(self) -> float:
        """``log2 P(p) = -log2 D``."""
        return -math.log2(self.denominator)

    @property
    def levin_complexity(self) -> float:
        """``Kt(p) = -log2 P(p) + log2 t(p)`` in bits."""
        return math.log2(self.denominator) + math.log2(max(self.steps, 1))


@dataclass(frozen=True, kw_only=True)
class PhaseStats:
    """Counts of one phase.

    Attributes:
        phase: ``i`` (total time ``2**i``).
        programs: Finished programs (halted, illegal, or out of budget).
        steps: Interpreter steps executed.
        status_counts: Finished programs by status name.
        complete: False when the search stopped inside the phase (enough solutions).
    """

    phase: int
    programs: int
    steps: int
    status_counts: dict[str, int]
    complete: bool


@dataclass(frozen=True, kw_only=True)
class PhaseChunk:
    """What one call of a phase function returns.

    Attributes:
        code: 0 phase exhausted, 1 paused at the program limit, 2 enough solutions.
        programs: Programs finished in this call.
        steps: Steps executed in this call.
        solutions: Solutions found, as tuples ``(program, D, t, status, output,
            programs_in_call, steps_in_call)``.
        status_counts: Finished programs by status code (length `N_STATUS`).
        path: Resume point: choice index per depth of the next program to run.
    """

    code: int
    programs: int
    steps: int
    solutions: list[tuple[tuple[int, ...], int, int, int, tuple[int, ...], int, int]]
    status_counts: np.ndarray
    path: tuple[int, ...]


@dataclass
class SearchState:
    """The resumable state of `levin_search` (JSON-able through `to_dict` / `from_dict`).

    Attributes:
        phase: The phase in progress.
        path: Resume point inside it.
        programs: Programs tested so far, all phases.
        steps: Steps executed so far, all phases.
        phase_programs: Programs tested so far in the current phase.
        phase_steps: Steps so far in the current phase.
        phase_status: Status histogram of the current phase.
        phases: Finished phases.
        solutions: Solutions so far.
        done: Whether the search has ended.
    """

    phase: int
    path: list[int] = field(default_factory=list)
    programs: int = 0
    steps: int = 0
    phase_programs: int = 0
    phase_steps: int = 0
    phase_status: list[int] = field(default_factory=lambda: [0] * N_STATUS)
    phases: list[PhaseStats] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        d = asdict(self)
        d["solutions"] = [asdict(s) for s in self.solutions]
        d["phases"] = [asdict(p) for p in self.phases]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchState:
        """Inverse of `to_dict`.

        Raises:
            LevinError: If a key is missing or malformed.
        """
        try:
            sols = [
                Solution(**{**s, "program": tuple(s["program"]), "output": tuple(s["output"])})
                for s in d["solutions"]
            ]
            return cls(
                phase=int(d["phase"]),
                path=[int(v) for v in d["path"]],
                programs=int(d["programs"]),
                steps=int(d["steps"]),
                phase_programs=int(d["phase_programs"]),
                phase_steps=int(d["phase_steps"]),
                phase_status=[int(v) for v in d["phase_status"]],
                phases=[PhaseStats(**p) for p in d["phases"]],
                solutions=sols,
                done=bool(d["done"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise LevinError(f"malformed Levin search state: {e!r}") from None


@dataclass(frozen=True, kw_only=True)
class LevinResult:
    """The outcome of `levin_search`.

    Attributes:
        solutions: Solutions in the order found (at most ``config.solutions``).
        phases: Per-phase counts (the last one incomplete if the search stopped inside it).
        programs: Programs tested in total.
        steps: Interpreter steps executed in total.
        exhausted: True if ``max_phase`` ended before enough solutions were found.
    """

    solutions: tuple[Solution, ...]
    phases: tuple[PhaseStats, ...]
    programs: int
    steps: int
    exhausted: bool

    @property
    def first(self) -> Solution | None:
        """The first solution (classic Levin search's answer), or None."""
        return self.solutions[0] if self.solutions else None


# ------------------------------------------------------------------------------ the search


def run_phase_py(
    language: Language,
    task: LevinTask,
    log2_t: int,
    novel_only: bool,
    stop_after: int,
    path: Sequence[int] = (),
    leaf_limit: int = 0,
) -> PhaseChunk:
    """One Levin-search phase in plain Python, depth first (twin of the compiled phase).

    Phase ``i`` (``T = 2**log2_t``): the prefix with probability ``1/D`` runs for at most
    ``T // D`` steps; at an oracle request offering ``n`` tokens, each child gets ``T // (D n)``
    steps and is explored only if that exceeds the steps already used (else the prefix counts as
    one program that ran out of time).

    Args:
        language: The language.
        task: The task.
        log2_t: The phase ``i``.
        novel_only: Record only solutions that would not have passed in phase ``i - 1``.
        stop_after: Stop after recording this many solutions.
        path: Resume point from a paused call (choice index per depth of the next program).
        leaf_limit: Pause after this many finished programs (0: run to the end).

    Returns:
        The chunk's counts, solutions and resume path.

    Raises:
        LevinError: If ``path`` does not replay to oracle requests (a corrupt resume point).
    """
    t_total = 1 << log2_t
    half = t_total >> 1
    state = language.reset(task)
    stack: list[list[Any]] = []  # [snapshot at the request, D, lo, n, choice]
    den = 1
    for j in path:  # replay: these steps were counted before the pause
        if language.run(state, t_total // den) != NEED:
            raise LevinError(f"resume path {list(path)} does not replay to oracle requests")
        lo, n = language.need(state)
        stack.append([language.clone(state), den, lo, n, int(j)])
        language.append(state, lo + int(j))
        den *= n
    programs = steps = 0
    counts = np.zeros(N_STATUS, dtype=np.int64)
    sols: list[tuple[tuple[int, ...], int, int, int, tuple[int, ...], int, int]] = []
    while True:
        before = language.steps(state)
        status = language.run(state, t_total // den)
        steps += language.steps(state) - before
        if status == NEED:
            lo, n = language.need(state)
            if n <= t_total // den and t_total // (den * n) >= language.steps(state) + 1:
                stack.append([language.clone(state), den, lo, n, 0])
                language.append(state, lo)
                den *= n
                continue
            status = BUDGET
        programs += 1
        counts[status] += 1
        output = language.output(state)
        if task.accepts(status, output):
            t = language.steps(state)
            if not novel_only or t > half // den:
                sols.append(
                    (language.program(state), den, t, status, tuple(output), programs, steps)
                )
        while stack:  # backtrack to the next sibling
            top = stack[-1]
            top[4] += 1
            if top[4] < top[3]:
                state = language.clone(top[0])
                language.append(state, top[2] + top[4])
                den = top[1] * top[3]
                break
            stack.pop()
        if not stack:
            return PhaseChunk(
                code=0, programs=programs, steps=steps, solutions=sols, status_counts=counts,
                path=(),
            )  # fmt: skip
        if len(sols) >= stop_after or (leaf_limit > 0 and programs >= leaf_limit):
            return PhaseChunk(
                code=2 if len(sols) >= stop_after else 1,
                programs=programs,
                steps=steps,
                solutions=sols,
                status_counts=counts,
                path=tuple(e[4] for e in stack),
            )


def _status_dict(counts: Sequence[int]) -> dict[str, int]:
    return {STATUS_NAMES[c]: int(v) for c, v in enumerate(counts) if v and c in STATUS_NAMES}


def levin_search(
    language: Language,
    task: LevinTask,
    config: LevinConfig = LevinConfig(),
    state: SearchState | None = None,
    on_chunk: Callable[[SearchState], None] | None = None,
) -> LevinResult:
    """Levin search: phases ``i = min_phase .. max_phase`` until enough solutions are found.

    Args:
        language: The language (its compiled phase is used when available and allowed).
        task: The task.
        config: Phases, number of solutions, chunk size.
        state: A state saved by ``on_chunk`` to resume from (None: start fresh). The result is
            identical to an uninterrupted search with the same arguments.
        on_chunk: Called with the current state after every chunk and every finished phase
            (save it to checkpoint; it is not copied, so serialize it before returning).

    Returns:
        The solutions and the counts.

    Raises:
        LevinError: On a bad config or a resume state from a different search.
    """
    if not isinstance(language, Language):
        raise LevinError(f"language must be a Language, got {type(language).__name__}")
    if not isinstance(task, LevinTask):
        raise LevinError(f"task must be a LevinTask, got {type(task).__name__}")
    s = state if state is not None else SearchState(phase=config.min_phase)
    if not config.min_phase <= s.phase <= config.max_phase + 1:
        raise LevinError(
            f"resume state is at phase {s.phase}, outside this search's "
            f"{config.min_phase}..{config.max_phase}"
        )
    while not s.done and s.phase <= config.max_phase and len(s.solutions) < config.solutions:
        i = s.phase
        novel = i > config.min_phase
        need = config.solutions - len(s.solutions)
        chunk = None
        if config.use_kernel:
            chunk = language.fast_phase(task, i, novel, need, s.path, config.chunk_programs)
        if chunk is None:
            chunk = run_phase_py(language, task, i, novel, need, s.path, config.chunk_programs)
        if chunk.code < 0:
            raise LevinError(f"resume path {s.path} does not replay in phase {i}")
        for prog, den, t, status, out, n_at, steps_at in chunk.solutions[:need]:
            s.solutions.append(
                Solution(
                    program=prog,
                    denominator=int(den),
                    steps=int(t),
                    status=int(status),
                    output=out,
                    phase=i,
                    programs=s.programs + int(n_at),
                    total_steps=s.steps + int(steps_at),
                )
            )
        s.programs += chunk.programs
        s.steps += chunk.steps
        s.phase_programs += chunk.programs
        s.phase_steps += chunk.steps
        s.phase_status = [
            a + int(b) for a, b in zip(s.phase_status, chunk.status_counts, strict=True)
        ]
        if chunk.code == 1:
            s.path = list(chunk.path)
        else:
            s.phases.append(
                PhaseStats(
                    phase=i,
                    programs=s.phase_programs,
                    steps=s.phase_steps,
                    status_counts=_status_dict(s.phase_status),
                    complete=chunk.code == 0,
                )
            )
            s.path, s.phase_programs, s.phase_steps = [], 0, 0
            s.phase_status = [0] * N_STATUS
            s.phase = i + 1
        if len(s.solutions) >= config.solutions or s.phase > config.max_phase:
            s.done = True
        if on_chunk is not None:
            on_chunk(s)
    return LevinResult(
        solutions=tuple(s.solutions),
        phases=tuple(s.phases),
        programs=s.programs,
        steps=s.steps,
        exhausted=len(s.solutions) < config.solutions,
    )
