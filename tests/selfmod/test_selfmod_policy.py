"""Self-modifying policies: the probability modifications against a direct transcription, the
instruction decoding, and invariants of whole SMP + SSA lives run by the numba kernel."""

from __future__ import annotations

import numpy as np
import pytest

from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod import _kernels as K
from rnnai.selfmod.policy import (
    N_OPS,
    OPS,
    SMPConfig,
    dec_prob,
    inc_prob,
    modified_cell,
    sample_index,
)


def _inc_direct(p: np.ndarray, j: int, lam: float) -> np.ndarray:
    q = lam * p  # P_ik <- lambda P_ik
    q[j] = 1.0 - lam * (1.0 - p[j])  # P_ij <- 1 - lambda (1 - P_ij)
    return q


def _dec_direct(p: np.ndarray, j: int, lam: float) -> np.ndarray:
    q = p * (1.0 - lam * p[j]) / (1.0 - p[j])
    q[j] = lam * p[j]
    return q


def test_incprob_on_a_uniform_column_by_hand() -> None:
    p = np.full(4, 0.25)
    assert inc_prob(p, 2, 0.3, 0.001)
    np.testing.assert_allclose(p, [0.075, 0.075, 0.775, 0.075], rtol=0, atol=1e-15)


def test_decprob_on_a_uniform_column_by_hand() -> None:
    p = np.full(4, 0.25)
    assert dec_prob(p, 0, 0.3, 0.001)
    rest = 0.75 * (1 - 0.075) / 0.75 / 3  # the others share 1 - 0.075 in their old ratio
    np.testing.assert_allclose(p, [0.075, rest, rest, rest], rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_modifications_match_the_equations_and_keep_a_distribution(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(N_OPS)) * 0.9 + 0.1 / N_OPS
    j = int(rng.integers(N_OPS))
    lam = float(rng.uniform(0.1, 0.9))
    a, b = p.copy(), p.copy()
    assert inc_prob(a, j, lam, 1e-6) and dec_prob(b, j, lam, 1e-6)
    np.testing.assert_allclose(a, _inc_direct(p, j, lam), rtol=0, atol=1e-12)
    np.testing.assert_allclose(b, _dec_direct(p, j, lam), rtol=0, atol=1e-12)
    assert abs(a.sum() - 1) < 1e-12 and abs(b.sum() - 1) < 1e-12


def test_a_modification_below_min_p_is_not_made() -> None:
    p = np.array([0.002, 0.998])
    assert not inc_prob(p, 1, 0.3, 0.001)  # 0.3 * 0.002 < 0.001
    assert not dec_prob(p, 0, 0.3, 0.001)
    np.testing.assert_array_equal(p, [0.002, 0.998])


def test_sampling_follows_the_cumulative_distribution() -> None:
    p = np.array([0.2, 0.5, 0.3])
    assert [sample_index(p, u) for u in (0.0, 0.19, 0.2, 0.69, 0.7, 0.999)] == [0, 0, 1, 1, 2, 2]


def test_incprob_addresses_every_program_cell() -> None:
    cells = {modified_cell(a1, a2, 48) for a1 in range(N_OPS) for a2 in range(N_OPS)}
    assert cells == set(range(48))
    assert OPS[9] == "IncProb" and OPS[11] == "EndSelfMod" and len(OPS) == N_OPS


def test_bad_configs_are_refused() -> None:
    for bad in ({"n_cells": 10}, {"lam": 1.0}, {"min_p": 0.5}, {"max_tags": 0}):
        with pytest.raises(RnnaiError):
            SMPConfig(**bad)


def _life(seed: int, ticks: int) -> dict[str, np.ndarray]:
    from rnnai.experiments.selfmod_ssa_keys import _advance, start_life

    smp = SMPConfig()
    a = start_life("ssa", seed, smp)
    _advance("ssa", a, smp, ticks, 10**9)
    return a


def test_an_smp_life_is_reproducible_and_keeps_its_books() -> None:
    a, b = _life(7, 1_500_000), _life(7, 1_500_000)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    smp = SMPConfig()
    for ag in range(2):
        n_tags, n_mods = a["ist"][ag, 3], a["ist"][ag, 4]
        assert a["ist"][ag, 5] >= n_mods  # modifications made >= still on the stack
        assert a["ist"][ag, 7] - a["ist"][ag, 6] == n_tags  # blocks opened - popped = on stack
        assert np.all(np.diff(a["tag_t"][ag, :n_tags]) > 0)
        np.testing.assert_allclose(a["P"][ag].sum(axis=1), 1.0, atol=1e-12)
        assert a["P"][ag].min() >= smp.min_p * (1 - 1e-12)
        # undoing every saved column, most recent first, gives back the newborn uniform policy
        P = a["P"][ag].copy()
        for q in range(n_mods - 1, -1, -1):
            P[a["mod_cell"][ag, q]] = a["mod_old"][ag, q]
        np.testing.assert_array_equal(P, np.full_like(P, 1.0 / N_OPS))
    assert a["clk"][0] == 1_500_000 and a["clk"][2] == a["clk"][3]


def test_different_seeds_live_different_lives() -> None:
    a, b = _life(1, 200_000), _life(2, 200_000)
    assert not np.array_equal(a["P"], b["P"]) or not np.array_equal(a["pos"], b["pos"])


def test_the_uniform_generator_is_in_the_unit_interval_and_seeded() -> None:
    r1, r2 = np.array([5], np.uint64), np.array([5], np.uint64)
    u = np.array([K.next_uniform(r1) for _ in range(2000)])
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    assert K.next_uniform(r2) == u[0]
