"""The OOPS search on the paper's first stages: programs and counts, freezing, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.search.oops import OOPS, OOPSConfig
from rnnai.search.vm import MachineError


@pytest.fixture(scope="module")
def stage1() -> OOPS:
    o = OOPS(OOPSConfig(undo_capacity=100_000))
    o.solve_stage(1)
    return o


def test_stage1_finds_defnp_2toD_after_the_papers_prefix_and_step_counts(stage1: OOPS) -> None:
    (r,) = stage1.results
    assert r.program == "defnp 2toD" and r.fresh
    assert r.prefixes == 362_367  # the paper's count
    assert r.time_steps == 478_354  # the paper's count
    assert r.instructions == 424_770 and r.peak_undo == 36  # the original C program's counts


def test_freezing_moves_the_frozen_boundary_to_the_solution(stage1: OOPS) -> None:
    assert stage1.frozen_code().endswith("ret defnp 2toD")
    assert stage1.a.reg[4] == 0  # the undo stack is empty between stages


def test_search_is_the_same_whatever_the_chunk_size() -> None:
    small = OOPS(OOPSConfig(undo_capacity=100_000, chunk=7_777))
    r = small.solve_stage(1)
    assert (r.prefixes, r.time_steps) == (362_367, 478_354)


def test_checkpoint_mid_stage_resumes_to_the_identical_result(stage1: OOPS) -> None:
    a = OOPS(OOPSConfig(undo_capacity=100_000))
    a.start_stage(1)
    a.advance(150_000)
    state = a.state_dict()
    b = OOPS(OOPSConfig(undo_capacity=100_000))
    b.load_state_dict(state)
    rb = b.resume_stage()
    assert rb == stage1.results[0]


def test_budget_ends_a_stage_without_a_result() -> None:
    o = OOPS(OOPSConfig(undo_capacity=100_000))
    assert o.solve_stage(1, max_instructions=10_000) is None
    assert o.instructions >= 10_000


def test_a_tiny_undo_stack_is_a_limit_not_a_crash() -> None:
    o = OOPS(OOPSConfig(undo_capacity=8))
    assert o.solve_stage(1, max_instructions=300_000) is None or o.results
    assert o.peak_undo <= 8


def test_bad_config_and_stage_are_rejected_by_name() -> None:
    with pytest.raises(MachineError, match="engine"):
        OOPSConfig(engine="gpu")
    with pytest.raises(MachineError, match="stage must be in 1..30"):
        OOPS(OOPSConfig(undo_capacity=10)).start_stage(31)


def test_checkpoint_with_wrong_shapes_is_rejected() -> None:
    o = OOPS(OOPSConfig(undo_capacity=100))
    state = o.state_dict()
    state["tape"] = np.zeros(5, dtype=np.int64)
    with pytest.raises(MachineError, match="checkpoint array 'tape'"):
        o.load_state_dict(state)


@pytest.mark.slow
def test_stages_2_and_3_prolong_the_solver_as_in_the_paper(stage1: OOPS) -> None:
    r2 = stage1.solve_stage(2)
    assert r2.new_code == "grt c2 c2 endnp" and not r2.fresh
    r3 = stage1.solve_stage(3)
    assert r3.new_code == "boostq delD delD bsf 2toD"
    # cumulative counts and exact undo-stack peaks of the original C program after stages 2, 3
    assert (r2.prefixes, r2.instructions, r2.time_steps) == (4_317_587, 8_292_440, 9_990_653)
    assert (r3.prefixes, r3.instructions, r3.time_steps) == (35_574_057, 80_568_452, 98_224_738)
    assert (r2.peak_undo, r3.peak_undo) == (427, 1_230)
