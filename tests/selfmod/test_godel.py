"""Tests of the Gödel machine: hardware arithmetic, the rule against a cycle-by-cycle simulation,
the checker against mutated proofs and a buggy prover, and the machine on known answers."""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction as F

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.search.levin import STOP
from rnnai.selfmod.godel import (
    INSTRUCTIONS,
    PAPER_ORDER,
    GodelConfig,
    ProofTask,
    ProofTechniqueLanguage,
    Software,
    arm_switchprogs,
    expected_rewards,
    pull_counts,
    rewrite,
    run_godel_machine,
    sample_rewards,
    searcher_switchprogs,
)
from rnnai.selfmod.godel_logic import (
    Line,
    ProofRejected,
    State,
    Switchprog,
    Target,
    World,
    check_proof,
    compare,
    max_pulls,
    mean_reward,
    segment_end,
    utility_terms,
    wall_time,
)

MEANS = (F(1, 5), F(7, 10), F(2, 5))
UNIFORM = (F(1, 3),) * 3
CFG = GodelConfig(T=200_000, c=50, c_s=1, share=50)


def _pull_end_times(T: int, c: int, k: int, start: int = 0) -> list[int]:
    """Cycle-by-cycle: the cycles at which the pulls of a software with share k end."""
    ends, t = [], start
    while t + c <= T:
        ends.append(t + c)
        t += c + k
    return ends


# ----------------------------------------------------------------------------- hardware
def test_wall_time_walks_the_search_cycles_of_the_rounds_in_order() -> None:
    c, k = 3, 2  # rounds: pull 0-2, search 3-4, pull 5-7, search 8-9, ...
    assert [wall_time(s, c=c, k=k) for s in range(6)] == [3, 4, 8, 9, 13, 14]
    assert [segment_end(t, c=c, k=k) for t in (3, 4, 8, 9)] == [5, 5, 10, 10]
    with pytest.raises(RnnaiError, match="share k >= 1"):
        wall_time(0, c=3, k=0)


def test_pull_counts_match_a_cycle_by_cycle_simulation() -> None:
    for T, c, k, c_s in itertools.product((37, 100, 101, 250), (3, 5), (1, 4), (0, 2)):
        cfg = GodelConfig(T=T, c=c, c_s=c_s, share=k)
        assert pull_counts(cfg, None) == (len(_pull_end_times(T, c, k)), 0)
        for t1 in range(c + k, T + 1, c + k):
            before = sum(e <= t1 for e in _pull_end_times(T, c, k))
            after = len(_pull_end_times(T, c, 0, start=t1 + c_s))
            assert pull_counts(cfg, t1) == (before, after)


# ----------------------------------------------------------------------------- the rule
def test_compare_equals_a_direct_transcription_of_both_utilities() -> None:
    w = World(T=1000, c=7, c_s=2, p=MEANS)
    s = State(t=20, e=21, policy=UNIFORM, share=14, switchprog=Switchprog(arm=1, share=0))
    d = 1000 - 21
    u1 = F(7, 10) * ((d - 2) // 7)
    u0 = mean_reward(UNIFORM, MEANS) + F(7, 10) * ((d - 7 - 14) // 7)
    got = compare(w, s)
    assert got == Target(t1=21, switchprog=s.switchprog, u_switch=u1, u_continue=u0)


def test_the_rule_is_sound_u1_exact_and_u0_an_upper_bound_on_continuing() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        c, k, c_s = (int(v) for v in rng.integers(1, 9, size=3))
        T = int(rng.integers(c + k, 400))
        r = c + k
        e = r * int(rng.integers(1, T // r + 1))
        p = tuple(F(int(v), 10) for v in rng.integers(0, 11, size=3))
        pol = (F(1, 2), F(1, 4), F(1, 4))
        w = World(T=T, c=c, c_s=c_s, p=p)
        best = max(range(3), key=lambda a: p[a])
        s = State(t=e - 1, e=e, policy=pol, share=k, switchprog=Switchprog(arm=best, share=0))
        terms = utility_terms(w, s)
        assert terms is not None
        # exact: the switched software's pulls, cycle by cycle
        assert terms["u_switch"] == p[best] * len(_pull_end_times(T, c, 0, start=e + c_s))
        # any continuation: no switch at all, or a switch at any later segment end to the best arm
        mu = mean_reward(pol, p)
        no_switch = mu * len(_pull_end_times(T, c, k, start=e))
        later = [
            mu * sum(x <= t2 for x in _pull_end_times(T, c, k, start=e))
            + p[best] * len(_pull_end_times(T, c, 0, start=t2 + c_s))
            for t2 in range(e + r, T + 1, r)
        ]
        assert terms["u_continue"] >= max([no_switch, *later])


def test_compare_refuses_searching_rewrites_and_suboptimal_arms_with_life_left() -> None:
    w = World(T=100_000, c=50, c_s=1, p=MEANS)
    state = State(t=70, e=100, policy=UNIFORM, share=50, switchprog=None)
    assert compare(w, state) is None  # no switchprog
    for sp in (Switchprog(arm=1, share=25), Switchprog(arm=2, share=0)):
        assert compare(w, dataclasses.replace(state, switchprog=sp)) is None
    assert compare(w, dataclasses.replace(state, switchprog=Switchprog(arm=1, share=0)))
    # stopping a search of share k = c gains at most the one pull it delays: a tie here
    optimal = dataclasses.replace(state, policy=(F(0), F(1), F(0)))
    assert compare(w, dataclasses.replace(optimal, switchprog=Switchprog(None, 0))) is None
    optimal = dataclasses.replace(optimal, share=150, e=200)
    assert compare(w, dataclasses.replace(optimal, switchprog=Switchprog(None, 0))) is not None
    assert compare(w, dataclasses.replace(optimal, switchprog=Switchprog(None, 25))) is None


def test_halving_the_searcher_could_not_beat_the_continuation_bound_even_if_evaluated() -> None:
    T, e = 200_000, 200
    w = World(T=T, c=50, c_s=1, p=MEANS)
    best = (F(0), F(1), F(0))
    st = State(t=199, e=e, policy=best, share=150, switchprog=Switchprog(None, 0))
    terms = utility_terms(w, st)
    assert terms is not None and terms["u_switch"] > terms["u_continue"]  # stopping is provable
    # the halved searcher's life if it never switched again (its best case short of stopping)
    halved = F(7, 10) * len(_pull_end_times(T, 50, 75, start=e + 1))
    continuing = F(7, 10) * len(_pull_end_times(T, 50, 150, start=e))
    assert continuing < halved < terms["u_continue"]  # better in fact, never provably so


def test_near_the_end_of_life_no_switch_is_provable() -> None:
    w = World(T=1000, c=50, c_s=1, p=MEANS)
    st = State(t=960, e=1000, policy=UNIFORM, share=50, switchprog=Switchprog(arm=1, share=0))
    assert compare(w, st) is None  # nothing left to earn: u_1 = 0 is not > u_0 = 0


# ----------------------------------------------------------------------------- the machine
@pytest.fixture(scope="module")
def machine_run():  # type: ignore[no-untyped-def]
    return run_godel_machine(CFG, means=MEANS, policy=UNIFORM, switchprogs=arm_switchprogs(3))


def test_the_machine_proves_the_switch_to_the_best_arm_and_earns_more(machine_run) -> None:  # type: ignore[no-untyped-def]
    run = machine_run
    assert run.switched and run.target is not None and run.rejected == ""
    assert run.target.switchprog == Switchprog(arm=1, share=0)
    assert run.technique.split()[-1] == "check" and "set-switchprog(1)" in run.technique
    assert run.switch_time == segment_end(run.check_time, c=50, k=50)
    assert run.expected_switch > run.expected_no_switch
    assert run.target.u_continue >= run.expected_continue_after_t1
    # the searcher's steps, not the pulls, decide when the switch happens
    assert run.check_time == wall_time(run.search_steps - 1, c=50, k=50)
    kinds = [line.kind for line in run.record]
    assert kinds[-1] == "check" and "state" in kinds and "rule" in kinds


def test_the_switchprog_rewrites_the_software_data() -> None:
    sw = Software(policy=UNIFORM, share=50, strategy=PAPER_ORDER)
    assert rewrite(sw, Switchprog(arm=1, share=0)) == Software(
        policy=(F(0), F(1), F(0)), share=0, strategy=()
    )
    assert rewrite(sw, Switchprog(arm=None, share=25)) == Software(
        policy=UNIFORM, share=25, strategy=PAPER_ORDER
    )
    with pytest.raises(RnnaiError, match="arm"):
        rewrite(sw, Switchprog(arm=3, share=0))


def test_the_machine_ends_its_life_with_the_rewritten_software(machine_run) -> None:  # type: ignore[no-untyped-def]
    assert machine_run.software == Software(policy=(F(0), F(1), F(0)), share=0, strategy=())


def test_the_search_is_deterministic(machine_run) -> None:  # type: ignore[no-untyped-def]
    again = run_godel_machine(CFG, means=MEANS, policy=UNIFORM, switchprogs=arm_switchprogs(3))
    assert again.record == machine_run.record and again.search_steps == machine_run.search_steps


def test_a_searcher_rewrite_is_proved_only_when_it_stops_the_search() -> None:
    cfg = GodelConfig(T=200_000, c=50, c_s=1, share=150)
    best = (F(0), F(1), F(0))
    run = run_godel_machine(cfg, means=MEANS, policy=best, switchprogs=searcher_switchprogs(150))
    assert run.switched and run.target is not None
    assert run.target.switchprog == Switchprog(arm=None, share=0)
    assert run.new_policy == best and run.expected_switch > run.expected_no_switch
    small = GodelConfig(T=20_000, c=50, c_s=1, share=150, max_phase=14)
    halve = (Switchprog(arm=None, share=75),)
    assert not run_godel_machine(small, means=MEANS, policy=best, switchprogs=halve).switched


def test_no_switch_when_the_initial_policy_is_already_optimal_and_keeps_nothing_to_gain() -> None:
    small = GodelConfig(T=20_000, c=50, c_s=1, share=50, max_phase=14)
    best = (F(0), F(1), F(0))
    run = run_godel_machine(small, means=MEANS, policy=best, switchprogs=arm_switchprogs(3))
    assert not run.switched and run.expected_switch == run.expected_no_switch


def test_a_life_too_short_for_the_proof_ends_without_a_switch() -> None:
    short = GodelConfig(T=3_000, c=50, c_s=1, share=50)
    run = run_godel_machine(short, means=MEANS, policy=UNIFORM, switchprogs=arm_switchprogs(3))
    assert not run.switched and run.counts == run.counts_no_switch


# ----------------------------------------------------------------------------- the checker
def _check(record: list[Line]) -> Target:
    w = World(T=CFG.T, c=CFG.c, c_s=CFG.c_s, p=MEANS)
    return check_proof(
        record, world=w, policy=UNIFORM, share=CFG.share, switchprogs=arm_switchprogs(3)
    )


def _mutations(rec: list[Line]) -> dict[str, list[Line]]:
    i_state = next(i for i, x in enumerate(rec) if x.kind == "state")
    i_rule = next(i for i, x in enumerate(rec) if x.kind == "rule")
    i_set = next(i for i, x in enumerate(rec) if x.kind == "set")
    i_ax = next(i for i, x in enumerate(rec) if x.kind == "axiom")
    st, tg = rec[i_state].claim, rec[i_rule].claim
    assert isinstance(st, State) and isinstance(tg, Target)

    def put(i: int, line: Line) -> list[Line]:
        out = list(rec)
        out[i] = line
        return out

    r = dataclasses.replace
    return {
        "u_switch inflated": put(i_rule, r(rec[i_rule], claim=r(tg, u_switch=tg.u_switch + 1))),
        "u_continue lowered": put(i_rule, r(rec[i_rule], claim=r(tg, u_continue=F(0)))),
        "target about a later t1": put(i_rule, r(rec[i_rule], claim=r(tg, t1=tg.t1 + 100))),
        "target about another arm": put(
            i_rule, r(rec[i_rule], claim=r(tg, switchprog=Switchprog(arm=0, share=0)))
        ),
        "state with a wrong time": put(i_state, r(rec[i_state], claim=r(st, t=st.t - 1))),
        "state with another policy": put(
            i_state, r(rec[i_state], claim=r(st, policy=(F(0), F(1), F(0))))
        ),
        "state with a larger share": put(i_state, r(rec[i_state], claim=r(st, share=500))),
        "state in a pull cycle": put(
            i_state, r(rec[i_state], time=st.e, claim=r(st, t=st.e, e=st.e + 100))
        ),
        "wrong axiom": put(
            i_ax, r(rec[i_ax], claim=World(T=CFG.T, c=CFG.c, c_s=CFG.c_s, p=(F(1), F(1), F(1))))
        ),
        "axiom number out of range": put(i_ax, r(rec[i_ax], ref=3)),
        "set a switchprog not in the list": put(
            i_set, r(rec[i_set], claim=Switchprog(arm=1, share=7))
        ),
        "premise is a later line": put(i_rule, r(rec[i_rule], premises=(i_ax, i_rule + 1))),
        "premises in the wrong order": put(i_rule, r(rec[i_rule], premises=(i_state, i_ax))),
        "rule line deleted": rec[:-1] + [Line("delete", i_rule, (), None, rec[-1].time), rec[-1]],
        "state line removed": [x for k, x in enumerate(rec) if k != i_state],
        "set line removed": [x for k, x in enumerate(rec) if k != i_set],
        "check after the segment ended": put(len(rec) - 1, r(rec[-1], time=tg.t1 + CFG.c)),
        "check removed": rec[:-1],
        "time runs backwards": put(i_rule, r(rec[i_rule], time=-1)),
        "unknown rule": put(i_rule, r(rec[i_rule], ref=1)),
        "empty": [],
    }


def test_the_checker_accepts_the_machines_proof(machine_run) -> None:  # type: ignore[no-untyped-def]
    assert _check(machine_run.record) == machine_run.target


def test_the_checker_rejects_every_mutated_proof(machine_run) -> None:  # type: ignore[no-untyped-def]
    muts = _mutations(machine_run.record)
    assert len(muts) >= 20
    for name, rec in muts.items():
        with pytest.raises(ProofRejected):
            _check(rec)
            pytest.fail(f"accepted a proof with: {name}")


def test_the_checker_rejects_random_single_field_corruptions(machine_run) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    rec = machine_run.record
    for _ in range(40):
        i = int(rng.integers(len(rec)))
        line = rec[i]
        bad = dataclasses.replace(line, time=line.time + int(rng.integers(1, 5)) * 10_000)
        with pytest.raises(ProofRejected):
            _check(rec[:i] + [bad] + rec[i + 1 :])


def _buggy_rule(w: World, s: State) -> Target | None:
    """A prover bug: values every switchprog as if it pulled the best arm."""
    terms = utility_terms(w, s)
    if terms is None or s.switchprog is None:
        return None
    u1 = terms["p_star"] * terms["n_switch"]
    if u1 > terms["u_continue"]:
        return Target(t1=s.e, switchprog=s.switchprog, u_switch=u1, u_continue=terms["u_continue"])
    return None


def test_a_buggy_prover_finds_a_false_proof_that_the_checker_rejects() -> None:
    run = run_godel_machine(
        CFG, means=MEANS, policy=UNIFORM, switchprogs=arm_switchprogs(3), rule=_buggy_rule
    )
    assert "set-switchprog(0)" in run.technique  # the bug "proved" the switch to a worse arm
    assert not run.switched and "compare derives" in run.rejected
    assert run.expected_switch == run.expected_no_switch


# ----------------------------------------------------------------------------- the rest
def test_rewards_sample_their_exact_expectation() -> None:
    rng = np.random.default_rng(1)
    counts = (30_000, 50_000)
    draws = [sample_rewards(MEANS, UNIFORM, (F(0), F(1), F(0)), counts, rng) for _ in range(20)]
    exact = float(expected_rewards(MEANS, UNIFORM, (F(0), F(1), F(0)), counts))
    assert abs(np.mean(draws) - exact) < 4 * np.sqrt(sum(counts) * 0.25 / 20)


def test_bad_configs_and_policies_raise_rnnai_errors() -> None:
    with pytest.raises(RnnaiError, match="share"):
        GodelConfig(T=100, c=5, c_s=1, share=0)
    with pytest.raises(RnnaiError, match="strategy"):
        GodelConfig(T=100, c=5, c_s=1, share=5, strategy=(0, 0, 1))
    with pytest.raises(RnnaiError, match="distribution"):
        run_godel_machine(CFG, means=MEANS, policy=(F(1), F(1), F(0)), switchprogs=())
    with pytest.raises(RnnaiError, match="switchprog"):
        run_godel_machine(CFG, means=MEANS, policy=UNIFORM, switchprogs=())
    with pytest.raises(RnnaiError, match="probabilities"):
        run_godel_machine(CFG, means=(F(2), F(0), F(0)), policy=UNIFORM, switchprogs=())


def test_the_language_offers_the_six_instructions_and_skips_one_valued_arguments() -> None:
    w = World(T=CFG.T, c=CFG.c, c_s=CFG.c_s, p=MEANS)
    lang = ProofTechniqueLanguage(w, UNIFORM, CFG, arm_switchprogs(3))
    tech = lang.reset(ProofTask())
    assert [i.name for i in INSTRUCTIONS] == [
        "get-axiom",
        "apply-rule",
        "delete-theorem",
        "set-switchprog",
        "check",
        "state2theorem",
    ]
    assert lang.need(tech) == (0, 6)
    lang.append(tech, 3)  # set-switchprog asks for its argument: 3 switchprogs
    assert lang.run(tech, 10) != STOP and lang.need(tech) == (0, 3)
    lang.append(tech, 1)
    lang.append(tech, 0)  # get-axiom: one axiom, no argument
    lang.run(tech, 10)
    assert lang.describe(lang.program(tech)) == "set-switchprog(1) get-axiom"
    assert [x.kind for x in tech.record] == ["set", "axiom"] and max_pulls(99, 50) == 1
