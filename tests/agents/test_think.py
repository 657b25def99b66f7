"""rnnai.agents.think: the CM policy and C alone against direct transcriptions; the search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnai.agents.think import (
    ModelQueryPolicy,
    RecurrentPolicy,
    pole_steps,
    query_genome_size,
    recurrent_genome_size,
    search_until,
)
from rnnai.agents.world_model import RecurrentWorldModel
from rnnai.envs.pole import SINGLE_POLE, PoleBalancingEnv
from rnnai.runtime.errors import RnnaiError


def _model(hidden: int = 3) -> RecurrentWorldModel:
    gen = torch.Generator().manual_seed(0)
    return RecurrentWorldModel(n_obs=2, n_act=1, hidden=hidden, generator=gen,
                               dtype=torch.float64)  # fmt: skip


def test_genome_sizes() -> None:
    assert query_genome_size(n_obs=2, hidden=16, query_dim=0) == 19
    assert query_genome_size(n_obs=2, hidden=16, query_dim=1) == 2 * 19 + 16
    assert recurrent_genome_size(n_obs=2, hidden=4) == 4 * 7 + 5


def test_model_query_policy_matches_a_direct_transcription() -> None:
    m = _model()
    p = {k: v.detach().numpy() for k, v in m.named_parameters()}
    rng = np.random.default_rng(0)
    genomes = rng.normal(size=(2, query_genome_size(n_obs=2, hidden=3, query_dim=1)))
    policy = ModelQueryPolicy(m, genomes, query_dim=1, repeats=2)
    h = np.zeros((4, 3))
    for _ in range(3):
        x = rng.normal(size=(4, 2))
        got = policy(x)
        for row in range(4):
            gnm = genomes[row // 2]  # genome-major rows
            W, V = gnm[:12].reshape(2, 6), gnm[12:].reshape(3, 1)
            out = np.tanh(W @ np.concatenate([x[row], h[row], [1.0]]))
            a, q = out[0], out[1:]
            assert got[row, 0] == pytest.approx(a, abs=1e-12)
            h[row] = np.tanh(p["W_x"] @ x[row] + p["W_a"][:, 0] * a + p["W_h"] @ h[row]
                             + p["b"] + V @ q)  # fmt: skip
        np.testing.assert_allclose(policy.h, h, atol=1e-12)


def test_without_query_units_m_follows_its_own_step() -> None:
    m = _model()
    rng = np.random.default_rng(1)
    g = rng.normal(size=(1, query_genome_size(n_obs=2, hidden=3, query_dim=0)))
    policy = ModelQueryPolicy(m, g, query_dim=0, repeats=1)
    h = m.initial_state(1)
    for _ in range(4):
        x = rng.normal(size=(1, 2))
        a = policy(x)
        _, _, h = m.step(torch.as_tensor(x), torch.as_tensor(a), h)
        np.testing.assert_allclose(policy.h, h.detach().numpy(), atol=1e-12)


def test_recurrent_policy_matches_a_direct_transcription() -> None:
    rng = np.random.default_rng(2)
    genomes = rng.normal(size=(3, recurrent_genome_size(n_obs=2, hidden=4)))
    policy = RecurrentPolicy(genomes, n_obs=2, hidden=4, repeats=1)
    g = np.zeros((3, 4))
    for _ in range(3):
        x = rng.normal(size=(3, 2))
        got = policy(x)
        for i in range(3):
            U, u = genomes[i, :28].reshape(4, 7), genomes[i, 28:]
            g[i] = np.tanh(U @ np.concatenate([x[i], g[i], [1.0]]))
            assert got[i, 0] == pytest.approx(np.tanh(u @ np.concatenate([g[i], [1.0]])),
                                              abs=1e-12)  # fmt: skip


def test_policies_reject_wrong_genome_shapes() -> None:
    with pytest.raises(RnnaiError):
        ModelQueryPolicy(_model(), np.zeros((2, 5)), query_dim=1, repeats=1)
    with pytest.raises(RnnaiError):
        RecurrentPolicy(np.zeros((2, 5)), n_obs=2, hidden=4, repeats=1)


def test_pole_steps_agrees_with_the_single_env() -> None:
    start = np.array([[0.1, 0.0, 0.03, 0.0]])
    steps, used = pole_steps(lambda x: np.full((1, 1), 0.3), start, SINGLE_POLE, 500)
    env = PoleBalancingEnv(SINGLE_POLE)
    env.reset(options={"state": start[0]})
    n = 0
    while n < 500:
        _, r, term, trunc, _ = env.step(np.array([0.3]))
        if term or trunc:
            break
        n += 1
    assert steps[0] == n and used == n + 1  # the failing step is an interaction too


def test_search_counts_environment_steps_and_stops_at_the_criterion() -> None:
    starts = np.array([[0.0, 0.0, 0.02, 0.0], [0.1, 0.0, -0.02, 0.0]])

    def make(genomes: np.ndarray, repeats: int) -> RecurrentPolicy:
        return RecurrentPolicy(genomes, n_obs=4, hidden=2, repeats=repeats)

    dim = recurrent_genome_size(n_obs=4, hidden=2)
    easy = search_until(make, dim, starts, config=SINGLE_POLE, target=3, budget=10_000,
                        popsize=6, sigma=0.5, rng=np.random.default_rng(0))  # fmt: skip
    assert easy["solved"] and easy["generations"] == 1
    assert easy["env_steps"] <= 6 * 2 * 3 and easy["curve"][-1][0] == easy["env_steps"]
    hard = search_until(make, dim, starts, config=SINGLE_POLE, target=100_000, budget=300,
                        popsize=6, sigma=0.5, rng=np.random.default_rng(0))  # fmt: skip
    assert not hard["solved"] and hard["env_steps"] >= 300
    assert hard["best"].shape == (dim,)
