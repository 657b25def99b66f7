"""Tests of rnnai.selfmod.powerplay: the net against a direct transcription of its equations, the
dependency theorem, the acceptance rule, the priors, determinism and state round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.powerplay import (
    FOVEA,
    PATTERNS,
    Domain,
    PowerPlay,
    PowerPlayConfig,
    SlimConfig,
    dependent_tasks,
    fovea_domain,
    modification_bits,
    pattern_domain,
    random_image,
    run_task,
    search_pair,
)

PAT_NET = SlimConfig(n_in=4, n_hidden=4, group=2, n_out=2, max_steps=6)
FOV_NET = SlimConfig(n_in=18, n_hidden=6, group=3, n_out=4, max_steps=8)


def _fovea() -> Domain:
    return fovea_domain(random_image(np.random.default_rng(3), 5, 6), view=3)


def _reference_run(W: np.ndarray, net: SlimConfig, dom: Domain, index: int):
    """Eqs. 1-4 written out directly, unit by unit, independent of the kernel."""
    a = int(dom.tasks[index, 0])
    h_img, w_img = dom.image.shape

    def inputs(pos: int) -> list[int]:
        if dom.kind == PATTERNS:
            return [int(v) for v in dom.patterns[a]]
        x, r0, c0, half = [], pos // w_img, pos % w_img, dom.view // 2
        for dr in range(-half, half + 1):
            for dc in range(-half, half + 1):
                r, c = r0 + dr, c0 + dc
                if 0 <= r < h_img and 0 <= c < w_img:
                    x += [int(dom.image[r, c] == 1), int(dom.image[r, c] == 0)]
                else:
                    x += [0, 0]
        return x

    pos = a
    x, h = inputs(pos), [0] * net.n_hidden
    used: set[int] = set()
    for t in range(1, net.max_steps + 1):
        act = x + h
        used |= {i for i, v in enumerate(act) if v}
        net_in = [sum(W[i][j] * act[i] for i in range(net.n_src)) for j in range(net.n_dst)]
        h = [0] * net.n_hidden
        for g0 in range(0, net.n_hidden, net.group):
            grp = net_in[g0 : g0 + net.group]
            best = grp.index(max(grp))
            if grp[best] > 0:
                h[g0 + best] = 1
        outs = net_in[net.n_hidden : net.n_hidden + net.n_out]
        out = outs.index(max(outs)) if max(outs) > 0 else -1
        if net_in[-1] > 0:
            return (out if dom.kind == PATTERNS else pos), t, sorted(used)
        if dom.kind == FOVEA and out >= 0:
            r, c = pos // w_img, pos % w_img
            dr, dc = [(-1, 0), (1, 0), (0, -1), (0, 1)][out]
            r, c = min(max(r + dr, 0), h_img - 1), min(max(c + dc, 0), w_img - 1)
            pos = r * w_img + c
        x = inputs(pos)
    return -1, net.max_steps, sorted(used)


def _random_net(rng: np.random.Generator, net: SlimConfig, density: float) -> np.ndarray:
    W = rng.choice(np.asarray(net.values), size=(net.n_src, net.n_dst))
    return W * (rng.random(W.shape) < density)


@pytest.mark.parametrize("kind", ["patterns", "fovea"])
def test_the_kernel_matches_a_direct_transcription_of_the_equations(kind: str) -> None:
    rng = np.random.default_rng(0)
    dom, net = (pattern_domain(n_bits=4, n_classes=2), PAT_NET) if kind == "patterns" else (
        _fovea(), FOV_NET)  # fmt: skip
    halted = 0
    for _ in range(300):
        W = _random_net(rng, net, density=float(rng.uniform(0.1, 0.6)))
        t = int(rng.integers(len(dom.tasks)))
        got = run_task(W, net, dom, t)
        assert got == _reference_run(W, net, dom, t)
        halted += got[0] >= 0
    assert halted > 30  # the comparison covers halting runs, not only silent nets


def test_changing_rows_outside_the_used_sources_leaves_the_run_unchanged() -> None:
    rng = np.random.default_rng(1)
    dom = _fovea()
    checked = 0
    for _ in range(200):
        W = _random_net(rng, FOV_NET, 0.3)
        t = int(rng.integers(len(dom.tasks)))
        out, steps, used = run_task(W, FOV_NET, dom, t)
        free = [i for i in range(FOV_NET.n_src) if i not in used]
        if not free:
            continue
        W2 = W.copy()
        W2[free] = _random_net(rng, FOV_NET, 0.8)[free]
        assert run_task(W2, FOV_NET, dom, t) == (out, steps, used)
        checked += 1
    assert checked > 50


def test_dependent_tasks_are_those_whose_used_sources_meet_the_changed_rows() -> None:
    used = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    assert dependent_tasks(used, [3]).tolist() == [True, False, False]
    assert dependent_tasks(used, [1, 0]).tolist() == [True, True, False]
    assert dependent_tasks(used, []).tolist() == [False, False, False]
    with pytest.raises(RnnaiError, match="rows in"):
        dependent_tasks(used, [4])


def test_the_pattern_prior_is_normalised_and_prefers_fewer_ones() -> None:
    dom = pattern_domain(n_bits=5, n_classes=3)
    assert len(dom.tasks) == 31 * 3 and math.isclose(dom.prior.sum(), 1.0, rel_tol=1e-12)
    by_ones = {int(m): float(dom.prior[dom.complexity == m].sum()) for m in range(1, 6)}
    z = sum(2.0**-k for k in range(1, 6))
    for m, p in by_ones.items():  # P(m) = 2^-m / Z, shared by the C(5, m) patterns and 3 classes
        assert p == pytest.approx(2.0**-m / z, rel=1e-12)
    assert all(
        int(dom.patterns[a].sum()) == c for (a, _), c in zip(dom.tasks, dom.complexity, strict=True)
    )


def test_the_fovea_prior_halves_with_each_step_of_distance() -> None:
    dom = _fovea()
    h, w = dom.image.shape
    assert len(dom.tasks) == (h * w) ** 2 and math.isclose(dom.prior.sum(), 1.0, rel_tol=1e-12)
    start = dom.tasks[:, 0] == 7
    p, d = dom.prior[start], dom.complexity[start]
    assert p[d == 0][0] == pytest.approx(2 * p[d == 1][0], rel=1e-12)
    assert p[d == 1][0] == pytest.approx(2 * p[d == 2][0], rel=1e-12)
    assert math.isclose(p.sum(), 1.0 / (h * w), rel_tol=1e-12)  # every start equally likely


def test_modification_bits_add_the_length_code_and_each_change() -> None:
    bits = modification_bits([3, 4], n_dst=9, n_values=4, max_changes=4)
    assert bits == pytest.approx(2 + math.log2(3 * 9 * 4) + math.log2(4 * 9 * 4), abs=1e-12)
    last = modification_bits([2] * 4, n_dst=9, n_values=4, max_changes=4)
    assert last == pytest.approx(3 + 4 * math.log2(2 * 9 * 4), abs=1e-12)  # truncated geometric
    with pytest.raises(RnnaiError):
        modification_bits([], n_dst=9, n_values=4, max_changes=4)


def _play(dom: Domain, net: SlimConfig, steps: int, **kw: object) -> tuple[PowerPlay, list]:
    pp = PowerPlay(dom, net, PowerPlayConfig(max_candidates=500_000, **kw), seed=11)  # type: ignore[arg-type]
    weights = [pp.W.copy()]
    for _ in range(steps):
        assert pp.step() is not None
        weights.append(pp.W.copy())
    return pp, weights


@pytest.mark.parametrize("kind", ["patterns", "fovea"])
def test_every_accepted_step_obeys_the_acceptance_rule(kind: str) -> None:
    dom, net = (pattern_domain(n_bits=4, n_classes=2), PAT_NET) if kind == "patterns" else (
        _fovea(), FOV_NET)  # fmt: skip
    pp, weights = _play(dom, net, 6)

    def solves(W: np.ndarray, t: int) -> bool:
        return run_task(W, net, dom, t)[0] == int(dom.tasks[t, 1])

    for n, t in enumerate(pp.repertoire):
        assert not solves(weights[n], t)  # (1) the old solver did not solve the new task
        assert all(solves(weights[n + 1], old) for old in pp.repertoire[: n + 1])  # (2), (3)
    assert len(set(pp.repertoire)) == len(pp.repertoire)
    for rec, W0, W1 in zip(pp.history, weights[:-1], weights[1:], strict=True):
        assert rec.weights_changed == int(np.count_nonzero(W0 != W1)) >= 1
        assert rec.reuse == pytest.approx(1 - rec.weights_changed / W0.size)
        assert rec.retested <= rec.retested_without_tracking == rec.step - 1


def test_dependency_records_stay_exact_and_skipped_tasks_were_untouched() -> None:
    pp, _ = _play(_fovea(), FOV_NET, 8)
    for r, t in enumerate(pp.repertoire):
        assert pp.used[r].tolist() == [i in run_task(pp.W, FOV_NET, pp.domain, t)[2]
                                       for i in range(FOV_NET.n_src)]  # fmt: skip


def test_without_tracking_every_old_task_is_retested() -> None:
    pp, _ = _play(pattern_domain(n_bits=4, n_classes=2), PAT_NET, 5, track_dependencies=False)
    assert [r.retested for r in pp.history] == [0, 1, 2, 3, 4]


def test_the_first_change_draws_its_source_from_the_new_tasks_old_trace() -> None:
    dom = _fovea()
    pp, weights = _play(dom, FOV_NET, 4)
    for n, rec in enumerate(pp.history):
        _, _, used_old = run_task(weights[n], FOV_NET, dom, rec.task)
        assert int(rec.changes[0][0]) in used_old


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    dom = pattern_domain(n_bits=4, n_classes=2)
    a = _play(dom, PAT_NET, 4)[0].history
    b = _play(dom, PAT_NET, 4)[0].history
    assert a == b
    c = PowerPlay(dom, PAT_NET, PowerPlayConfig(), seed=12)
    assert [c.step() for _ in range(4)] != a


def test_a_player_restored_from_its_state_continues_exactly() -> None:
    dom = _fovea()
    full, _ = _play(dom, FOV_NET, 6)
    part, _ = _play(dom, FOV_NET, 3)
    fresh = PowerPlay(dom, FOV_NET, part.config, seed=11)
    fresh.load_state_dict(part.state_dict())
    for _ in range(3):
        fresh.step()
    assert fresh.history == full.history and np.array_equal(fresh.W, full.W)
    with pytest.raises(RnnaiError, match="shape"):
        PowerPlay(pattern_domain(n_bits=4, n_classes=2), PAT_NET, part.config, seed=0
                  ).load_state_dict(part.state_dict())  # fmt: skip


def test_a_search_with_too_few_candidates_gives_up() -> None:
    dom = pattern_domain(n_bits=4, n_classes=2)
    W = np.zeros((PAT_NET.n_src, PAT_NET.n_dst))
    cfg = PowerPlayConfig(max_candidates=1)
    got = [search_pair(W, PAT_NET, dom, [], np.zeros((0, 8), bool), cfg, seed=s) for s in range(20)]
    assert all(g is None for g in got)


def test_bad_sizes_and_mismatched_nets_are_user_errors() -> None:
    with pytest.raises(RnnaiError, match="multiple of group"):
        SlimConfig(n_in=2, n_hidden=3, group=2, n_out=2, max_steps=3)
    with pytest.raises(RnnaiError, match="non-zero"):
        SlimConfig(n_in=2, n_hidden=2, group=2, n_out=2, max_steps=3, values=(0.0, 1.0))
    with pytest.raises(RnnaiError, match="max_changes"):
        PowerPlayConfig(max_changes=0)
    with pytest.raises(RnnaiError, match="n_in = 4"):
        PowerPlay(pattern_domain(n_bits=4, n_classes=2), FOV_NET, PowerPlayConfig(), seed=0)
    with pytest.raises(RnnaiError, match="n_out = 4"):
        PowerPlay(_fovea(), SlimConfig(n_in=18, n_hidden=2, group=2, n_out=2, max_steps=3),
                  PowerPlayConfig(), seed=0)  # fmt: skip
    with pytest.raises(RnnaiError, match="task index"):
        run_task(np.zeros((8, 7)), PAT_NET, pattern_domain(n_bits=4, n_classes=2), 10**6)
    with pytest.raises(RnnaiError, match="odd view"):
        fovea_domain(np.zeros((4, 4)), view=2)
    with pytest.raises(RnnaiError):
        pattern_domain(n_bits=4, n_classes=1)
