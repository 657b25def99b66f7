"""The 1995/97 self-sizing language: primitives on hand-written programs, illegal steps halt,
budgets bound every run, and the numba kernel matches its Python twin on random programs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnai.search._levin_kernels import ARITY
from rnnai.search.levin import (
    BUDGET,
    NEED,
    OUTPUT_FULL,
    STATUS_NAMES,
    STOP,
    LevinError,
)
from rnnai.search.levin_language import (
    INSTRUCTIONS,
    Language1997,
    Language1997Config,
    assemble,
    execute,
)
from rnnai.search.levin_tasks import output_sequence_task

BOTH = pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "twin"])


def _status(name: str) -> int:
    return {v: k for k, v in STATUS_NAMES.items()}[name]


def test_instruction_table_lists_the_papers_primitives_in_order() -> None:
    names = [i.name for i in INSTRUCTIONS[:13]]
    assert names == [
        "Jumpleq",
        "Output",
        "Jump",
        "Stop",
        "Add",
        "GetInput",
        "Move",
        "Allocate",
        "Increment",
        "Decrement",
        "Subtract",
        "Multiply",
        "Free",
    ]
    assert [i.arity for i in INSTRUCTIONS] == ARITY.tolist()  # the kernel's decoding table
    assert Language1997().instructions == INSTRUCTIONS[:13]
    assert len(Language1997(Language1997Config(divide=True)).instructions) == 14


@BOTH
def test_output_loop_writes_its_own_opcode_until_the_output_is_full(kernel: bool) -> None:
    # cell 0 holds Output's number, 1: "Output 0" writes 1, "Jump 0" repeats: 2 steps per value
    run = execute(assemble("Output 0; Jump 0"), n_out=5, use_kernel=kernel)
    assert run.status == OUTPUT_FULL
    assert run.output == (1, 1, 1, 1, 1)
    assert run.steps == 9


@BOTH
def test_allocate_increment_output_stop_compute_on_the_work_tape(kernel: bool) -> None:
    # c[1] = 1: allocate one cell (address -1), increment it twice, output it, stop
    prog = assemble("Allocate 1; Increment -1; Increment -1; Output -1; Stop")
    run = execute(prog, n_out=3, use_kernel=kernel)
    assert (run.status, run.output, run.steps) == (STOP, (2,), 5)
    assert run.min_address == -1 and run.work == (2,)


@BOTH
def test_arithmetic_move_and_jumpleq_follow_their_definitions(kernel: bool) -> None:
    # work tape c[-2] = 7, c[-1] = 3; Jumpleq (7 <= 7) skips "Output 0" and lands on Stop at 29
    src = (
        "Add -2 -1 -1; Output -1; Subtract -2 -1 -1; Output -1; Multiply -2 -1 -1; Output -1; "
        "Move -2 -1; Output -1; Jumpleq -1 -2 29; Output 0; Stop"
    )
    prog = assemble(src)
    assert prog[29] == 3
    run = execute(prog, n_out=10, work_init=(7, 3), use_kernel=kernel)
    assert run.output == (10, -3, -21, 7)  # 7+3, 7-10, 7*(-3), moved 7
    assert (run.status, run.steps) == (STOP, 10)


@BOTH
def test_getinput_reads_the_task_inputs(kernel: bool) -> None:
    # c[-1] = 0 indexes input 0; GetInput writes it to -2; out of range halts
    prog = assemble("GetInput -1 -2; Output -2; Increment -1; Jump 0")
    run = execute(prog, n_out=5, inputs=(4, 5), work_init=(0, 0), use_kernel=kernel)
    assert run.output == (4, 5)
    assert run.status == _status("illegal_input")


@BOTH
def test_free_releases_the_lowest_work_cells(kernel: bool) -> None:
    prog = assemble("Free -1; Output -1; Output -2")  # c[-1] = 1 frees address -2
    run = execute(prog, n_out=5, work_init=(9, 1), use_kernel=kernel)
    assert run.min_address == -1
    assert run.output == (1,)
    assert run.status == _status("illegal_address")


@BOTH
@pytest.mark.parametrize(
    ("src", "work", "cfg", "reason"),
    [
        ("Output 9", (), {}, "illegal_address"),
        ("Output -1", (), {}, "illegal_address"),
        ("Increment 0", (), {}, "illegal_write"),
        ("Move 0 1", (), {}, "illegal_write"),
        ("Increment -1; Jump 0", (15,), {"maxint": 20}, "overflow"),
        ("Multiply -1 -1 -1; Stop", (100,), {"maxint": 9999}, "overflow"),
        ("Divide -2 -1 -1", (1, 0), {"divide": True}, "division_by_zero"),
        ("Jump -1", (99,), {}, "illegal_opcode"),
        ("GetInput -1 -1", (0,), {}, "illegal_input"),
        ("Allocate -1", (0,), {}, "illegal_allocation"),
        ("Allocate -1", (1000,), {}, "illegal_allocation"),
        ("Free -1", (2,), {}, "illegal_allocation"),
        ("Jump -3", (12, -1, 3), {}, "illegal_ip"),  # code on the work tape frees itself
    ],
)
def test_illegal_steps_halt_with_their_reason(
    kernel: bool, src: str, work: tuple[int, ...], cfg: dict, reason: str
) -> None:
    prog = assemble(src, Language1997Config(**cfg))
    run = execute(prog, Language1997Config(**cfg), n_out=3, work_init=work, use_kernel=kernel)
    assert STATUS_NAMES[run.status] == reason


@BOTH
def test_opcode_13_is_illegal_without_the_divide_option(kernel: bool) -> None:
    run = execute((13, 0, 0, 0), n_out=1, use_kernel=kernel)
    assert STATUS_NAMES[run.status] == "illegal_opcode"


@BOTH
def test_an_endless_loop_stops_at_its_budget(kernel: bool) -> None:
    run = execute(assemble("Jump 0"), n_out=1, limit=12_345, use_kernel=kernel)
    assert (run.status, run.steps) == (BUDGET, 12_345)


@BOTH
def test_reading_past_the_program_end_is_an_oracle_request(kernel: bool) -> None:
    assert execute((1,), n_out=1, use_kernel=kernel).status == NEED  # Output's argument
    assert execute((), n_out=1, use_kernel=kernel).status == NEED  # empty program
    over = execute(
        (6, -1, -1), Language1997Config(max_prog=3), n_out=1, work_init=(0,), use_kernel=kernel
    )
    assert STATUS_NAMES[over.status] == "program_too_long"


def test_oracle_offers_instructions_then_every_legal_address() -> None:
    lang = Language1997()
    state = lang.reset(output_sequence_task([1]))
    assert lang.run(state, 10) == NEED and lang.need(state) == (0, 13)
    lang.append(state, 7)  # Allocate: its argument may be any address Min..Max+1 = 0..1
    assert lang.run(state, 10) == NEED and lang.need(state) == (0, 2)
    lang.append(state, 1)  # Allocate c[1] = 1 cell
    assert lang.run(state, 10) == NEED and lang.need(state) == (0, 13)
    lang.append(state, 1)  # Output: arguments now range over -1 .. 3
    assert lang.run(state, 10) == NEED and lang.need(state) == (-1, 5)
    assert lang.steps(state) == 1


def test_bad_programs_and_configs_are_refused_with_clear_errors() -> None:
    with pytest.raises(LevinError, match="unknown instruction 'Halt'"):
        assemble("Halt")
    with pytest.raises(LevinError, match="Output takes 1 arguments, got 2"):
        assemble("Output 1 2")
    with pytest.raises(LevinError, match="max_prog"):
        execute((3,) * 65)
    with pytest.raises(LevinError, match="maxint"):
        Language1997Config(maxint=0)
    with pytest.raises(LevinError, match="integers"):
        execute([1.5, 2.0])


@st.composite
def _machines(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Mostly well-formed programs (opcodes followed by legal addresses) plus a work tape."""
    work = draw(st.lists(st.integers(-3, 6), max_size=6))
    ops = draw(st.lists(st.integers(0, 13), min_size=1, max_size=8))
    length = sum(1 + INSTRUCTIONS[op].arity for op in ops)
    address = st.integers(-len(work), length - 1)
    prog: list[int] = []
    for op in ops:
        prog.append(op)
        prog += [draw(address) for _ in range(INSTRUCTIONS[op].arity)]
    if draw(st.booleans()):  # sometimes damage a cell to reach the illegal paths
        k = draw(st.integers(0, len(prog) - 1))
        prog[k] = draw(st.integers(-10, 30))
    return prog, work


@settings(max_examples=400, deadline=None)
@given(
    machine=_machines(),
    inputs=st.lists(st.integers(-30, 30), max_size=4),
    n_out=st.integers(1, 12),
    limit=st.integers(0, 400),
    maxint=st.sampled_from([30, 1000, 10_000]),
    divide=st.booleans(),
)
def test_kernel_and_python_twin_agree_on_random_programs(
    machine: tuple[list[int], list[int]],
    inputs: list[int],
    n_out: int,
    limit: int,
    maxint: int,
    divide: bool,
) -> None:
    prog, work = machine
    cfg = Language1997Config(maxint=maxint, max_work=12, max_prog=40, divide=divide)
    a = execute(prog, cfg, n_out, inputs, work, limit, use_kernel=True)
    b = execute(prog, cfg, n_out, inputs, work, limit, use_kernel=False)
    assert a == b
    assert a.steps <= limit
