"""OOPS on several threads: phases side by side, committed in order, with the sequential
search's programs and counts (here: the original C program's, pinned for stages 1-3)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnai.runtime.checkpoint import pack_state, unpack_state
from rnnai.search import _kernels as K
from rnnai.search._parallel import ParallelSearch
from rnnai.search.oops import OOPS, OOPSConfig
from rnnai.search.vm import R_INSTS, R_PHASE, R_SP, R_TBIG, MachineError

C_STAGES = {  # the original C program's cumulative counts and undo-stack peaks
    1: ("defnp 2toD", 362_367, 424_770, 478_354, 36),
    2: ("grt c2 c2 endnp", 4_317_587, 8_292_440, 9_990_653, 427),
    3: ("boostq delD delD bsf 2toD", 35_574_057, 80_568_452, 98_224_738, 1_230),
}


def _row(r) -> tuple:  # noqa: ANN001
    return (r.new_code, r.prefixes, r.instructions, r.time_steps, r.peak_undo)


@pytest.mark.parametrize(("workers", "chunk"), [(2, 2_000_000), (3, 250_000)])
def test_threads_give_the_sequential_programs_and_counts(workers: int, chunk: int) -> None:
    o = OOPS(OOPSConfig(undo_capacity=100_000, workers=workers, chunk=chunk))
    try:
        for n in (1, 2, 3):
            r = o.solve_stage(n)
            assert r is not None and _row(r) == C_STAGES[n]
            assert not o._parallel.pending  # everything handed out was committed or dropped
    finally:
        o.close()


def test_phases_ahead_really_run_and_the_solving_phase_ends_the_stage() -> None:
    o = OOPS(OOPSConfig(undo_capacity=100_000, workers=2, chunk=1_000_000))
    o.solve_stage(1)
    o.solve_stage(2)
    o.start_stage(3)
    most = 0
    while True:
        st = o.advance(1_000_000)
        most = max(most, sum(it.state != "done" for it in o._parallel.items))
        if st == K.ST_SOLVED:
            break
    o.close()
    r = o.freeze()
    assert _row(r) == C_STAGES[3]
    assert most == 2  # two phases were under way at once
    # the machine holds the solving phase's state: the prolong phase (1) at T = 2^32
    assert r.T == 2**32 and not r.fresh
    assert o.a.reg[R_TBIG] == 2**32 and o.a.reg[R_PHASE] == 1


@pytest.mark.parametrize("resume_workers", [1, 3])
def test_a_checkpoint_mid_stage_resumes_with_any_thread_count(resume_workers: int) -> None:
    cfg = OOPSConfig(undo_capacity=100_000, workers=2, chunk=3_000_000)
    o = OOPS(cfg)
    o.solve_stage(1)
    o.solve_stage(2)
    o.start_stage(3)
    for _ in range(6):
        assert o.advance(3_000_000) == K.ST_BUDGET
    assert o._parallel.pending
    tensors, skeleton = pack_state(o.state_dict())
    state = unpack_state(json.loads(json.dumps(skeleton)), tensors)  # as a checkpoint file
    o.close()
    p = OOPS(OOPSConfig(undo_capacity=100_000, workers=resume_workers, chunk=3_000_000))
    p.load_state_dict(state)
    r = p.resume_stage()
    p.close()
    assert r is not None and _row(r) == C_STAGES[3]


def test_a_sequential_checkpoint_mid_phase_continues_on_threads() -> None:
    a = OOPS(OOPSConfig(undo_capacity=100_000))
    a.start_stage(1)
    a.advance(150_000)  # inside a phase: the threads take it over as the first phase
    b = OOPS(OOPSConfig(undo_capacity=100_000, workers=2, chunk=50_000))
    b.load_state_dict(a.state_dict())
    r = b.resume_stage()
    b.close()
    assert r is not None and _row(r) == C_STAGES[1]


def test_bad_parallel_settings_and_checkpoints_are_rejected() -> None:
    with pytest.raises(MachineError, match="workers must be in 1..256"):
        OOPSConfig(workers=0)
    with pytest.raises(MachineError, match="needs engine='numba'"):
        OOPSConfig(workers=2, engine="python")
    with pytest.raises(MachineError, match="256 threads with an undo stack of 1,000,000,000"):
        OOPS(OOPSConfig(undo_capacity=10**9, workers=256))
    o = OOPS(OOPSConfig(undo_capacity=1_000, workers=2))
    state = o.state_dict()
    bad = {"T": 4, "phase": 1, "base": [0, 0, 0], "state": "paused"}
    state["parallel"] = {"items": [bad]}
    with pytest.raises(MachineError, match="phase 0 is malformed"):
        o.load_state_dict(state)
    big = {**bad, "phase": 0, "mem": np.zeros(o.mem.shape[0] + 1, np.int64), "fmem": o.fmem}
    state["parallel"] = {"items": [big]}
    with pytest.raises(MachineError, match="do not fit"):
        o.load_state_dict(state)


def test_an_error_in_a_thread_reaches_the_caller() -> None:
    o = OOPS(OOPSConfig(undo_capacity=1_000, workers=2))
    o.start_stage(1)
    par = ParallelSearch(o.mem, o.fmem, 2)

    def boom(*args: object) -> int:
        raise RuntimeError("kernel failed")

    par._search = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="kernel failed"):
        par.advance(1_000)
    par.close()


def test_counts_mid_stage_are_the_work_of_all_phases_handed_out() -> None:
    o = OOPS(OOPSConfig(undo_capacity=100_000, workers=2, chunk=2_000_000))
    o.solve_stage(1)
    o.start_stage(2)
    committed = o.instructions
    o.advance(2_000_000)
    par = o._parallel
    assert par.pending and o.instructions > committed
    running = [it for it in par.items if it.mem is not None]
    for it in running:  # compact copies: the undo stack only up to its top
        assert it.mem.shape[0] == K.UND + 2 * (int(it.mem[K.REG + R_SP]) + 1)
    assert running
    expect = int(o.mem[K.REG + R_INSTS]) + sum(  # the frontier holds the committed counts
        (it.delta[1] if it.delta is not None else int(it.mem[K.REG + R_INSTS]) - it.base[1])
        for it in par.items
    )
    assert o.instructions == expect
    assert o.T == par.items[0].T  # the earliest phase not yet done
    o.close()
