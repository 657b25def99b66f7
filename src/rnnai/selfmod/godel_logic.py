"""The Gödel machine's formal system: hardware, environment and utility axioms, one inference
rule, and the small auditable proof checker that replays every proof the machine acts on.

Papers: J. Schmidhuber, "Gödel machines: self-referential universal problem solvers making
provably optimal self-improvements", Technical Report IDSIA-19-03, arXiv:cs/0309048, 2003; and
"Ultimate cognition à la Gödel", Cognitive Computation 1(2):177-193, 2009. The machine itself is
`rnnai.selfmod.godel`; this module is everything its proofs are checked against.

The machine's world, in the papers' terms. The life has cycles t = 0 .. T. The hardware runs the
current software in rounds of c + k cycles: one environment action ("pull", c cycles, reward at
its last cycle) by the policy, then k cycles of proof search (the searcher's time share). The
switchbit is honoured only at the end of a search segment (a round boundary); executing the
switchprog costs c_s cycles; a software with share k = 0 pulls back to back. The environment is a
Bernoulli bandit: pulling arm a pays 1 with probability p_a (exact rationals), else 0, independent
of everything else. The utility of a state s at time t is the papers'

    u(s, Env) = E_mu [ sum_{tau = time}^{T} r(tau) | s, Env ],

the expected reward from now to the end of the life (cycles spent on proofs earn nothing, so the
proof search's time is charged against reward: the reward the search has already cost is sunk and
the same in both branches, and the time it still costs is in u), and the target theorem is

    u[s(t1) (+) (switchbit(t1) = '1'), Env(t1)] > u[s(t1) (+) (switchbit(t1) = '0'), Env(t1)].

Judgements (`World`, `State`, `Target`) are frozen dataclasses of exact numbers (`Fraction`):

* ``World(T, c, c_s, p)`` is the one axiom (``AXIOMS``): the hardware, reward, environment and
  utility axioms above, as one conjunction with this machine's constants.
* ``State(t, e, pi, k, sigma)`` is what state2theorem reads from the machine at cycle t: the end e
  of the current search segment (where a switch would take effect), the policy pi (a distribution
  over arms), the searcher's share k, and the switchprog register sigma.
* ``Target(t1, sigma, u_1, u_0)`` reads "switching to sigma at t1 has utility exactly u_1 and
  continuing has utility at most u_0 < u_1": the target theorem with its two sides evaluated.

The rule ``compare`` (`compare`, the only element of ``RULES``) derives Target from World and
State when sigma stops the search (k' = 0; its software's future is then fully determined) and
u_1 > u_0, with D = T - e, mu(pi) = sum_a pi_a p_a, p* = max_a p_a, n(x) = max(0, floor(x / c)):

    u_1 = mu(pi') n(D - c_s)                                 (exact: pi' pulled back to back)
    u_0 = mu(pi) [D >= c] + p* n(D - c - k)                   (a bound for any continuation)

u_0 bounds the continuation from above because, with switchbit(t1) = '0', the current software
first spends a round (one pull with pi, then k search cycles); a later switch can take effect no
earlier than e + c + k, and after that instant no software can make more than n(T - e - c - k)
pulls, none worth more than p* in expectation (switch costs only lower this). The rule therefore
cannot prove the worth of a switchprog that keeps searching (k' > 0): that would need a theorem
about the rewritten searcher's own future proofs, which this system does not have.

The checker (`check_proof`) replays a proof record line by line: an axiom line must be the
axiom it names; a state line must be what the hardware shows at its time (segment end from the
round structure, the software registers from the machine, the switchprog register from the
record's own set-switchprog lines); a rule line must name live earlier premises of the right
kinds and claim exactly what `compare` derives from them; a delete line must delete a live
theorem; the last line must be check, whose last live theorem is a Target about the current
switchprog and about the end of the segment in which check runs (a target theorem about a
passed instant is stale). Exact rational arithmetic throughout, no solver, nothing trusted.

Hand-designed (nothing of it is found by the machine): the axiom (the environment model is given
to the machine exactly), the utility encoding, the rule and its soundness argument above, the
round structure of the hardware, the costs (a proof instruction costs one cycle).

Checked against the papers (through quotations of the 2003/2009 text found by search): the six
instructions get-axiom(n), apply-rule(k, m, n), delete-theorem(m), set-switchprog(m, n),
check(), state2theorem(m, n) and what each does; that their nature makes it impossible to insert
an incorrect theorem; the kinds of axioms (hardware, reward, environment, uncertainty, initial
state, utility). Not checked (written from memory of the papers): the exact typography of the
utility and target-theorem formulas above, and the precise condition check() imposes on t1
relative to the current time (here: t1 must be the end of the segment in which check runs).

Examples:
    >>> w = World(T=100, c=5, c_s=1, p=(Fraction(1, 5), Fraction(4, 5)))
    >>> s = State(t=7, e=10, policy=(Fraction(1, 2), Fraction(1, 2)), share=5,
    ...           switchprog=Switchprog(arm=1, share=0))
    >>> tgt = compare(w, s)
    >>> tgt.u_switch, tgt.u_continue     # 4/5 * 17 pulls  vs  1/2 + 4/5 * 16 pulls
    (Fraction(68, 5), Fraction(133, 10))
    >>> segment_end(7, c=5, k=5), wall_time(2, c=5, k=5)
    (10, 7)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.mstar import ProofRejected

__all__ = [
    "LINE_KINDS",
    "RULES",
    "Line",
    "ProofRejected",
    "State",
    "Switchprog",
    "Target",
    "World",
    "axioms",
    "check_proof",
    "compare",
    "max_pulls",
    "mean_reward",
    "segment_end",
    "utility_terms",
    "wall_time",
]

RULES = ("compare",)
"""The inference rules, indexed by apply-rule's k."""
LINE_KINDS = ("axiom", "set", "state", "rule", "delete", "check")
"""What a proof-record line can be: one per instruction that touches proof or switchprog."""


# ----------------------------------------------------------------------------- judgements
@dataclass(frozen=True)
class Switchprog:
    """A self-rewrite: pull ``arm`` from now on (None: keep the policy), give the searcher
    ``share`` cycles per round (0: no more proof search)."""

    arm: int | None
    share: int


@dataclass(frozen=True)
class World:
    """The axiom: life T cycles, pull cost c, switch cost c_s, Bernoulli arm means p."""

    T: int
    c: int
    c_s: int
    p: tuple[Fraction, ...]


@dataclass(frozen=True)
class State:
    """state2theorem's theorem: at cycle t the segment ends at e; policy, share, switchprog."""

    t: int
    e: int
    policy: tuple[Fraction, ...]
    share: int
    switchprog: Switchprog | None


@dataclass(frozen=True)
class Target:
    """The target theorem: switching to ``switchprog`` at t1 is worth ``u_switch`` (exactly),
    continuing at most ``u_continue``, and ``u_switch > u_continue``."""

    t1: int
    switchprog: Switchprog
    u_switch: Fraction
    u_continue: Fraction


Judgement = World | State | Target


@dataclass(frozen=True)
class Line:
    """One step of a proof record.

    Attributes:
        kind: One of `LINE_KINDS`.
        ref: Axiom number (axiom), switchprog number (set), rule number (rule), the deleted
            line's index (delete); -1 otherwise.
        premises: Indices of earlier lines (rule lines only).
        claim: The theorem (axiom, state, rule), the switchprog (set), or None.
        time: The machine cycle at which the instruction ran.
    """

    kind: str
    ref: int
    premises: tuple[int, ...]
    claim: Judgement | Switchprog | None
    time: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the proof log (fractions as strings)."""
        return {
            "kind": self.kind,
            "ref": self.ref,
            "premises": list(self.premises),
            "claim": _jsonable(self.claim),
            "time": self.time,
        }


def _jsonable(x: Any) -> Any:
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "__dataclass_fields__"):
        return {"type": type(x).__name__} | {
            k: _jsonable(getattr(x, k)) for k in x.__dataclass_fields__
        }
    return x


# ----------------------------------------------------------------------------- hardware
def wall_time(s: int, *, c: int, k: int) -> int:
    """The cycle at which search step s (0-based) runs: rounds of c pull cycles then k search
    cycles, from cycle 0."""
    if k < 1 or s < 0:
        raise RnnaiError(f"wall_time needs a share k >= 1 and a step s >= 0, got k={k}, s={s}")
    return (s // k) * (c + k) + c + s % k


def segment_end(t: int, *, c: int, k: int) -> int:
    """The end of the round containing cycle t: where a switch decided at t takes effect."""
    return (t // (c + k) + 1) * (c + k)


def max_pulls(x: int, c: int) -> int:
    """n(x): the most pulls of c cycles that fit into x cycles."""
    return max(0, x // c)


def mean_reward(policy: Sequence[Fraction], p: Sequence[Fraction]) -> Fraction:
    """mu(pi) = sum_a pi_a p_a, the expected reward of one pull."""
    return sum((a * b for a, b in zip(policy, p, strict=True)), Fraction(0))


def axioms(world: World) -> tuple[World, ...]:
    """The axiom scheme (get-axiom(n) appends the n-th): here the one axiom ``world``."""
    return (world,)


def utility_terms(world: World, state: State) -> dict[str, Any] | None:
    """The quantities of `compare` (for the proof log), or None where the rule does not apply."""
    sigma = state.switchprog
    if sigma is None or sigma.share != 0 or state.share < 1:
        return None
    if sigma.arm is not None and not 0 <= sigma.arm < len(world.p):
        return None
    if len(state.policy) != len(world.p):
        return None
    new_policy = (
        state.policy
        if sigma.arm is None
        else tuple(Fraction(int(a == sigma.arm)) for a in range(len(world.p)))
    )
    d = world.T - state.e
    mu, mu_new, p_star = (
        mean_reward(state.policy, world.p),
        mean_reward(new_policy, world.p),
        max(world.p),
    )
    n_switch = max_pulls(d - world.c_s, world.c)
    n_after = max_pulls(d - world.c - state.share, world.c)
    first = Fraction(int(d >= world.c))
    return {
        "D": d,
        "mu": mu,
        "mu_new": mu_new,
        "p_star": p_star,
        "n_switch": n_switch,
        "n_after": n_after,
        "first_pull": first,
        "u_switch": mu_new * n_switch,  # u_1 = mu(pi') n(D - c_s)
        "u_continue": mu * first + p_star * n_after,
    }  # u_0 = mu(pi)[D >= c] + p* n(D - c - k)


def compare(world: World, state: State) -> Target | None:
    """The rule: Target(e, sigma, u_1, u_0) from World and State if u_1 > u_0 (module docstring).

    Returns:
        The target theorem, or None where the rule does not apply (no switchprog, a switchprog
        that keeps searching, a current software that does not search, or u_1 <= u_0).
    """
    terms = utility_terms(world, state)
    if terms is None or not terms["u_switch"] > terms["u_continue"]:
        return None
    assert state.switchprog is not None
    return Target(
        t1=state.e,
        switchprog=state.switchprog,
        u_switch=terms["u_switch"],
        u_continue=terms["u_continue"],
    )


# ----------------------------------------------------------------------------- the checker
def check_proof(
    record: Sequence[Line],
    *,
    world: World,
    policy: tuple[Fraction, ...],
    share: int,
    switchprogs: Sequence[Switchprog],
) -> Target:
    """Replay a proof record and return the target theorem its final check acts on.

    Args:
        record: The lines, in execution order; the last must be a check.
        world: The axiom (the checker's own copy, not the prover's).
        policy: The policy register during the proof.
        share: The searcher's share during the proof.
        switchprogs: The switchprogs set-switchprog(j) can write.

    Returns:
        The Target the check accepted.

    Raises:
        ProofRejected: At the first line that the axioms, the hardware, the rule or the check's
            conditions do not justify.
    """
    if not record or record[-1].kind != "check":
        raise ProofRejected("a proof record must end with check()")
    live: dict[int, Judgement] = {}
    register: Switchprog | None = None
    last_time = -1
    ax = axioms(world)
    for i, line in enumerate(record):
        where = f"line {i} ({line.kind})"
        if line.kind not in LINE_KINDS:
            raise ProofRejected(f"{where}: unknown kind")
        if line.time < last_time or line.time > world.T:
            raise ProofRejected(f"{where}: time {line.time} runs backwards or past T")
        last_time = line.time
        if line.kind != "rule" and line.premises:
            raise ProofRejected(f"{where}: only rule lines have premises")
        if line.kind == "axiom":
            if not 0 <= line.ref < len(ax) or line.claim != ax[line.ref]:
                raise ProofRejected(f"{where}: not axiom {line.ref}")
            live[i] = ax[line.ref]
        elif line.kind == "set":
            if not 0 <= line.ref < len(switchprogs) or line.claim != switchprogs[line.ref]:
                raise ProofRejected(f"{where}: not switchprog {line.ref}")
            register = switchprogs[line.ref]
        elif line.kind == "state":
            seen = State(
                t=line.time,
                e=segment_end(line.time, c=world.c, k=share),
                policy=policy,
                share=share,
                switchprog=register,
            )
            if line.time % (world.c + share) < world.c:
                raise ProofRejected(f"{where}: cycle {line.time} is not a search cycle")
            if line.claim != seen:
                raise ProofRejected(
                    f"{where}: the claim is not the machine's state at cycle {line.time}"
                )
            live[i] = seen
        elif line.kind == "rule":
            if line.ref != 0 or len(line.premises) != 2:
                raise ProofRejected(f"{where}: rule {line.ref} with {len(line.premises)} premises")
            if any(not 0 <= j < i or j not in live for j in line.premises):
                raise ProofRejected(
                    f"{where}: premises {line.premises} are not live earlier theorems"
                )
            w, s = (live[j] for j in line.premises)
            if not isinstance(w, World) or not isinstance(s, State):
                raise ProofRejected(f"{where}: compare needs (World, State) premises")
            derived = compare(w, s)
            if derived is None or derived != line.claim:
                raise ProofRejected(f"{where}: the claim is not what compare derives")
            live[i] = derived
        elif line.kind == "delete":
            if line.ref not in live or line.claim is not None:
                raise ProofRejected(f"{where}: line {line.ref} is not a live theorem")
            del live[line.ref]
        else:  # check
            if i != len(record) - 1:
                raise ProofRejected(f"{where}: check() ends a proof technique")
            if not live:
                raise ProofRejected(f"{where}: no theorem to check")
            last = live[max(live)]
            if not isinstance(last, Target):
                raise ProofRejected(f"{where}: the last theorem is not a target theorem")
            if last.switchprog != register:
                raise ProofRejected(f"{where}: the target theorem is about another switchprog")
            if line.time % (world.c + share) < world.c:
                raise ProofRejected(f"{where}: cycle {line.time} is not a search cycle")
            if last.t1 != segment_end(line.time, c=world.c, k=share):
                raise ProofRejected(
                    f"{where}: the target theorem is about t1 = {last.t1}, the "
                    f"switch would happen at "
                    f"{segment_end(line.time, c=world.c, k=share)}"
                )
            return last
    raise ProofRejected("unreachable")  # pragma: no cover
