"""The success-story criterion and the SSA stack on constructed histories (hand-computed pops),
the paper's top-down loop against the criterion on lifelong histories, and the numba kernel's
SSA against the Python stack."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod import _kernels as K
from rnnai.selfmod.ssa import (
    SSAStack,
    kept_tags,
    ssa_pop_count,
    success_story_holds,
    tag_speeds,
)


def test_speeds_are_reward_per_time_since_birth_and_each_tag() -> None:
    v = tag_speeds([10.0, 20.0], [1.0, 1.5], t=30.0, r=4.0)
    np.testing.assert_allclose(v, [4 / 30, 3.0 / 20, 2.5 / 10], rtol=1e-12)


def test_rising_speeds_keep_every_tag() -> None:
    # 4/30 = 0.133 < 3/20 = 0.15 < 2.5/10 = 0.25
    assert kept_tags([10.0, 20.0], [1.0, 1.5], t=30.0, r=4.0) == 2
    assert ssa_pop_count([10.0, 20.0], [1.0, 1.5], t=30.0, r=4.0) == 0


def test_a_top_block_without_acceleration_is_popped() -> None:
    # speeds 0.133, 0.15, 0.01: the top is slower than the one below it
    assert kept_tags([10.0, 20.0], [1.0, 3.9], t=30.0, r=4.0) == 1
    assert ssa_pop_count([10.0, 20.0], [1.0, 3.9], t=30.0, r=4.0) == 1


def test_popping_cascades_down_to_the_lifetime_start() -> None:
    # speeds 0.1, 0.05, 0.05: the top ties the one below (a failure), then 0.05 < 0.1
    assert kept_tags([10.0, 20.0], [2.0, 2.5], t=30.0, r=3.0) == 0
    assert ssa_pop_count([10.0, 20.0], [2.0, 2.5], t=30.0, r=3.0) == 2


def test_a_tie_counts_as_no_acceleration() -> None:
    # no reward at all: every speed is 0, the single tag does not beat time 0
    assert kept_tags([10.0], [0.0], t=30.0, r=0.0) == 0
    # reward only before the tag: 1/30 since birth, 0 since the tag
    assert kept_tags([10.0], [1.0], t=30.0, r=1.0) == 0
    # all reward after the tag: 1/30 < 1/20
    assert kept_tags([10.0], [0.0], t=30.0, r=1.0) == 1


def test_negative_rewards_are_judged_by_the_same_rule() -> None:
    # penalties only: -3/30 = -0.1 since birth; -1/20 = -0.05 since the tag: less negative, kept
    assert kept_tags([10.0], [-2.0], t=30.0, r=-3.0) == 1
    assert kept_tags([10.0], [-0.5], t=30.0, r=-3.0) == 0  # -0.125 < -0.1


def test_the_criterion_pops_a_bad_middle_the_top_down_loop_would_miss() -> None:
    # v0 = 3.5/30 = 0.117, v1 = 1.5/20 = 0.075 (< v0), v2 = 1.4/10 = 0.14 (> v1)
    t, r, tt, tr = 30.0, 3.5, [10.0, 20.0], [2.0, 2.1]
    assert ssa_pop_count(tt, tr, t=t, r=r) == 0  # the paper's loop only compares with the top
    assert kept_tags(tt, tr, t=t, r=r) == 0  # the criterion as stated pops both
    assert not success_story_holds(tt, tr, t=t, r=r)


def test_a_tag_at_the_checkpoint_itself_is_kept_on_top() -> None:
    assert kept_tags([10.0, 30.0], [0.0, 2.0], t=30.0, r=2.0) == 2
    assert kept_tags([], [], t=1.0, r=5.0) == 0


def test_bad_histories_are_rejected() -> None:
    with pytest.raises(RnnaiError, match="increase"):
        kept_tags([20.0, 10.0], [0.0, 0.0], t=30.0, r=0.0)
    with pytest.raises(RnnaiError, match="within"):
        kept_tags([40.0], [0.0], t=30.0, r=0.0)
    with pytest.raises(RnnaiError, match="> 0"):
        kept_tags([], [], t=0.0, r=0.0)
    with pytest.raises(RnnaiError, match="one length"):
        kept_tags([1.0], [], t=3.0, r=0.0)


def test_the_stack_restores_popped_columns_most_recent_first() -> None:
    s = SSAStack()
    s.push_tag(t=10.0, r=0.0)
    s.save(cell=1, old=[0.5, 0.5])
    s.push_tag(t=20.0, r=1.0)
    s.save(cell=2, old=[0.4, 0.6])
    s.save(cell=2, old=[0.3, 0.7])
    # speeds at (30, 1.5): 0.05 since birth, 0.075 since 10, 0.05 since 20: pop the top block
    undo = s.checkpoint(t=30.0, r=1.5)
    assert undo == [(2, [0.3, 0.7]), (2, [0.4, 0.6])]
    assert len(s) == 1 and s.saved == [(1, [0.5, 0.5])]
    assert s.checkpoint(t=40.0, r=3.0) == []  # 0.075 < 0.1: the first block survives


def test_the_stack_refuses_out_of_order_tags_and_orphan_saves() -> None:
    s = SSAStack()
    with pytest.raises(RnnaiError, match="open block"):
        s.save(cell=0, old=[1.0])
    s.push_tag(t=5.0, r=0.0)
    with pytest.raises(RnnaiError, match="follow"):
        s.push_tag(t=5.0, r=0.0)


def _random_life(
    seed: int, checkpoints: int = 60
) -> list[tuple[list[float], list[float], float, float]]:
    """A lifelong history of SSA calls: rewards arrive at random, one block per checkpoint."""
    rng = np.random.default_rng(seed)
    tags_t: list[float] = []
    tags_r: list[float] = []
    t, r = 0.0, 0.0
    calls = []
    for _ in range(checkpoints):
        dt = float(rng.integers(1, 50))
        t += dt
        r += float(rng.normal(0.0, 1.0) * dt * rng.random())
        calls.append((list(tags_t), list(tags_r), t, r))
        keep = kept_tags(tags_t, tags_r, t=t, r=r)
        del tags_t[keep:], tags_r[keep:]
        assert success_story_holds(tags_t, tags_r, t=t, r=r)
        tags_t.append(t)
        tags_r.append(r)
    return calls


@pytest.mark.parametrize("seed", range(40))
def test_on_lifelong_histories_the_papers_loop_pops_what_the_criterion_pops(seed: int) -> None:
    for tags_t, tags_r, t, r in _random_life(seed):
        n = len(tags_t)
        assert ssa_pop_count(tags_t, tags_r, t=t, r=r) == n - kept_tags(tags_t, tags_r, t=t, r=r)


@pytest.mark.parametrize("seed", range(10))
def test_the_kernels_ssa_pops_and_restores_as_the_python_stack(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_tags, per, n_ops = 6, 3, 4
    tag_t = np.sort(rng.choice(np.arange(1, 100), n_tags, replace=False)).astype(float)
    tag_r = rng.normal(0, 3, n_tags)
    t, r = 120.0, float(rng.normal(0, 5))
    P = rng.random((2, 8, n_ops))
    P0 = P.copy()
    ist = np.zeros((2, 8), np.int64)
    ist[0, 3], ist[0, 4] = n_tags, n_tags * per
    tt, tr = np.zeros((2, 10)), np.zeros((2, 10))
    tt[0, :n_tags], tr[0, :n_tags] = tag_t, tag_r
    tf = np.zeros((2, 10), np.int64)
    tf[0, :n_tags] = np.arange(n_tags) * per
    mc = np.zeros((2, 30), np.int64)
    mo = np.zeros((2, 30, n_ops))
    stack = SSAStack()
    for k in range(n_tags):
        stack.push_tag(t=tag_t[k], r=tag_r[k])
        for q in range(per):
            cell = int(rng.integers(0, 8))
            old = rng.random(n_ops)
            mc[0, k * per + q], mo[0, k * per + q] = cell, old
            stack.save(cell=cell, old=old.tolist())
    expected = P0.copy()
    for cell, old in stack.checkpoint(t=t, r=r):
        expected[0, cell] = old
    popped = K.ssa_checkpoint(0, t, r, P, ist, tt, tr, tf, mc, mo)
    assert popped == n_tags - len(stack)
    assert ist[0, 3] == len(stack) and ist[0, 4] == len(stack.saved)
    np.testing.assert_array_equal(P, expected)
