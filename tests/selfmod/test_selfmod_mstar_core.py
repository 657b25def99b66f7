"""Tests of rnnai.selfmod.mstar: the machine, the proof checker, and M*'s interleaving."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.mstar import (
    LINEAR_SQUARES,
    NAIVE_SQUARES,
    SHARES,
    Ev,
    Line,
    MStarConfig,
    ProofRejected,
    Thm,
    check_proof,
    derive,
    enumerate_programs,
    even_everywhere,
    fastest_proven,
    poly_eval,
    program_size,
    proof_of,
    proven_solvers,
    run_mstar,
    run_program,
    show_poly,
    sigma,
)


def _squares(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6


def _replace(proof: list[Line], k: int, line: Line) -> list[Line]:
    return proof[:k] + [line] + proof[k + 1 :]


# ----------------------------------------------------------------------------- the machine
def test_the_machine_counts_the_documented_steps_of_the_three_solvers() -> None:
    for n in (0, 1, 2, 7, 12):
        assert run_program(NAIVE_SQUARES, n) == (_squares(n), 3 * n * n + 2)
        assert run_program(LINEAR_SQUARES, n) == (_squares(n), 4 * n + 2)
    half = ("half", ("mul", ("inp",), ("inc", ("inp",))))
    assert [run_program(half, n) for n in (0, 3, 10)] == [(0, 5), (6, 5), (55, 5)]


def test_a_negative_input_is_a_user_error() -> None:
    with pytest.raises(RnnaiError, match="natural number"):
        run_program(LINEAR_SQUARES, -1)


def test_enumeration_is_by_size_without_repeats_and_with_the_expected_counts() -> None:
    progs = list(enumerate_programs(5))
    sizes = [program_size(q) for q in progs]
    assert sizes == sorted(sizes) and len(set(progs)) == len(progs)
    # T(1) = 2, T(s) = 2 T(s-1) + 3 sum_{a+b=s-1} T(a) T(b)
    assert [sizes.count(s) for s in range(1, 6)] == [2, 4, 20, 88, 464]


# ----------------------------------------------------------------------------- polynomials
def test_sigma_is_the_sum_below_m_for_random_polynomials() -> None:
    for coeffs in ([3], [0, 1], [1, -2, 5], [Fraction(1, 2), 0, 0, 4]):
        a = tuple(Fraction(c) for c in coeffs)
        s = sigma(a)
        for m in range(9):
            assert poly_eval(s, m) == sum(poly_eval(a, i) for i in range(m))


def test_even_everywhere_decides_evenness_on_the_naturals() -> None:
    def p(*c: int) -> tuple[Fraction, ...]:
        return tuple(Fraction(v) for v in c)

    cases = [p(0, 1, 1), p(2, 1, 1), p(0, 1), p(0, 0, 1), p(1, 1, 1), p(0, 2)]
    for a in cases:
        direct = all(poly_eval(a, n) % 2 == 0 for n in range(40))
        assert even_everywhere(a) is direct
    assert not even_everywhere((Fraction(0), Fraction(1, 2), Fraction(1, 2)))  # n(n+1)/2


# ----------------------------------------------------------------------------- soundness
def test_every_derivable_program_up_to_size_5_matches_the_machine() -> None:
    checked = 0
    for q in enumerate_programs(5):
        try:
            ev = derive(q, max_degree=6)
        except ProofRejected:
            continue
        for n in range(8):  # more points than the degree cap: V and C are pinned
            value, steps = run_program(q, n)
            assert poly_eval(ev.V, n) == value and poly_eval(ev.C, n) == steps, q
        checked += 1
    assert checked == 309  # the other 269 of the 578 halve an odd value somewhere


def test_half_of_an_odd_valued_program_has_no_derivation() -> None:
    with pytest.raises(ProofRejected):
        derive(("half", ("inp",)))
    assert show_poly(derive(("half", ("add", ("inp",), ("inp",)))).V) == "n"


# ----------------------------------------------------------------------------- the checker
def test_the_checker_accepts_the_proof_of_the_linear_solver() -> None:
    thm = check_proof(proof_of(LINEAR_SQUARES, NAIVE_SQUARES), NAIVE_SQUARES)
    assert thm.q == LINEAR_SQUARES and show_poly(thm.T) == "4 n + 2"


def test_a_weakened_bound_that_follows_is_accepted() -> None:
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    last = proof[-1]
    weaker = Thm(LINEAR_SQUARES, (Fraction(3), Fraction(5)))
    assert check_proof(_replace(proof, len(proof) - 1, Line("thm", last.premises, weaker)),
                       NAIVE_SQUARES).T == weaker.T  # fmt: skip


def test_a_bound_that_does_not_follow_is_rejected() -> None:
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    last = proof[-1]
    # 3n + 100 >= 4n + 2 only for n <= 98: not a bound for all n
    for t in ((Fraction(100), Fraction(3)), (Fraction(1), Fraction(4))):
        bad = _replace(proof, len(proof) - 1, Line("thm", last.premises, Thm(LINEAR_SQUARES, t)))
        with pytest.raises(ProofRejected, match="does not follow"):
            check_proof(bad, NAIVE_SQUARES)


def test_a_rule_applied_to_a_non_matching_term_is_rejected() -> None:
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    k = next(i for i, line in enumerate(proof) if line.rule == "mul")
    good = proof[k].claim
    assert isinstance(good, Ev)
    for claim in (
        Ev(("add",) + good.q[1:], good.V, good.C),  # the term is not the rule's
        Ev(good.q, good.V, good.C[:-1] + (good.C[-1] + 1,)),  # a wrong step count
        Ev(good.q, good.V + (Fraction(1),), good.C),  # a wrong value
    ):
        with pytest.raises(ProofRejected, match="does not match"):
            check_proof(_replace(proof, k, Line("mul", proof[k].premises, claim)), NAIVE_SQUARES)
    with pytest.raises(ProofRejected):  # the add rule on the mul's premises, mul's claim
        check_proof(_replace(proof, k, Line("add", proof[k].premises, good)), NAIVE_SQUARES)


def test_a_proof_about_a_different_program_is_rejected() -> None:
    cubes = ("loop", ("inp",), ("mul", ("inp",), ("mul", ("inp",), ("inp",))))
    with pytest.raises(ProofRejected, match="computes"):
        check_proof(proof_of(cubes, NAIVE_SQUARES), NAIVE_SQUARES)
    # a correct proof of "linear equivalent to itself" is not one about p
    with pytest.raises(ProofRejected, match="not p"):
        check_proof(proof_of(LINEAR_SQUARES, LINEAR_SQUARES), NAIVE_SQUARES)
    # the thm claims a program other than its premise's
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    other = Thm(NAIVE_SQUARES, proof[-1].claim.T)  # type: ignore[union-attr]
    with pytest.raises(ProofRejected, match="not a Thm about"):
        check_proof(_replace(proof, len(proof) - 1, Line("thm", proof[-1].premises, other)),
                    NAIVE_SQUARES)  # fmt: skip


def test_malformed_proofs_are_rejected() -> None:
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    with pytest.raises(ProofRejected, match="empty"):
        check_proof([], NAIVE_SQUARES)
    with pytest.raises(ProofRejected, match="last line"):
        check_proof(proof[:-1], NAIVE_SQUARES)
    with pytest.raises(ProofRejected, match="earlier lines"):
        check_proof(_replace(proof, 0, Line("inc", (3,), proof[0].claim)), NAIVE_SQUARES)
    with pytest.raises(ProofRejected, match="unknown rule"):
        check_proof(_replace(proof, 0, Line("magic", (), proof[0].claim)), NAIVE_SQUARES)
    odd = [Line("inp", (), derive(("inp",)))]
    half = Ev(("half", ("inp",)), (Fraction(0), Fraction(1, 2)), (Fraction(2),))
    with pytest.raises(ProofRejected, match="side condition"):
        check_proof(odd + [Line("half", (0,), half)], NAIVE_SQUARES)


def test_a_buggy_prover_is_caught_on_every_mutated_line() -> None:
    """Shift every Ev line's step count by one: the checker must reject each mutant."""
    proof = proof_of(LINEAR_SQUARES, NAIVE_SQUARES)
    for k, line in enumerate(proof[:-1]):
        assert isinstance(line.claim, Ev)
        c = line.claim.C
        bad = Ev(line.claim.q, line.claim.V, (c[0] + 1,) + c[1:])
        with pytest.raises(ProofRejected):
            check_proof(_replace(proof, k, Line(line.rule, line.premises, bad)), NAIVE_SQUARES)


# ----------------------------------------------------------------------------- M*
def test_mstar_outputs_the_right_value_on_known_answers() -> None:
    for x in (0, 1, 5, 60, 333):
        assert run_mstar(NAIVE_SQUARES, x, MStarConfig(max_size=5)).output == _squares(x)


def test_the_interleaving_gives_each_process_its_share() -> None:
    r = run_mstar(NAIVE_SQUARES, 700, MStarConfig(max_size=5, trace_every=50))
    assert sum(r.steps.values()) == r.total_steps
    for name, share in SHARES.items():  # exact up to the largest unit of work
        assert abs(r.steps[name] - share * r.total_steps) <= 60, (name, r.steps)
    late = [row for row in r.trace if row[0] >= 2000]
    for t, a, b, c in late:
        assert abs(a / t - 0.1) < 0.01 and abs(b / t - 0.1) < 0.01 and abs(c / t - 0.8) < 0.01


def test_mstar_switches_to_the_faster_program_once_its_proof_is_found() -> None:
    r = run_mstar(NAIVE_SQUARES, 500, MStarConfig(max_size=5))
    names = [s[1] for s in r.switches]
    assert names == ["loop(n, loop(n, add(add(n, n), 1)))", "loop(n, mul(n, n))"]
    assert [s[3] for s in r.switches] == [3 * 500**2 + 2, 4 * 500 + 2]
    proved_at = {p[1]: p[0] for p in r.proofs}
    assert r.switches[1][0] >= proved_at["loop(n, mul(n, n))"]  # B only after A's proof
    assert r.final_program == LINEAR_SQUARES and r.total_steps < 3 * 500**2 + 2


def test_without_a_provable_faster_program_mstar_runs_p_to_the_end() -> None:
    r = run_mstar(NAIVE_SQUARES, 40, MStarConfig(max_size=4))
    assert r.final_program == NAIVE_SQUARES and r.output == _squares(40)
    t_p = 3 * 40**2 + 2
    assert r.total_steps <= 5 * t_p + 50  # the theorem with q = p: A and B add nothing else


def test_mstar_total_time_obeys_the_bound_after_the_switch() -> None:
    """After the switch at global step s, C's current round ends within 0.8 s + 1 of its steps,
    then doubling rounds reach t_fast within < 4 t_fast: total <= s + (5 * 0.8 s + 4 t) / 0.8."""
    for x in (300, 1000, 3000):
        r = run_mstar(NAIVE_SQUARES, x, MStarConfig(max_size=5))
        s, t = r.switches[-1][0], run_program(r.final_program, x)[1]
        assert r.total_steps <= s + (5 * 0.8 * s + 4 * t) / 0.8 + 50


def test_mstar_ends_on_the_fastest_proven_program() -> None:
    cfg = MStarConfig(max_size=6)
    for x in (400, 1500):
        r = run_mstar(NAIVE_SQUARES, x, cfg)
        best, t = fastest_proven(NAIVE_SQUARES, x, cfg)
        assert best == LINEAR_SQUARES and t == 4 * x + 2
        assert run_program(r.final_program, x)[1] == t


def test_a_bad_config_is_a_user_error() -> None:
    with pytest.raises(RnnaiError, match="max_size"):
        MStarConfig(max_size=0)


def test_mstar_is_deterministic() -> None:
    a, b = (run_mstar(NAIVE_SQUARES, 250, MStarConfig(max_size=5)) for _ in range(2))
    assert a == b


def test_every_pair_of_tiny_programs_is_equivalent_exactly_when_their_values_agree() -> None:
    """thm accepts q ~ p iff the machine agrees on inputs 0..9 (polynomials of degree <= 6)."""
    progs = [q for q in enumerate_programs(3)]
    for q, p in itertools.product(progs[:12], progs[:12]):
        try:
            proof = proof_of(q, p)
        except ProofRejected:
            continue
        same = all(run_program(q, n)[0] == run_program(p, n)[0] for n in range(10))
        try:
            check_proof(proof, p)
            accepted = True
        except ProofRejected:
            accepted = False
        assert accepted is same, (q, p)


def test_proven_solvers_lists_p_first_and_only_programs_with_p_s_values() -> None:
    cfg = MStarConfig(max_size=5)
    solvers = proven_solvers(NAIVE_SQUARES, cfg)
    assert [q for q, _ in solvers] == [NAIVE_SQUARES, LINEAR_SQUARES]
    assert fastest_proven(NAIVE_SQUARES, 9, cfg, solvers) == (LINEAR_SQUARES, 38)
    # at x = 0 the naive p (2 steps) is the fastest proven solver and wins
    assert fastest_proven(NAIVE_SQUARES, 0, cfg, solvers) == (NAIVE_SQUARES, 2)
