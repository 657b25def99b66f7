"""The numba machine against its plain-Python twin: random programs on random states, and the
search itself, must leave identical arrays, halting reasons and counts."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnai.search import _kernels as K
from rnnai.search import _twin
from rnnai.search.oops import OOPS, OOPSConfig
from rnnai.search.vm import (
    R_ACURRENT,
    R_AFROZEN,
    R_HALT,
    R_INSTS,
    R_QP,
    R_SP,
    R_T,
    R_TOTALT,
)

N_Q = 73


def _machine(suite: str = "1n2n") -> OOPS:
    return OOPS(OOPSConfig(undo_capacity=20_000), suite)


def _arrays(o: OOPS) -> dict[str, np.ndarray]:
    a = o.a
    return {k: getattr(a, k).copy() for k in a.__dataclass_fields__}


def _same(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> None:
    sp = int(x["reg"][R_SP])
    assert sp == int(y["reg"][R_SP])
    for k in x:
        if k == "und":
            np.testing.assert_array_equal(x[k][1 : sp + 1], y[k][1 : sp + 1], err_msg=k)
        else:
            np.testing.assert_array_equal(x[k], y[k], err_msg=k)


programs = st.lists(st.integers(1, N_Q), min_size=1, max_size=24)
stack = st.lists(st.integers(-5, 12), max_size=8)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prog=programs,
    ds=stack,
    dstack=st.lists(st.integers(0, 3), max_size=6),
    lo=st.integers(1, 4),
    width=st.integers(0, 2),
    suite=st.sampled_from(["1n2n", "hanoi"]),
    steps=st.integers(1, 400),
)
def test_random_programs_leave_identical_states_in_kernel_and_twin(
    prog, ds, dstack, lo, width, suite, steps
) -> None:
    o = _machine(suite)
    lay = o.layout
    hi = lo + width
    w = o.a.lay[K.L_W]
    for task in range(lo, hi + 1):  # a random state: extra stack contents, Ds contents
        row = o.a.tape[task * w : (task + 1) * w]
        d = row[-lay.adp]
        for i, v in enumerate(ds, d + 1):
            row[-(lay.adp + i)] = v
        row[-lay.adp] = d + len(ds)
        for i, v in enumerate(dstack, 1):
            row[-(lay.aDp + i)] = v
        row[-lay.aDp] = len(dstack)
    r = o.a.reg
    start = int(r[R_AFROZEN]) + 1
    o.a.code[start : start + len(prog)] = prog
    r[R_QP] = start + len(prog) - 1
    r[R_ACURRENT] = start
    r[K.R_TBIG] = 10**6  # open_ring needs T >= tasks; run_program sets T = steps
    assert K.open_ring(o.mem, o.fmem, lo, hi)
    before = _arrays(o)
    a = o.a
    K.run_program(o.mem, o.fmem, steps)
    ours = _arrays(o)
    for k, v in before.items():
        getattr(a, k)[...] = v
    _twin.run_program(
        a.tape, a.mark, a.und, a.code, a.old, a.ring, a.reg, a.freg, a.lay, a.optab, steps
    )
    twin = _arrays(o)
    _same(ours, twin)
    assert ours["reg"][R_INSTS] <= steps


def test_search_chunk_is_identical_in_kernel_and_twin() -> None:
    ours, twin = _machine(), OOPS(OOPSConfig(undo_capacity=20_000, engine="python"))
    for o in (ours, twin):
        o.start_stage(1)
        o.advance(60_000)
    _same(_arrays(ours), _arrays(twin))
    assert ours.prefixes > 1000


def test_hanoi_search_after_1n2n_is_identical_in_kernel_and_twin() -> None:
    """The second curriculum: frozen 1^n2^n code, Hanoi tapes, the same search in both engines."""
    ours, twin = _machine(), OOPS(OOPSConfig(undo_capacity=20_000, engine="python"))
    for o in (ours, twin):
        o.config = OOPSConfig(undo_capacity=20_000, engine="numba")
        o.solve_stage(1)  # the kernel does the 1^n2^n part for both
        o.set_suite("hanoi")
        o.config = OOPSConfig(undo_capacity=20_000, engine="python" if o is twin else "numba")
        o.start_stage(2)
        o.advance(60_000)
    _same(_arrays(ours), _arrays(twin))
    assert ours.prefixes > 362_367 + 1000


def test_a_halting_instruction_sets_the_halt_register() -> None:
    o = _machine()
    r = o.a.reg
    start = int(r[R_AFROZEN]) + 1
    o.a.code[start : start + 3] = o.iset.encode("del del del")  # ds = [n]: second del underflows
    r[R_QP] = start + 2
    r[R_ACURRENT] = start
    r[K.R_TBIG] = 100
    K.open_ring(o.mem, o.fmem, 1, 1)
    K.run_program(o.mem, o.fmem, 100)
    assert r[R_HALT] == 1 and r[R_INSTS] == 2 and r[R_T] == 2 and r[R_TOTALT] == 2


def test_an_endless_loop_stops_at_its_time_limit() -> None:
    o = _machine()
    r = o.a.reg
    start = int(r[R_AFROZEN]) + 1
    # c1 <start> ... jmp1 back to start forever: push 1, push address, jmp1
    o.a.code[start : start + 4] = o.iset.encode("c1 c1 ip2ds jmp1")
    r[R_QP] = start + 3
    r[R_ACURRENT] = start
    r[K.R_TBIG] = 10
    K.open_ring(o.mem, o.fmem, 1, 1)
    K.run_program(o.mem, o.fmem, 1000)
    assert r[R_INSTS] <= 1000 and r[R_T] <= 1000


def _run_on_task(prog: str, task: int = 1, steps: int = 10_000) -> tuple[list[int], OOPS]:
    """Run ``prog`` on one task's fresh tape; return its data stack (bottom first)."""
    o = _machine()
    r = o.a.reg
    start = int(r[R_AFROZEN]) + 1
    code = o.iset.encode(prog)
    o.a.code[start : start + len(code)] = code
    r[R_QP] = start + len(code) - 1
    r[R_ACURRENT] = start
    r[K.R_TBIG] = 10
    K.open_ring(o.mem, o.fmem, task, task)
    K.run_program(o.mem, o.fmem, steps)
    row = o.a.tape[task * K.W : (task + 1) * K.W]
    dp = int(row[-K.ADP])
    return [int(row[-(K.ADP + i)]) for i in range(1, dp + 1)], o


def test_div_truncates_toward_zero_like_c() -> None:
    assert _run_on_task("c5 c2 div")[0] == [1, 2]
    assert _run_on_task("c5 neg c2 div")[0] == [1, -2]


def test_grt_compares_the_popped_top_with_the_element_below() -> None:
    assert _run_on_task("c1 c3 grt")[0] == [1, 1]  # top 3 > 1
    assert _run_on_task("c3 c1 grt")[0] == [1, 0]


def test_frozen_recursive_factorial_returns_its_value() -> None:
    assert _run_on_task("c4 fak")[0] == [1, 24]


def test_frozen_testexp_and_c999_compute_their_documented_values() -> None:
    assert _run_on_task("c2 c3 testexp")[0] == [1, (6 * 2 * (4 * 3 - 1)) ** 2]
    assert _run_on_task("c999")[0] == [1, 999]


def test_quote_pushes_instruction_numbers() -> None:
    stack, o = _run_on_task("qot c1 c2 qot")
    assert stack == [1, *o.iset.encode("c1 c2")]


def test_overflow_beyond_1e9_halts() -> None:
    _, o = _run_on_task("c5 c5 c5 c5 powr powr")  # 5^(5^5) is far beyond 1e9
    assert o.a.reg[R_HALT] == 1


def test_papers_universal_solver_solves_1n2n_for_n_7_and_30() -> None:
    for n in (7, 30):
        o = _machine()
        r = o.a.reg
        start = int(r[R_AFROZEN]) + 1
        code = o.iset.encode("defnp c1 calltp c2 endnp")
        o.a.code[start : start + len(code)] = code
        r[R_QP] = start + len(code) - 1
        r[R_ACURRENT] = start
        r[K.R_TBIG] = 10
        K.open_ring(o.mem, o.fmem, n, n)
        K.run_program(o.mem, o.fmem, 100_000)
        assert r[K.R_UNSOLVED] == 0, n
