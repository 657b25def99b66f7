"""Hutter's M* (HSEARCH) at small scale: proof search, bound ranking and execution, interleaved.

Paper: M. Hutter, "The Fastest and Shortest Algorithm for All Well-Defined Problems",
International Journal of Foundations of Computer Science 13(3):431-443, 2002 (arXiv:cs/0206022).

The algorithm M_p* of the paper, given a program p, runs three processes in parallel:

* (A) enumerate all proofs of a formal system in order of length; whenever a proof of
  "program q is equivalent to p and has time bound t_q" appears, append (q, t_q) to a list L;
* (B) compute the time bounds t_q(x) of the programs in L and keep the fastest so far
  (p_fast, t_fast);
* (C) for k = 1, 2, 4, 8, ...: run the current p_fast for k steps; if it halts, output its result
  and stop M_p*.

with time shares 10% (A), 10% (B) and 80% (C). The paper's theorem: for every p' provably
equivalent to p with provable time bound t_p',

    time_{M_p*}(x) <= 5 * t_p'(x) + d_p' * time_{t_p'}(x) + c_p',

where time_{t_p'}(x) is the time to compute the bound and the constants c_p', d_p' do not depend
on x (c_p' grows like 2^(length of the proof), i.e. astronomically in any real formal system).
The factor 5 is 1 / 0.8 (C's share) times 4 (the doubling restarts of C: the last round, of k < 2t
steps, plus all earlier ones, is less than 4t). The theorem's form (with its d_p' time_{t_p'}(x)
term, and c_p', d_p' independent of x) was checked against a quotation of the theorem; the
10% / 10% / 80% shares and C's doubling are the paper's description of M_p* as implemented here,
and are the ones that give exactly the factor 4 / 0.8 = 5 (the paper's original text was not
re-read when this module was written).

What runs here, hand-designed (nothing of it is found by the algorithm):

* The solver language: programs over one natural-number input n, as terms ``("inp",)`` (n),
  ``("one",)`` (1), ``("inc", a)`` (a+1), ``("half", a)`` (floor(a/2)), ``("add", a, b)``,
  ``("mul", a, b)`` and ``("loop", b, g)`` = sum_{i=0}^{b-1} g(i) (g is a program whose input is
  the loop index i). Its step-counting machine (`run_program`): inp and one cost 1 step, inc,
  half, add, mul cost their arguments plus 1, and loop costs its bound, plus (steps of g(i) + 1)
  for every i < b, plus 1.
* The formal system: judgements Ev(q, V, C) ("for all n >= 0, q(n) = V(n) in exactly C(n) steps",
  V and C polynomials with rational coefficients) and Thm(q, T) ("q is equivalent to p and takes
  at most T(n) steps"). Rules (`RULES`): one axiom per atom, one compositional rule per operator
  (half only when V is even at every n >= 0, decided from its forward differences; loop through
  the summation polynomial Sigma_G(m) = sum_{i<m} G(i) composed with the bound), a degree cap
  (`MStarConfig.max_degree`) on every derived polynomial, and thm (q's and p's values agree as
  polynomials, and T - C has no negative coefficient, so T(n) >= C(n) for n >= 0). A proof is a
  sequence of `Line`s, each naming its rule, its premises (earlier line numbers) and the
  judgement it claims; `check_proof` replays every line and rejects any claim the rule does not
  give.
* The proof enumeration (A): p's own derivation first (every proof of "q is equivalent to p" needs
  it), then every program in order of size (number of term nodes), each by its syntax-directed
  derivation, up to ``max_size``; a Thm is produced for every program whose value polynomial is
  p's, and its whole proof is replayed by `check_proof` before it enters L. This is breadth-first
  enumeration over rule applications, a finite slice of the paper's enumeration of all proofs in
  length order. Time is counted in abstract steps of one machine: a rule application costs 1 plus
  the number of coefficients it writes, replaying a proof costs the sum of its lines' costs,
  evaluating a bound T(x) in B costs deg T + 1 (Horner), one step of the solver in C costs 1, and
  an idle step (A exhausted, B waiting) costs 1 -- every process gets its share of time whether it
  uses it or not, as in the paper.

Deviations from the paper: one problem family instead of all well-defined problems; a hand-made
proof system that is decidable and complete for this language (up to the degree cap) instead of
"every proof of every formal system", so the additive constant c_p is a few thousand steps
instead of an astronomical 2^(proof length); B evaluates the bounds one after another (they cost
a few steps each) where the paper dovetails them with shares 2^-i; the shares are realised by
deficit round robin (the process furthest behind its share runs its next unit of work), so each
share is exact up to the largest unit (a rule application); A is finite (it idles when
exhausted).

Examples:
    >>> sq = ("loop", ("inp",), ("mul", ("inp",), ("inp",)))     # sum_{i<n} i*i, 4n+2 steps
    >>> run_program(sq, 5)
    (30, 22)
    >>> ev = derive(sq, max_degree=6)
    >>> show_poly(ev.V), show_poly(ev.C)
    ('1/3 n^3 - 1/2 n^2 + 1/6 n', '4 n + 2')
    >>> r = run_mstar(NAIVE_SQUARES, 60, MStarConfig(max_size=5))
    >>> r.output == run_program(NAIVE_SQUARES, 60)[0], show_program(r.final_program)
    (True, 'loop(n, mul(n, n))')
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "LINEAR_SQUARES",
    "NAIVE_SQUARES",
    "RULES",
    "SHARES",
    "Ev",
    "Line",
    "MStarConfig",
    "MStarResult",
    "Program",
    "ProofRejected",
    "Thm",
    "check_proof",
    "derive",
    "enumerate_programs",
    "even_everywhere",
    "fastest_proven",
    "poly_eval",
    "program_size",
    "proof_of",
    "proven_solvers",
    "run_mstar",
    "run_program",
    "show_poly",
    "show_program",
    "sigma",
]

Program = tuple[Any, ...]
"""A term of the solver language: ("inp",), ("one",), (op, a) or (op, a, b)."""
Poly = tuple[Fraction, ...]
"""Polynomial in n, coefficients from the constant term up, no trailing zeros."""

SHARES = {"A": 0.1, "B": 0.1, "C": 0.8}
"""Time shares of proof search (A), bound evaluation (B) and execution (C), as in the paper."""

ATOMS = ("inp", "one")
UNARY = ("inc", "half")
BINARY = ("add", "mul", "loop")
RULES = ATOMS + UNARY + BINARY + ("thm",)
"""The inference rules: one axiom per atom, one rule per operator, and thm."""

NAIVE_SQUARES: Program = (
    "loop",
    ("inp",),
    ("loop", ("inp",), ("add", ("add", ("inp",), ("inp",)), ("one",))),
)
"""sum_{i<n} i^2 with i^2 = sum_{j<i} (2j + 1): 3n^2 + 2 steps."""
LINEAR_SQUARES: Program = ("loop", ("inp",), ("mul", ("inp",), ("inp",)))
"""sum_{i<n} i*i: 4n + 2 steps."""


# ----------------------------------------------------------------------------- polynomials
def _poly(coeffs: Sequence[Fraction | int]) -> Poly:
    c = [Fraction(v) for v in coeffs]
    while c and c[-1] == 0:
        c.pop()
    return tuple(c)


def _padd(a: Poly, b: Poly) -> Poly:
    n = max(len(a), len(b))
    return _poly([(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)])


def _pmul(a: Poly, b: Poly) -> Poly:
    if not a or not b:
        return ()
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return _poly(out)


def _compose(a: Poly, b: Poly) -> Poly:
    """a(b(n)) by Horner."""
    out: Poly = ()
    for coef in reversed(a):
        out = _padd(_pmul(out, b), (coef,))
    return out


def poly_eval(a: Poly, x: int) -> Fraction:
    """a(x) by Horner."""
    out = Fraction(0)
    for coef in reversed(a):
        out = out * x + coef
    return out


def _differences(a: Poly) -> list[Fraction]:
    """Forward differences Delta^k a(0), k = 0..deg a (Newton's basis coefficients)."""
    vals = [poly_eval(a, i) for i in range(len(a))]
    out = []
    while vals:
        out.append(vals[0])
        vals = [vals[i + 1] - vals[i] for i in range(len(vals) - 1)]
    return out


def _binom_poly(k: int) -> Poly:
    """binom(m, k) as a polynomial in m."""
    out: Poly = (Fraction(1),)
    for j in range(k):
        out = _pmul(out, (Fraction(-j, j + 1), Fraction(1, j + 1)))
    return out


def sigma(a: Poly) -> Poly:
    """Sigma_a(m) = sum_{i=0}^{m-1} a(i): with a(i) = sum_k Delta^k a(0) C(i, k), C(m, k+1)."""
    out: Poly = ()
    for k, d in enumerate(_differences(a)):
        out = _padd(out, _pmul((d,), _binom_poly(k + 1)))
    return out


def even_everywhere(a: Poly) -> bool:
    """Is a(n) an even integer for every integer n >= 0? Iff every Delta^k a(0) is."""
    return all(d.denominator == 1 and d.numerator % 2 == 0 for d in _differences(a))


def show_poly(a: Poly) -> str:
    """A polynomial in n as text, highest power first."""
    if not a:
        return "0"
    terms = []
    for k in range(len(a) - 1, -1, -1):
        c = a[k]
        if c == 0:
            continue
        mag = abs(c)
        body = ("" if mag == 1 and k else str(mag) + (" " if k else "")) + (
            "n" if k == 1 else f"n^{k}" if k else ""
        )
        terms.append(("- " if c < 0 else "+ ") + body)
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


# ----------------------------------------------------------------------------- programs
def show_program(q: Program) -> str:
    """A program as text: n, 1, inc(.), half(.), add(., .), mul(., .), loop(., .)."""
    if q[0] == "inp":
        return "n"
    if q[0] == "one":
        return "1"
    return f"{q[0]}({', '.join(show_program(a) for a in q[1:])})"


def program_size(q: Program) -> int:
    """Number of term nodes."""
    return 1 + sum(program_size(a) for a in q[1:])


def _steps(q: Program, n: int) -> Generator[int, None, int]:
    """The machine: yields once per step, returns the value (see the module docstring)."""
    op = q[0]
    if op == "inp" or op == "one":
        yield 1
        return n if op == "inp" else 1
    if op in UNARY:
        v = yield from _steps(q[1], n)
        yield 1
        return v + 1 if op == "inc" else v // 2
    if op == "loop":
        b = yield from _steps(q[1], n)
        total = 0
        for i in range(b):
            total += yield from _steps(q[2], i)
            yield 1
        yield 1
        return total
    u = yield from _steps(q[1], n)
    w = yield from _steps(q[2], n)
    yield 1
    return u + w if op == "add" else u * w


def run_program(q: Program, n: int) -> tuple[int, int]:
    """Run q on input n to the end: (value, steps)."""
    if n < 0:
        raise RnnaiError(f"the input must be a natural number, got {n}")
    gen = _steps(q, n)
    steps = 0
    while True:
        try:
            next(gen)
            steps += 1
        except StopIteration as stop:
            return int(stop.value), steps


# ----------------------------------------------------------------------------- the proof system
@dataclass(frozen=True)
class Ev:
    """Judgement "for all n >= 0, q(n) = V(n), computed in exactly C(n) steps"."""

    q: Program
    V: Poly
    C: Poly


@dataclass(frozen=True)
class Thm:
    """Judgement "q computes the same function as p and takes at most T(n) steps"."""

    q: Program
    T: Poly


Judgement = Ev | Thm


@dataclass(frozen=True)
class Line:
    """One proof line: the rule, its premises (indices of earlier lines), the claimed judgement."""

    rule: str
    premises: tuple[int, ...]
    claim: Judgement


class ProofRejected(RnnaiError):
    """A proof line that its rule does not justify."""


def _rule_conclusion(rule: str, prem: list[Ev], max_degree: int) -> Ev | None:
    """What `rule` derives from the premise judgements, or None where it does not apply."""
    if rule == "inp":
        out = Ev(("inp",), _poly([0, 1]), _poly([1]))
    elif rule == "one":
        out = Ev(("one",), _poly([1]), _poly([1]))
    elif rule == "inc":
        (a,) = prem
        out = Ev(("inc", a.q), _padd(a.V, _poly([1])), _padd(a.C, _poly([1])))
    elif rule == "half":
        (a,) = prem
        if not even_everywhere(a.V):
            return None
        out = Ev(("half", a.q), _pmul(a.V, _poly([Fraction(1, 2)])), _padd(a.C, _poly([1])))
    elif rule in ("add", "mul"):
        a, b = prem
        v = _padd(a.V, b.V) if rule == "add" else _pmul(a.V, b.V)
        out = Ev((rule, a.q, b.q), v, _padd(_padd(a.C, b.C), _poly([1])))
    elif rule == "loop":
        b, g = prem
        v = _compose(sigma(g.V), b.V)
        c = _padd(_padd(b.C, _compose(sigma(_padd(g.C, _poly([1]))), b.V)), _poly([1]))
        out = Ev(("loop", b.q, g.q), v, c)
    else:
        return None
    if len(out.V) > max_degree + 1 or len(out.C) > max_degree + 1:
        return None
    return out


def _arity(rule: str) -> int:
    return 0 if rule in ATOMS else 1 if rule in UNARY else 2


def _cost(j: Judgement) -> int:
    """Abstract steps to write a judgement: 1 plus its coefficients."""
    return 1 + (len(j.V) + len(j.C) if isinstance(j, Ev) else len(j.T))


def check_proof(proof: Sequence[Line], p: Program, *, max_degree: int = 6) -> Thm:
    """Replay a proof line by line and return its final Thm.

    Args:
        proof: The lines; the last must be a thm.
        p: The program every Thm is about (equivalence to p).
        max_degree: The degree cap of the system.

    Returns:
        The last line's Thm.

    Raises:
        ProofRejected: At the first line its rule does not justify (unknown rule, wrong number
            of premises, a premise that is not an earlier line or is not an Ev, a claim that
            differs from what the rule derives, a failed side condition).
    """
    if not proof:
        raise ProofRejected("an empty proof proves nothing")
    got: list[Judgement] = []
    for k, line in enumerate(proof):
        where = f"line {k} ({line.rule})"
        if any(not 0 <= i < k for i in line.premises):
            raise ProofRejected(f"{where}: premises must be earlier lines, got {line.premises}")
        prem = [got[i] for i in line.premises]
        if line.rule == "thm":
            if len(prem) != 2 or not all(isinstance(j, Ev) for j in prem):
                raise ProofRejected(f"{where}: thm needs two Ev premises (q's, then p's)")
            eq, ep = prem
            assert isinstance(eq, Ev) and isinstance(ep, Ev)
            claim = line.claim
            if ep.q != p:
                raise ProofRejected(f"{where}: the second premise is about {show_program(ep.q)}, "
                                    f"not p = {show_program(p)}")  # fmt: skip
            if eq.V != ep.V:
                raise ProofRejected(f"{where}: q computes {show_poly(eq.V)}, p computes "
                                    f"{show_poly(ep.V)}")  # fmt: skip
            if not isinstance(claim, Thm) or claim.q != eq.q:
                raise ProofRejected(f"{where}: the claim is not a Thm about the premise's program")
            gap = _padd(claim.T, _pmul(eq.C, _poly([-1])))
            if any(c < 0 for c in gap):
                raise ProofRejected(f"{where}: the bound {show_poly(claim.T)} does not follow "
                                    f"from the step count {show_poly(eq.C)}")  # fmt: skip
            got.append(claim)
            continue
        if line.rule not in RULES or len(prem) != _arity(line.rule):
            raise ProofRejected(f"{where}: unknown rule or {len(prem)} premises")
        if not all(isinstance(j, Ev) for j in prem):
            raise ProofRejected(f"{where}: premises must be Ev judgements")
        derived = _rule_conclusion(line.rule, [j for j in prem if isinstance(j, Ev)], max_degree)
        if derived is None:
            raise ProofRejected(f"{where}: a side condition fails (odd half or degree cap)")
        if derived != line.claim:
            raise ProofRejected(f"{where}: the claim does not match the rule's conclusion")
        got.append(derived)
    last = got[-1]
    if not isinstance(last, Thm):
        raise ProofRejected("the last line must be a thm")
    return last


def derive(q: Program, *, max_degree: int = 6) -> Ev:
    """The syntax-directed derivation's conclusion Ev(q, V, C).

    Raises:
        ProofRejected: If q has no derivation (an odd half, or above the degree cap).
    """
    prem = [derive(a, max_degree=max_degree) for a in q[1:]]
    out = _rule_conclusion(q[0], prem, max_degree)
    if out is None:
        raise ProofRejected(f"{show_program(q)} has no derivation in the system")
    return out


def proof_of(q: Program, p: Program, *, max_degree: int = 6) -> list[Line]:
    """The proof of Thm(q, C_q) built from the derivations of q and p (shared subterms once)."""
    lines: list[Line] = []
    index: dict[Program, int] = {}

    def walk(t: Program) -> int:
        if t in index:
            return index[t]
        prem = tuple(walk(a) for a in t[1:])
        ev = _rule_conclusion(t[0], [lines[i].claim for i in prem], max_degree)  # type: ignore[misc]
        if ev is None:
            raise ProofRejected(f"{show_program(t)} has no derivation in the system")
        lines.append(Line(t[0], prem, ev))
        index[t] = len(lines) - 1
        return index[t]

    iq, ip = walk(q), walk(p)
    c = lines[iq].claim
    assert isinstance(c, Ev)
    lines.append(Line("thm", (iq, ip), Thm(q, c.C)))
    return lines


def enumerate_programs(max_size: int) -> Iterator[Program]:
    """Every program of the language in order of size, then a fixed order within a size."""
    by_size: dict[int, list[Program]] = {}
    for s in range(1, max_size + 1):
        level: list[Program] = [(a,) for a in ATOMS] if s == 1 else []
        if s > 1:
            level += [(op, a) for op in UNARY for a in by_size[s - 1]]
            for op in BINARY:
                for left in range(1, s - 1):
                    level += [(op, a, b) for a in by_size[left] for b in by_size[s - 1 - left]]
        by_size[s] = level
        yield from level


# ----------------------------------------------------------------------------- M*
@dataclass(frozen=True, kw_only=True)
class MStarConfig:
    """Settings of M*.

    Attributes:
        max_size: Largest program (term nodes) whose proof A enumerates.
        max_degree: Degree cap of the proof system.
        trace_every: Record the cumulative steps of A, B, C every this many global steps.
    """

    max_size: int = 5
    max_degree: int = 6
    trace_every: int = 200

    def __post_init__(self) -> None:
        if self.max_size < 1 or self.max_degree < 1 or self.trace_every < 1:
            raise RnnaiError(
                "MStarConfig needs max_size, max_degree, trace_every >= 1, got "
                f"{self.max_size}, {self.max_degree}, {self.trace_every}"
            )


@dataclass(frozen=True, kw_only=True)
class MStarResult:
    """One run of M* on one input.

    Attributes:
        output: The value printed by C.
        total_steps: All steps of M* (A + B + C, idle steps included).
        steps: Steps per process.
        final_program: The program whose run halted.
        final_bound: Its proven bound T (None if it was p before any proof).
        switches: (global step, program text, bound text, t(x)) each time B set a new p_fast.
        proofs: (global step, program text, bound text) each time A's checked Thm entered L.
        trace: (global step, A, B, C cumulative steps) every ``trace_every`` steps.
    """

    output: int
    total_steps: int
    steps: dict[str, int]
    final_program: Program
    final_bound: Poly | None
    switches: list[tuple[int, str, str, int]] = field(default_factory=list)
    proofs: list[tuple[int, str, str]] = field(default_factory=list)
    trace: list[tuple[int, int, int, int]] = field(default_factory=list)


def run_mstar(p: Program, x: int, config: MStarConfig | None = None) -> MStarResult:
    """Run M_p* on input x: processes A, B, C interleaved with shares `SHARES`.

    Args:
        p: The given program (its function is the problem).
        x: The input.
        config: Enumeration size, degree cap, trace spacing.

    Returns:
        The result, with every proof, switch and the share trace.
    """
    cfg = config or MStarConfig()
    if x < 0:
        raise RnnaiError(f"the input must be a natural number, got {x}")
    found: list[tuple[Program, Poly]] = []  # L, appended by A
    state: dict[str, Any] = {"fast": p, "t_fast": None, "T": None, "done": None, "t": 0}
    res_switch: list[tuple[int, str, str, int]] = []
    res_proofs: list[tuple[int, str, str]] = []

    def proc_a() -> Iterator[int]:
        derived: dict[Program, Ev] = {}
        try:
            ev_p = derive(p, max_degree=cfg.max_degree)
        except ProofRejected:
            ev_p = None
        if ev_p is None:
            yield 1
        else:  # Thm(p, C_p): p is equivalent to itself, with its own step count as bound
            proof = proof_of(p, p, max_degree=cfg.max_degree)
            thm = check_proof(proof, p, max_degree=cfg.max_degree)
            yield sum(_cost(line.claim) for line in proof)
            found.append((thm.q, thm.T))
            res_proofs.append((state["t"], show_program(thm.q), show_poly(thm.T)))
        for q in enumerate_programs(cfg.max_size):
            prem = [derived.get(a) for a in q[1:]]
            ev = None if any(e is None for e in prem) else _rule_conclusion(
                q[0], [e for e in prem if e is not None], cfg.max_degree)  # fmt: skip
            if ev is None:
                yield 1
                continue
            derived[q] = ev
            yield _cost(ev)
            if ev_p is not None and ev.V == ev_p.V and q != p:
                proof = proof_of(q, p, max_degree=cfg.max_degree)
                thm = check_proof(proof, p, max_degree=cfg.max_degree)  # the replay
                yield sum(_cost(line.claim) for line in proof)
                found.append((thm.q, thm.T))
                res_proofs.append((state["t"], show_program(thm.q), show_poly(thm.T)))
        while True:  # enumeration exhausted: A idles for its share
            yield 1

    def proc_b() -> Iterator[int]:
        i = 0
        while True:
            if i >= len(found):
                yield 1
                continue
            q, bound = found[i]
            i += 1
            tx = int(poly_eval(bound, x))
            yield len(bound)  # Horner: deg + 1 multiply-adds
            if state["t_fast"] is None or tx < state["t_fast"]:
                state.update(fast=q, t_fast=tx, T=bound)
                res_switch.append((state["t"], show_program(q), show_poly(bound), tx))

    def proc_c() -> Iterator[int]:
        k = 1
        while True:
            prog, bound = state["fast"], state["T"]
            gen = _steps(prog, x)
            for _ in range(k):
                try:
                    next(gen)
                except StopIteration as stop:
                    state["done"] = (int(stop.value), prog, bound)
                    yield 0
                    return
                yield 1
            k *= 2

    procs: dict[str, Iterator[int]] = {"A": proc_a(), "B": proc_b(), "C": proc_c()}
    used = {name: 0 for name in procs}
    trace: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]
    next_trace = cfg.trace_every
    while state["done"] is None:
        name = min(procs, key=lambda n: used[n] / SHARES[n])  # deficit round robin
        used[name] += next(procs[name])
        state["t"] = sum(used.values())
        if state["t"] >= next_trace:
            trace.append((state["t"], used["A"], used["B"], used["C"]))
            next_trace += cfg.trace_every
    value, prog, bound = state["done"]
    trace.append((state["t"], used["A"], used["B"], used["C"]))
    return MStarResult(output=value, total_steps=state["t"], steps=dict(used),
                       final_program=prog, final_bound=bound, switches=res_switch,
                       proofs=res_proofs, trace=trace)  # fmt: skip


def proven_solvers(p: Program, config: MStarConfig) -> list[tuple[Program, Poly]]:
    """Found without M*: p and every program up to ``max_size`` whose derived value is p's, each
    with its derived step count (p first, then enumeration order)."""
    ev_p = derive(p, max_degree=config.max_degree)
    out: list[tuple[Program, Poly]] = [(p, ev_p.C)]
    derived: dict[Program, Ev] = {}
    for q in enumerate_programs(config.max_size):
        prem = [derived.get(a) for a in q[1:]]
        if any(e is None for e in prem):
            continue
        ev = _rule_conclusion(q[0], [e for e in prem if e is not None], config.max_degree)
        if ev is None:
            continue
        derived[q] = ev
        if ev.V == ev_p.V and q != p:
            out.append((q, ev.C))
    return out


def fastest_proven(
    p: Program,
    x: int,
    config: MStarConfig,
    solvers: Sequence[tuple[Program, Poly]] | None = None,
) -> tuple[Program, int]:
    """The least proven bound at x among `proven_solvers` (the first wins ties).

    Args:
        p: The given program.
        x: The input.
        config: Enumeration size and degree cap.
        solvers: `proven_solvers(p, config)`, if already computed.

    Returns:
        (program, its derived step count at x).
    """
    best: tuple[Program, int] | None = None
    for q, bound in solvers if solvers is not None else proven_solvers(p, config):
        t = int(poly_eval(bound, x))
        if best is None or t < best[1]:
            best = (q, t)
    assert best is not None
    return best
