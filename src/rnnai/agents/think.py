"""Learning to think: a controller C that queries a frozen recurrent world model M (2015).

Citation:
    J. Schmidhuber. On learning to think: algorithmic information theory for novel combinations
    of reinforcement learning controllers and recurrent neural world models. arXiv:1511.09249,
    2015 (Sec. 5.3, "C learns to think with M", and Algorithm 1 of Sec. 3).

The idea (Sec. 5.3, as summarized in public copies): M is a large recurrent network trained,
without a teacher, to predict its next input from the history of inputs and actions. A smaller
RL controller C gets learnable connections *from* some of M's units (it reads M's internal
state) and *to* some of M's units (it sends M inputs: it queries M); C and M together form one
net CM whose M-part is frozen, and only C's connections are searched, e.g. by evolution. C can
then exploit what M already knows (here: the hidden velocities of a partially observed pole)
instead of learning it from reward, and needs fewer environment interactions. The paper reports
no experiments ("experimental results will be described in separate papers").

The networks here (batched over a population of genomes, numpy float64; M is a trained
`rnnai.agents.world_model.RecurrentWorldModel` with input x_t, action a_t)::

    C with M (`ModelQueryPolicy`), genome (W, V):
        [a_t; q_t] = tanh(W [x_t; h_{t-1}; 1])                  C reads M's state h_{t-1}
        h_t = tanh(W_x x_t + W_a a_t + W_h h_{t-1} + b + V q_t)   M (frozen) steps; C's query
                                                                  q_t enters M's hidden units
    C alone (`RecurrentPolicy`), an Elman net of its own:
        g_t = tanh(U [x_t; g_{t-1}; 1]),   a_t = tanh(u . [g_t; 1])

W is (1 + k) x (n_obs + H + 1) and V is H x k for k query units (k = 0: C only reads M).
`search_until` runs CMA-ES (`rnnai.evolution.CMAES`) over genomes, evaluating each generation's
population on the pole (`rnnai.envs.pole`) in one vector env, and counts every environment step
until the best genome of a generation balances ``target`` steps from every training start.

Ours, not the paper's: the task (the non-Markov single pole, where M's state must stand in for
the unobserved velocities), the linear C with one tanh layer, the tanh query units, CMA-ES, the
sizes and the criterion. M's own training data count as environment steps of C with M.

Examples:
    >>> import numpy as np, torch
    >>> from rnnai.agents.world_model import RecurrentWorldModel
    >>> m = RecurrentWorldModel(n_obs=2, n_act=1, hidden=3,
    ...                         generator=torch.Generator().manual_seed(0))
    >>> query_genome_size(n_obs=2, hidden=3, query_dim=1)
    15
    >>> policy = ModelQueryPolicy(m, np.zeros((4, 15)), query_dim=1, repeats=2)
    >>> policy(np.zeros((8, 2))).shape
    (8, 1)
    >>> recurrent_genome_size(n_obs=2, hidden=4)
    33
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnai.agents.world_model import RecurrentWorldModel
from rnnai.envs.pole import PoleBalancingVectorEnv, PoleConfig
from rnnai.evolution import CMAES, CMAESConfig
from rnnai.runtime.errors import RnnaiError

__all__ = [
    "ModelQueryPolicy",
    "RecurrentPolicy",
    "SearchResult",
    "pole_steps",
    "query_genome_size",
    "recurrent_genome_size",
    "search_until",
]


def query_genome_size(*, n_obs: int, hidden: int, query_dim: int) -> int:
    """Weights of C with M: (1 + k)(n_obs + H + 1) read-out weights plus H k query weights."""
    return (1 + query_dim) * (n_obs + hidden + 1) + hidden * query_dim


def recurrent_genome_size(*, n_obs: int, hidden: int) -> int:
    """Weights of C alone: hidden (n_obs + hidden + 1) plus (hidden + 1) for the action."""
    return hidden * (n_obs + hidden + 1) + hidden + 1


class ModelQueryPolicy:
    """C with M for a population: each genome's C reads and queries its own copy of M's state.

    Args:
        model: The frozen M (its weights are copied to float64 numpy arrays).
        genomes: (P, `query_genome_size`) genomes.
        query_dim: k, the number of query units.
        repeats: Episodes per genome; the policy acts on P * repeats rows, genome-major.

    Calling it with observations (P * repeats, n_obs) returns actions (P * repeats, 1) and
    advances M's state by the executed actions and queries.
    """

    def __init__(
        self, model: RecurrentWorldModel, genomes: np.ndarray, *, query_dim: int, repeats: int
    ) -> None:
        """Split the genomes into W and V and copy M's weights."""
        g = np.asarray(genomes, dtype=np.float64)
        n_obs, hid = model.n_obs, model.hidden
        size = query_genome_size(n_obs=n_obs, hidden=hid, query_dim=query_dim)
        if g.ndim != 2 or g.shape[1] != size:
            raise RnnaiError(f"genomes must be (P, {size}), got shape {g.shape}")
        if model.n_act != 1:
            raise RnnaiError(f"M must take one action, got n_act={model.n_act}")
        self.k = query_dim
        d = n_obs + hid + 1
        rows = np.repeat(g, repeats, axis=0)  # (P r, size)
        self.W = rows[:, : (1 + query_dim) * d].reshape(-1, 1 + query_dim, d)  # (P r, 1+k, d)
        n_rows = rows.shape[0]
        self.V = rows[:, (1 + query_dim) * d :].reshape(n_rows, hid, query_dim)  # (P r, H, k)
        p = {k: v.detach().double().numpy() for k, v in model.named_parameters()}
        self.Wx, self.Wa, self.Wh, self.b = p["W_x"], p["W_a"], p["W_h"], p["b"]
        self.h = np.zeros((rows.shape[0], hid))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Act on observations (P r, n_obs), then step M with the action and the query."""
        feats = np.concatenate([x, self.h, np.ones((x.shape[0], 1))], axis=1)  # (P r, d)
        out = np.tanh(np.einsum("nod,nd->no", self.W, feats))  # (P r, 1 + k)
        a, q = out[:, :1], out[:, 1:]
        pre = x @ self.Wx.T + a @ self.Wa.T + self.h @ self.Wh.T + self.b
        if self.k:
            pre = pre + np.einsum("nhk,nk->nh", self.V, q)  # C's query into M's hidden units
        self.h = np.tanh(pre)
        return a


class RecurrentPolicy:
    """C alone for a population: an Elman tanh net per genome (`recurrent_genome_size`)."""

    def __init__(self, genomes: np.ndarray, *, n_obs: int, hidden: int, repeats: int) -> None:
        """Split the genomes into U (hidden, n_obs + hidden + 1) and u (hidden + 1)."""
        g = np.asarray(genomes, dtype=np.float64)
        size = recurrent_genome_size(n_obs=n_obs, hidden=hidden)
        if g.ndim != 2 or g.shape[1] != size:
            raise RnnaiError(f"genomes must be (P, {size}), got shape {g.shape}")
        rows = np.repeat(g, repeats, axis=0)
        d = n_obs + hidden + 1
        self.U = rows[:, : hidden * d].reshape(-1, hidden, d)  # (P r, hidden, d)
        self.u = rows[:, hidden * d :]  # (P r, hidden + 1)
        self.g = np.zeros((rows.shape[0], hidden))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Act on observations (P r, n_obs)."""
        ones = np.ones((x.shape[0], 1))
        self.g = np.tanh(np.einsum("nhd,nd->nh", self.U, np.concatenate([x, self.g, ones], 1)))
        return np.tanh(np.sum(self.u * np.concatenate([self.g, ones], 1), axis=1, keepdims=True))


def pole_steps(
    policy: Callable[[np.ndarray], np.ndarray], starts: np.ndarray, config: PoleConfig, cap: int
) -> tuple[np.ndarray, int]:
    """Run one episode per row of ``starts`` (raw states) for at most ``cap`` steps.

    Returns:
        Steps balanced per episode and the environment steps used (all episodes together).
    """
    n = starts.shape[0]
    env = PoleBalancingVectorEnv(n, config, max_steps=cap)
    obs, _ = env.reset(options={"state": starts})
    alive = np.ones(n, dtype=bool)
    steps = np.zeros(n, dtype=np.int64)
    used = 0
    for _ in range(cap):
        a = np.clip(policy(obs.astype(np.float64)), -1.0, 1.0)
        obs, r, term, trunc, _ = env.step(a)
        used += int(alive.sum())
        steps += (alive & (r > 0)).astype(np.int64)
        alive &= ~(term | trunc)
        if not alive.any():
            break
    return steps, used


class SearchResult(dict[str, Any]):
    """``env_steps`` used, ``solved`` (bool), ``generations``, ``best`` genome, ``curve``
    (environment steps and the best mean steps balanced after each generation)."""


def search_until(
    make_policy: Callable[[np.ndarray, int], Callable[[np.ndarray], np.ndarray]],
    dim: int,
    starts: np.ndarray,
    *,
    config: PoleConfig,
    target: int,
    budget: int,
    popsize: int,
    sigma: float,
    rng: np.random.Generator,
) -> SearchResult:
    """CMA-ES over genomes until a generation's best balances ``target`` from every start.

    Args:
        make_policy: ``(genomes (P, dim), repeats) -> policy`` for P * repeats episodes.
        dim: Genome length.
        starts: Training starts (K, 4 or 6); every genome is run from each.
        config: The pole system.
        target: Steps to balance from every start (episodes are capped there).
        budget: Environment steps after which the search stops unsolved.
        popsize: CMA-ES population.
        sigma: CMA-ES initial step size.
        rng: The searcher's generator.

    Returns:
        The `SearchResult`.
    """
    es = CMAES(dim, CMAESConfig(popsize=popsize, sigma0=sigma), rng=rng)
    k = starts.shape[0]
    used, gen = 0, 0
    curve: list[tuple[int, float]] = []
    while used < budget:
        genomes = es.ask()
        policy = make_policy(genomes, k)
        steps, s = pole_steps(policy, np.tile(starts, (len(genomes), 1)), config, target)
        used += s
        gen += 1
        per = steps.reshape(len(genomes), k)  # genome-major
        fitness = per.mean(1).astype(np.float64)
        es.tell(fitness)
        best = int(np.argmax(fitness))
        curve.append((used, float(fitness[best])))
        if per[best].min() >= target:
            return SearchResult(env_steps=used, solved=True, generations=gen,
                                best=genomes[best], curve=curve)  # fmt: skip
    return SearchResult(env_steps=used, solved=False, generations=gen,
                        best=es.best_genome, curve=curve)  # fmt: skip
