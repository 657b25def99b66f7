"""A working Gödel machine: proof techniques searched bias-optimally, sharing time with the policy;
a self-rewrite only when the target theorem is proved, every proof replayed by a checker.

Papers: J. Schmidhuber, "Gödel machines: self-referential universal problem solvers making
provably optimal self-improvements", Technical Report IDSIA-19-03, arXiv:cs/0309048, 2003; and
"Ultimate cognition à la Gödel", Cognitive Computation 1(2):177-193, 2009.

The machine. Its software is data: the policy pi (a distribution over bandit arms, pulled once per
round), the proof searcher's share k (search cycles per round) and its strategy (the order of the
instructions offered to the search), and a switchprog register. The formal system, its axiom,
its rule and the checker are `rnnai.selfmod.godel_logic` (read its docstring for the axioms and
the utility). The proof searcher runs Levin search (`rnnai.search.levin.levin_search`, phases of
doubling total time, each program run for T P(p) steps; the papers' initial proof searcher is
also a bias-optimal search, whose details were not re-read) over proof techniques: programs of
the papers' six instructions

* ``get-axiom(n)``: append the n-th axiom to the proof;
* ``apply-rule(k)``: append what rule k derives from the most recent World and State theorems
  (nothing if it does not apply);
* ``delete-theorem``: delete the most recent theorem;
* ``set-switchprog(j)``: switchprog := the j-th rewrite of the configured list;
* ``check``: if the last theorem is a target theorem about the current switchprog and about the
  end of the current search segment, set the switchbit (the switch happens at that segment end);
  a proof technique ends at its check;
* ``state2theorem``: append State(t, e, pi, k, switchprog), read from the machine at this cycle.

Every instruction costs one cycle of the searcher's share, so the searcher's time, across all
Levin phases and programs, is charged against the life: while it searches the machine earns only
through the policy's pulls in its rounds. Proof techniques are enumerated depth first; a
technique's prefix runs once and is shared by its extensions (Levin search's prefix sharing), so
a state2theorem executed by a prefix reports the cycle at which the prefix ran: a technique whose
check comes in a later segment holds a stale target theorem and fails, as in the papers, where
check() must act on a theorem about the switch time that is still to come.

The switch. When a check succeeds, the machine replays the technique's proof record through
`rnnai.selfmod.godel_logic.check_proof` (which recomputes every line from the axiom, the hardware
and the rule); only if it is accepted does it set the switchbit; at the segment end t1 the
switchprog runs (c_s cycles) and rewrites policy and searcher. A rejected proof (what a buggy
prover produces, see the tests) changes nothing: the machine keeps its software for the rest
of its life (the search ends at the first successful check in this implementation).

Levin-search probabilities here: an instruction is chosen among the offered ones with uniform
probability, an argument among its values likewise (a range of one value costs no choice: with
one axiom and one rule, get-axiom and apply-rule take no argument token), so a shortest proof
technique, get-axiom set-switchprog(j) state2theorem apply-rule check, has probability
6^-5 / J with J switchprogs; `levin_search`'s systematic depth-first variant is used, its phases
rerun from scratch (all of it charged). Which proof is found first, and when, depends on the
searcher's strategy (the order of the offered instructions) and on the position j of the
provable switchprog: the search is deterministic, the environment only decides which j proves.

Deviations and choices where the papers are silent: one inference rule that evaluates both sides
of the target theorem (the papers' apply-rule chains many small logical rules; ours would make the
shortest proof too improbable for a bias-optimal search to find within a life simulated in
Python); apply-rule and delete-theorem take no theorem indices (the premises are the most recent
theorems of the kinds the rule needs; delete removes the most recent theorem); set-switchprog picks
from a list of rewrites instead of a substring of the machine's storage; state2theorem reads the
whole relevant state at once; check ends a technique; the switchbit is honoured at segment ends
only (a hardware choice that makes "switch now" comparable with "switch later"). The environment
is a Bernoulli bandit whose means the axiom states exactly (hand-designed, see
`rnnai.selfmod.godel_logic`). The proof checker is an audit the machine runs on every proof before
acting on it; its time is not charged (in the papers the instructions alone guarantee
correctness, so no separate check is needed).

Examples:
    >>> from fractions import Fraction as F
    >>> cfg = GodelConfig(T=200_000, c=50, c_s=1, share=50)
    >>> run = run_godel_machine(cfg, means=(F(1, 5), F(7, 10), F(2, 5)), policy=(F(1, 3),) * 3,
    ...                         switchprogs=arm_switchprogs(3))
    >>> run.switched, run.target.switchprog, run.search_steps < 100_000
    (True, Switchprog(arm=1, share=0), True)
    >>> run.expected_switch > run.expected_no_switch
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.search._levin_kernels import ILL_PROGRAM_FULL
from rnnai.search.levin import (
    BUDGET,
    NEED,
    STOP,
    Instruction,
    Language,
    LevinConfig,
    LevinTask,
    levin_search,
)
from rnnai.selfmod.godel_logic import (
    RULES,
    Judgement,
    Line,
    ProofRejected,
    State,
    Switchprog,
    Target,
    World,
    axioms,
    check_proof,
    compare,
    max_pulls,
    mean_reward,
    segment_end,
    wall_time,
)

__all__ = [
    "INSTRUCTIONS",
    "PAPER_ORDER",
    "GodelConfig",
    "GodelRun",
    "ProofTask",
    "ProofTechniqueLanguage",
    "Software",
    "arm_switchprogs",
    "expected_rewards",
    "pull_counts",
    "rewrite",
    "run_godel_machine",
    "sample_rewards",
    "searcher_switchprogs",
]

INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction("get-axiom", 1, "append axiom n to the proof"),
    Instruction("apply-rule", 1, "append what rule k derives from the latest World and State"),
    Instruction("delete-theorem", 0, "delete the most recent theorem"),
    Instruction("set-switchprog", 1, "switchprog := the j-th rewrite"),
    Instruction("check", 0, "switch at this segment's end if the last theorem is a target"),
    Instruction("state2theorem", 0, "append the machine's State at this cycle"),
)
"""The papers' six proof-technique instructions (the only ones)."""
PAPER_ORDER: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
"""The searcher's default strategy: all six offered, tried in the papers' order of listing."""

Rule = Callable[[World, State], Target | None]


def arm_switchprogs(n_arms: int) -> tuple[Switchprog, ...]:
    """Rewrites "pull arm a from now on, stop searching", one per arm."""
    return tuple(Switchprog(arm=a, share=0) for a in range(n_arms))


def searcher_switchprogs(share: int) -> tuple[Switchprog, ...]:
    """Rewrites of the proof searcher alone: stop it (share 0), or halve its share."""
    return (Switchprog(arm=None, share=0), Switchprog(arm=None, share=share // 2))


@dataclass(frozen=True, kw_only=True)
class GodelConfig:
    """The machine's hardware and searcher settings.

    Attributes:
        T: Life in cycles.
        c: Cycles of one pull.
        c_s: Cycles of running the switchprog.
        share: The searcher's initial share k: search cycles per round (>= 1).
        max_phase: Last Levin phase (total search time 2**max_phase steps per phase); the
            search stops executing instructions when the life ends.
        max_tokens: Longest proof technique (tokens: instructions and arguments).
        strategy: The instructions offered to the search, in the order tried.
    """

    T: int
    c: int
    c_s: int
    share: int
    max_phase: int = 24
    max_tokens: int = 12
    strategy: tuple[int, ...] = PAPER_ORDER

    def __post_init__(self) -> None:
        if min(self.T, self.c, self.share, self.max_tokens) < 1 or self.c_s < 0:
            raise RnnaiError(
                f"GodelConfig needs T, c, share, max_tokens >= 1 and c_s >= 0, got "
                f"{self.T}, {self.c}, {self.share}, {self.max_tokens}, {self.c_s}"
            )
        if (
            not self.strategy
            or sorted(set(self.strategy)) != sorted(self.strategy)
            or any(not 0 <= i < len(INSTRUCTIONS) for i in self.strategy)
        ):
            raise RnnaiError(
                f"strategy must list distinct instruction numbers 0..5, got {self.strategy}"
            )


@dataclass(frozen=True)
class Software:
    """The machine's software as data: what state2theorem reads and a switchprog rewrites.

    Attributes:
        policy: Probability of pulling each arm in a round.
        share: The proof searcher's cycles per round (0: no searcher).
        strategy: The instructions the searcher offers, in the order tried (empty: none).
    """

    policy: tuple[Fraction, ...]
    share: int
    strategy: tuple[int, ...]


def rewrite(software: Software, sigma: Switchprog) -> Software:
    """What running switchprog sigma makes of the software: pull ``sigma.arm`` from now on (if
    given), give the searcher ``sigma.share`` cycles per round; a searcher with no cycles offers
    no instruction any more.

    Raises:
        RnnaiError: If the arm does not exist.
    """
    n = len(software.policy)
    if sigma.arm is not None and not 0 <= sigma.arm < n:
        raise RnnaiError(f"switchprog arm must be in 0..{n - 1}, got {sigma.arm}")
    policy = (
        software.policy
        if sigma.arm is None
        else tuple(Fraction(int(a == sigma.arm)) for a in range(n))
    )
    return Software(
        policy=policy, share=sigma.share, strategy=software.strategy if sigma.share > 0 else ()
    )


# ----------------------------------------------------------------------------- the searcher
@dataclass
class _Tech:
    """One proof technique under test: its tokens, position, proof record and registers."""

    program: list[int] = field(default_factory=list)
    ip: int = 0
    steps: int = 0
    record: list[Line] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    register: Switchprog | None = None
    out: tuple[int, ...] = ()


class ProofTask(LevinTask):
    """A technique solves the task when its check sets the switchbit (output (1,))."""

    name = "target_theorem"
    n_out = 1

    def accepts(self, status: int, output: Sequence[int]) -> bool:
        """Halted by check with the switchbit set."""
        return status == STOP and tuple(output) == (1,)


class ProofTechniqueLanguage(Language):
    """The proof-technique language as a Levin-search `Language` on the machine's clock.

    The language counts every executed instruction on one clock shared by all techniques (the
    searcher's steps); search step s runs at machine cycle `wall_time` (s). The first technique
    whose check succeeds is kept in ``found`` (record, search step of its check).

    Args:
        world: The axiom.
        policy: The policy register while the searcher runs.
        config: Hardware and strategy.
        switchprogs: The rewrites set-switchprog may write.
        rule: The rule apply-rule(0) runs (the tests pass a buggy one; default `compare`).
    """

    name = "godel_proof_techniques"
    instructions = INSTRUCTIONS

    def __init__(
        self,
        world: World,
        policy: tuple[Fraction, ...],
        config: GodelConfig,
        switchprogs: Sequence[Switchprog],
        rule: Rule = compare,
    ) -> None:
        self.world, self.policy, self.cfg = world, policy, config
        self.switchprogs = tuple(switchprogs)
        self.rule = rule
        self.clock = 0
        self.found: tuple[list[Line], int] | None = None
        self.arg_range = {0: len(axioms(world)), 1: len(RULES), 3: len(self.switchprogs)}

    def _now(self) -> int:
        return wall_time(self.clock, c=self.cfg.c, k=self.cfg.share)

    def reset(self, task: LevinTask) -> _Tech:
        """An empty technique: empty proof, empty switchprog register."""
        return _Tech()

    def _arity(self, op: int) -> int:
        return 1 if self.arg_range.get(op, 1) > 1 else 0

    def run(self, state: _Tech, limit: int) -> int:
        """Execute instructions until check, an oracle request or ``limit`` steps."""
        while True:
            if state.steps >= limit or self._now() > self.cfg.T:
                return BUDGET  # out of its budget, or the life is over
            if state.ip >= len(state.program):
                if len(state.program) >= self.cfg.max_tokens:
                    state.steps += 1
                    return ILL_PROGRAM_FULL
                return NEED
            op = self.cfg.strategy[state.program[state.ip]]
            if self._arity(op) and state.ip + 1 >= len(state.program):
                if len(state.program) >= self.cfg.max_tokens:
                    state.steps += 1
                    return ILL_PROGRAM_FULL
                return NEED
            arg = state.program[state.ip + 1] if self._arity(op) else 0
            state.ip += 1 + self._arity(op)
            state.steps += 1
            t = self._now()
            self.clock += 1
            if self._execute(state, op, arg, t):
                return STOP

    def _execute(self, s: _Tech, op: int, arg: int, t: int) -> bool:
        """Run one instruction at cycle t; True when the technique halts (check)."""
        w, cfg = self.world, self.cfg
        if op == 0:  # get-axiom(n)
            s.record.append(Line("axiom", arg, (), axioms(w)[arg], t))
            s.live.append(len(s.record) - 1)
        elif op == 1:  # apply-rule(k): premises are the latest World and State
            iw = next((i for i in reversed(s.live) if isinstance(s.record[i].claim, World)), None)
            i_s = next((i for i in reversed(s.live) if isinstance(s.record[i].claim, State)), None)
            if iw is not None and i_s is not None:
                wj, sj = s.record[iw].claim, s.record[i_s].claim
                assert isinstance(wj, World) and isinstance(sj, State)
                got = self.rule(wj, sj)
                if got is not None:
                    s.record.append(Line("rule", arg, (iw, i_s), got, t))
                    s.live.append(len(s.record) - 1)
        elif op == 2:  # delete-theorem
            if s.live:
                s.record.append(Line("delete", s.live.pop(), (), None, t))
        elif op == 3:  # set-switchprog(j)
            s.register = self.switchprogs[arg]
            s.record.append(Line("set", arg, (), s.register, t))
        elif op == 5:  # state2theorem
            st = State(
                t=t,
                e=segment_end(t, c=cfg.c, k=cfg.share),
                policy=self.policy,
                share=cfg.share,
                switchprog=s.register,
            )
            s.record.append(Line("state", -1, (), st, t))
            s.live.append(len(s.record) - 1)
        else:  # check
            s.record.append(Line("check", -1, (), None, t))
            last: Judgement | Switchprog | None = s.record[s.live[-1]].claim if s.live else None
            ok = (
                isinstance(last, Target)
                and last.switchprog == s.register
                and last.t1 == segment_end(t, c=cfg.c, k=cfg.share)
            )
            s.out = (1,) if ok else (0,)
            if ok and self.found is None:
                self.found = (list(s.record), self.clock)
            return True
        return False

    def need(self, state: _Tech) -> tuple[int, int]:
        """An instruction (one of the offered) or the pending instruction's argument."""
        if state.ip >= len(state.program):
            return 0, len(self.cfg.strategy)
        return 0, self.arg_range[self.cfg.strategy[state.program[state.ip]]]

    def append(self, state: _Tech, value: int) -> None:
        """Write the requested token."""
        state.program.append(int(value))

    def clone(self, state: _Tech) -> _Tech:
        """Copy (lines are immutable, so shallow copies of the lists suffice)."""
        return _Tech(
            program=list(state.program),
            ip=state.ip,
            steps=state.steps,
            record=list(state.record),
            live=list(state.live),
            register=state.register,
            out=state.out,
        )

    def steps(self, state: _Tech) -> int:
        """Steps the technique has executed."""
        return state.steps

    def program(self, state: _Tech) -> tuple[int, ...]:
        """Its tokens."""
        return tuple(state.program)

    def output(self, state: _Tech) -> tuple[int, ...]:
        """(1,) after a successful check, (0,) after a failed one, else ()."""
        return state.out

    def describe(self, program: Sequence[int]) -> str:
        """Readable listing, e.g. ``set-switchprog(1) state2theorem get-axiom apply-rule check``."""
        out, i = [], 0
        while i < len(program):
            op = self.cfg.strategy[program[i]]
            if self._arity(op) and i + 1 < len(program):
                out.append(f"{INSTRUCTIONS[op].name}({program[i + 1]})")
                i += 2
            else:
                out.append(INSTRUCTIONS[op].name)
                i += 1
        return " ".join(out)


# ----------------------------------------------------------------------------- the life
def pull_counts(cfg: GodelConfig, switch_time: int | None, new_share: int = 0) -> tuple[int, int]:
    """Pulls with the initial policy and with the rewritten one over the life.

    Args:
        cfg: The hardware.
        switch_time: The segment end t1 at which the switchprog runs, or None (no switch).
        new_share: The rewritten software's share (0: pulls back to back).

    Returns:
        (pulls before the switch, pulls after it); without a switch every pull is the first kind.
    """
    r = cfg.c + cfg.share
    if switch_time is None:
        return (max(0, (cfg.T - cfg.c) // r + 1) if cfg.T >= cfg.c else 0), 0
    before = switch_time // r  # rounds 0 .. t1/r - 1 each made its pull before t1
    rest = cfg.T - switch_time - cfg.c_s
    after = (
        max_pulls(rest, cfg.c)
        if new_share == 0
        else (max(0, (rest - cfg.c) // (cfg.c + new_share) + 1) if rest >= cfg.c else 0)
    )
    return before, after


def expected_rewards(
    means: Sequence[Fraction],
    policy: Sequence[Fraction],
    new_policy: Sequence[Fraction],
    counts: tuple[int, int],
) -> Fraction:
    """Exact expected reward of a life with these pull counts: mu(pi) n_0 + mu(pi') n_1."""
    return mean_reward(policy, means) * counts[0] + mean_reward(new_policy, means) * counts[1]


def sample_rewards(
    means: Sequence[Fraction],
    policy: Sequence[Fraction],
    new_policy: Sequence[Fraction],
    counts: tuple[int, int],
    rng: np.random.Generator,
) -> int:
    """One stochastic life's total reward: arms drawn by the policies (multinomial counts),
    Bernoulli payoffs summed per arm (binomial draws), vectorized over arms."""
    p = np.asarray([float(v) for v in means])
    total = 0
    for pol, n in ((policy, counts[0]), (new_policy, counts[1])):
        if n:
            arms = rng.multinomial(n, np.asarray([float(v) for v in pol]))
            total += int(rng.binomial(arms, p).sum())
    return total


@dataclass(frozen=True, kw_only=True)
class GodelRun:
    """One life of the machine (the search and switch are deterministic; rewards are sampled by
    the caller with `sample_rewards`).

    Attributes:
        switched: Whether a checked target theorem led to a switch.
        target: The target theorem acted on (None without a switch).
        technique: The successful proof technique, as text ("" if none).
        record: Its proof record (every step, as executed).
        search_steps: Searcher steps up to and including the successful check (all of them if
            none succeeded).
        check_time: Machine cycle of the successful check (None if none).
        switch_time: t1, the cycle at which the switchprog ran (None if none).
        counts: Pulls before / after the switch (`pull_counts`).
        counts_no_switch: Pulls of the same machine with switching disabled.
        new_policy: The policy after the switch (the initial one without a switch).
        software: The software at the end of the life (rewritten by the switchprog, if any).
        expected_switch: Exact expected reward of this life.
        expected_no_switch: Exact expected reward with switching disabled.
        expected_continue_after_t1: Exact expected reward from t1 on without switching (what the
            target theorem's u_0 bounds), None without a switch.
        rejected: The checker's message if a proof was found but rejected, else "".
        phases: Levin phases run.
        programs: Proof techniques tested.
    """

    switched: bool
    target: Target | None
    technique: str
    record: list[Line]
    search_steps: int
    check_time: int | None
    switch_time: int | None
    counts: tuple[int, int]
    counts_no_switch: tuple[int, int]
    new_policy: tuple[Fraction, ...]
    software: Software
    expected_switch: Fraction
    expected_no_switch: Fraction
    expected_continue_after_t1: Fraction | None
    rejected: str
    phases: int
    programs: int

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (fractions as floats and strings)."""
        tgt = self.target
        return {
            "switched": self.switched,
            "technique": self.technique,
            "search_steps": self.search_steps,
            "check_time": self.check_time,
            "switch_time": self.switch_time,
            "counts": list(self.counts),
            "counts_no_switch": list(self.counts_no_switch),
            "switchprog": None
            if tgt is None
            else {"arm": tgt.switchprog.arm, "share": tgt.switchprog.share},
            "u_switch": None if tgt is None else str(tgt.u_switch),
            "u_continue_bound": None if tgt is None else str(tgt.u_continue),
            "expected_continue_after_t1": None
            if self.expected_continue_after_t1 is None
            else str(self.expected_continue_after_t1),
            "expected_switch": float(self.expected_switch),
            "expected_no_switch": float(self.expected_no_switch),
            "software_after": {
                "policy": [str(v) for v in self.software.policy],
                "share": self.software.share,
                "strategy": [INSTRUCTIONS[i].name for i in self.software.strategy],
            },
            "rejected": self.rejected,
            "phases": self.phases,
            "programs": self.programs,
        }


def run_godel_machine(
    config: GodelConfig,
    *,
    means: Sequence[Fraction],
    policy: Sequence[Fraction],
    switchprogs: Sequence[Switchprog],
    rule: Rule = compare,
) -> GodelRun:
    """Live one life: search proofs (Levin search over proof techniques, on the searcher's share
    of the clock), replay the first successful one through the checker, switch, and account for
    the pulls of the life with and without the switch.

    Args:
        config: Hardware, share, search limits, strategy.
        means: The arm means (exact), stated to the machine by its axiom.
        policy: The initial policy (a distribution over arms, exact).
        switchprogs: The rewrites set-switchprog can write.
        rule: The prover's rule (default `compare`; the checker always uses `compare`).

    Returns:
        The life, with exact expected rewards.

    Raises:
        RnnaiError: If the policy is not a distribution over the arms, a mean is not a
            probability, or there is no switchprog.
    """
    means_t = tuple(Fraction(m) for m in means)
    pol = tuple(Fraction(v) for v in policy)
    if len(pol) != len(means_t) or sum(pol) != 1 or min(pol) < 0:
        raise RnnaiError(
            f"policy must be a distribution over {len(means_t)} arms, got {[str(v) for v in pol]}"
        )
    if not means_t or not all(0 <= m <= 1 for m in means_t):
        raise RnnaiError(f"means must be probabilities, got {[str(v) for v in means_t]}")
    if not switchprogs:
        raise RnnaiError("the machine needs at least one switchprog to set, got none")
    world = World(T=config.T, c=config.c, c_s=config.c_s, p=means_t)
    before = Software(policy=pol, share=config.share, strategy=config.strategy)
    lang = ProofTechniqueLanguage(world, pol, config, switchprogs, rule)
    res = levin_search(
        lang,
        ProofTask(),
        LevinConfig(max_phase=config.max_phase, chunk_programs=10**15, use_kernel=False),
    )
    no_switch = pull_counts(config, None)
    e_no = expected_rewards(means_t, pol, pol, no_switch)
    target: Target | None = None
    rejected, technique = "", ""
    record: list[Line] = []
    check_time = switch_time = None
    steps = lang.clock
    if lang.found is not None:
        record, steps = lang.found
        check_time = record[-1].time
        assert res.first is not None
        technique = lang.describe(res.first.program)
        try:
            target = check_proof(
                record, world=world, policy=pol, share=config.share, switchprogs=lang.switchprogs
            )
        except ProofRejected as err:
            rejected = str(err)
        if target is not None and target.t1 > config.T:
            target = None  # the life ended before the switch could happen
    if target is None:
        return GodelRun(
            switched=False,
            target=None,
            technique=technique,
            record=record,
            search_steps=steps,
            check_time=check_time,
            switch_time=None,
            counts=no_switch,
            counts_no_switch=no_switch,
            new_policy=pol,
            software=before,
            expected_switch=e_no,
            expected_no_switch=e_no,
            expected_continue_after_t1=None,
            rejected=rejected,
            phases=len(res.phases),
            programs=res.programs,
        )
    sigma = target.switchprog
    after = rewrite(before, sigma)  # the self-rewrite
    new_pol = after.policy
    switch_time = target.t1
    counts = pull_counts(config, switch_time, sigma.share)
    cont_after = expected_rewards(means_t, pol, pol, (no_switch[0] - counts[0], 0))
    return GodelRun(
        switched=True,
        target=target,
        technique=technique,
        record=record,
        search_steps=steps,
        check_time=check_time,
        switch_time=switch_time,
        counts=counts,
        counts_no_switch=no_switch,
        new_policy=new_pol,
        software=after,
        expected_switch=expected_rewards(means_t, pol, new_pol, counts),
        expected_no_switch=e_no,
        expected_continue_after_t1=cont_after,
        rejected="",
        phases=len(res.phases),
        programs=res.programs,
    )
