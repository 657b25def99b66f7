"""Numba kernels of the keys world and its learners: the world twin, SMP + SSA lives, Q(lambda).

The world's physics is single-sourced: `rnnai.selfmod.keys_world`'s pure functions are compiled
here unchanged (`_jit_with` recompiles a function's code with its helpers replaced by their
compiled versions), so the twin and the PettingZoo environment give the same floats.
`rnnai.selfmod.policy.inc_prob`, ``dec_prob`` and ``sample_index`` are compiled unchanged too.

Random numbers come from splitmix64 on a one-element uint64 array (``rng``), so a run's whole
state, including its random stream, is a handful of arrays that a checkpoint stores and restores
exactly.

Layouts (both agents in lockstep, index 0 = agent A):

* world: ``pos`` (2, 2) float64, ``heading``, ``has_key``, ``door_open`` (2,) int64, ``obs``
  (2, 5) float64;
* SMP: ``P`` (2, m, n_ops) float64, ``c`` (2, n_ops) float64 work cells, ``ist`` (2, 8) int64
  [IP, in_sms, pending, n_tags, n_mods, modifications made, tags popped, blocks opened],
  ``R`` (2,) float64 cumulative rewards; SSA stacks ``tag_t``, ``tag_r`` (2, max_tags) float64,
  ``tag_first`` (2, max_tags) int64, ``mod_cell`` (2, max_mods) int64, ``mod_old``
  (2, max_mods, n_ops) float64;
* clock: ``clk`` (4,) int64 [t, start of the current trial, trials done, goal events];
* per-trial records (filled up to ``clk[2]``): ``trial_len`` (cap,) int64, ``trial_end``
  (cap,) int64, ``trial_stack`` (cap, 2) int64 (tags on each agent's stack at the trial's end).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnai.runtime.jit import njit
from rnnai.selfmod import keys_world as kw
from rnnai.selfmod import policy as pol

__all__ = [
    "new_trial",
    "next_uniform",
    "run_qlambda_life",
    "run_smp_life",
    "ssa_checkpoint",
    "twin_rollout",
]


def _jit_with(fn: Callable[..., Any], **helpers: Any) -> Any:
    """Compile ``fn``'s unchanged code with the named globals replaced by compiled helpers."""
    g = dict(fn.__globals__)
    g.update(helpers)
    clone = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__
    clone.__module__ = fn.__module__
    return njit(cache=True)(clone)


_blocked = njit(cache=True)(kw.blocked)
_sees = njit(cache=True)(kw.sees)
_place = njit(cache=True)(kw.place_agents)
_observe = _jit_with(kw.observe, blocked=_blocked, sees=_sees)
_world_step = _jit_with(kw.world_step, blocked=_blocked)
_inc = njit(cache=True)(pol.inc_prob)
_dec = njit(cache=True)(pol.dec_prob)
_sample = njit(cache=True)(pol.sample_index)

N_OPS = pol.N_OPS
N_SENSOR = pol.N_SENSOR_CELLS
CLIP = pol.CLIP


@njit(cache=True)
def next_uniform(rng: np.ndarray) -> float:
    """splitmix64: advance ``rng`` (1,) uint64 in place and return a uniform in [0, 1)."""
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def twin_rollout(
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    actions: np.ndarray, rewards: np.ndarray, observations: np.ndarray,
) -> int:  # fmt: skip
    """Step the world twin through ``actions`` (T, 2); rewards (T, 2) and observations
    (T, 2, 5) are written per step. Stops after the goal; returns the steps taken."""
    rew = np.zeros(2)
    obs = np.zeros((2, kw.N_OBS))
    for s in range(actions.shape[0]):
        winner = _world_step(pos, heading, has_key, door_open, actions[s], rew)
        _observe(pos, heading, has_key, door_open, obs)
        rewards[s, :] = rew
        observations[s, :, :] = obs
        if winner >= 0:
            return s + 1
    return actions.shape[0]


@njit(cache=True)
def ssa_checkpoint(
    a: int, t: float, r: float, P: np.ndarray, ist: np.ndarray, tag_t: np.ndarray,
    tag_r: np.ndarray, tag_first: np.ndarray, mod_cell: np.ndarray, mod_old: np.ndarray,
) -> int:  # fmt: skip
    """SSA for agent ``a`` at time ``t`` with R(t) = ``r``: keep the longest bottom run of tags
    whose speeds rise strictly (`rnnai.selfmod.ssa.kept_tags`), restore the columns saved above
    it (most recent first). Returns the number of tags popped."""
    n_tags = ist[a, 3]
    keep = n_tags
    prev = r / t  # the lifetime start, t_0 = 0
    for k in range(n_tags):
        dt = t - tag_t[a, k]
        v = (r - tag_r[a, k]) / dt if dt > 0 else np.inf
        if not v > prev:
            keep = k
            break
        prev = v
    if keep == n_tags:
        return 0
    first = tag_first[a, keep]
    for q in range(ist[a, 4] - 1, first - 1, -1):
        P[a, mod_cell[a, q], :] = mod_old[a, q, :]
    ist[a, 4] = first
    ist[a, 3] = keep
    ist[a, 6] += n_tags - keep
    return n_tags - keep


@njit(cache=True)
def new_trial(
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    obs: np.ndarray, rng: np.ndarray,
) -> None:  # fmt: skip
    """Start a trial: place the agents from ``rng`` (`keys_world.place_agents`), observe."""
    u = np.empty((2, 3))
    for i in range(2):
        for k in range(3):
            u[i, k] = next_uniform(rng)
    _place(pos, heading, has_key, door_open, u)
    _observe(pos, heading, has_key, door_open, obs)


@njit(cache=True)
def run_smp_life(
    P: np.ndarray, c: np.ndarray, ist: np.ndarray, R: np.ndarray, tag_t: np.ndarray,
    tag_r: np.ndarray, tag_first: np.ndarray, mod_cell: np.ndarray, mod_old: np.ndarray,
    pos: np.ndarray, heading: np.ndarray, has_key: np.ndarray, door_open: np.ndarray,
    obs: np.ndarray, rng: np.ndarray, clk: np.ndarray, trial_len: np.ndarray,
    trial_end: np.ndarray, trial_stack: np.ndarray, lam: float, min_p: float, t_end: int,
    max_trials: int,
) -> None:  # fmt: skip
    """Run both SMP + SSA agents in the world until time ``t_end`` or ``max_trials`` trials
    (whichever first), continuing from the given state (module docs for the layouts).

    A new life starts from uniform ``P``, zero work cells, IP 0, empty stacks, ``clk`` zero and a
    world just placed (`start_life` in `rnnai.experiments.selfmod_ssa_keys` builds it)."""
    m = P.shape[1]
    max_tags = tag_t.shape[1]
    max_mods = mod_cell.shape[1]
    cap = trial_len.shape[0]
    acts = np.zeros(2, dtype=np.int64)
    rew = np.zeros(2)
    arg = np.zeros(3, dtype=np.int64)
    while clk[0] < t_end and clk[2] < max_trials and clk[2] < cap:
        clk[0] += 1
        t = float(clk[0])
        for a in range(2):
            acts[a] = kw.NOOP
            ip = ist[a, 0]
            op = _sample(P[a, ip], next_uniform(rng))
            for q in range(3):
                arg[q] = _sample(P[a, (ip + 1 + q) % m], next_uniform(rng))
            nxt = (ip + 4) % m
            if op == pol.OP_ADD:
                c[a, arg[2]] = c[a, arg[0]] + c[a, arg[1]]
            elif op == pol.OP_SUB:
                c[a, arg[2]] = c[a, arg[0]] - c[a, arg[1]]
            elif op == pol.OP_MUL:
                c[a, arg[2]] = min(max(c[a, arg[0]] * c[a, arg[1]], -CLIP), CLIP)
            elif op == pol.OP_MOV:
                c[a, arg[1]] = c[a, arg[0]]
            elif op == pol.OP_INIT:
                c[a, arg[1]] = float(arg[0])
            elif op == pol.OP_JMPL:
                if c[a, arg[0]] < c[a, arg[1]]:
                    nxt = (4 * arg[2]) % m
            elif op == pol.OP_HOME:
                nxt = 0
            elif op == pol.OP_MOVE:
                acts[a] = 0
            elif op == pol.OP_TURN:
                acts[a] = 1 + arg[0] % 7
            elif op == pol.OP_INC or op == pol.OP_DEC:
                if ist[a, 2] == 0:  # no evaluation pending
                    if ist[a, 1] == 0:  # open an SMS: a checkpoint, then a new tag
                        ssa_checkpoint(a, t, R[a], P, ist, tag_t, tag_r, tag_first, mod_cell,
                                       mod_old)  # fmt: skip
                        if ist[a, 3] < max_tags:
                            n = ist[a, 3]
                            tag_t[a, n] = t
                            tag_r[a, n] = R[a]
                            tag_first[a, n] = ist[a, 4]
                            ist[a, 3] = n + 1
                            ist[a, 1] = 1
                            ist[a, 7] += 1
                    if ist[a, 1] == 1 and ist[a, 4] < max_mods:
                        cell = (arg[0] * N_OPS + arg[1]) % m
                        q = ist[a, 4]
                        mod_old[a, q, :] = P[a, cell, :]
                        if op == pol.OP_INC:
                            changed = _inc(P[a, cell], arg[2], lam, min_p)
                        else:
                            changed = _dec(P[a, cell], arg[2], lam, min_p)
                        if changed:
                            mod_cell[a, q] = cell
                            ist[a, 4] = q + 1
                            ist[a, 5] += 1
            elif op == pol.OP_END:
                if ist[a, 1] == 1:
                    ist[a, 1] = 0
                    ist[a, 2] = arg[0] + 1
            ist[a, 0] = nxt
        winner = _world_step(pos, heading, has_key, door_open, acts, rew)
        moved = acts[0] != kw.NOOP or acts[1] != kw.NOOP
        for a in range(2):
            R[a] += rew[a]
        if winner >= 0:
            k = clk[2]
            trial_len[k] = clk[0] - clk[1]
            trial_end[k] = clk[0]
            for a in range(2):
                if ist[a, 2] > 0:  # a pending evaluation counts this goal reward
                    ist[a, 2] -= 1
                    if ist[a, 2] == 0:
                        ssa_checkpoint(a, t, R[a], P, ist, tag_t, tag_r, tag_first, mod_cell,
                                       mod_old)  # fmt: skip
                trial_stack[k, a] = ist[a, 3]
            clk[2] = k + 1
            clk[1] = clk[0]
            clk[3] += 1
            new_trial(pos, heading, has_key, door_open, obs, rng)
        elif moved:  # internal instructions leave the world and its observation unchanged
            _observe(pos, heading, has_key, door_open, obs)
        if winner >= 0 or moved:
            for a in range(2):
                for q in range(N_SENSOR):
                    c[a, q] = obs[a, q]


@njit(cache=True)
def _obs_state(obs: np.ndarray, a: int) -> int:
    s = 0
    for q in range(N_SENSOR):
        if obs[a, q] > 0.5:
            s += 1 << q
    return s


@njit(cache=True)
def _choose(Q: np.ndarray, a: int, s: int, eps: float, rng: np.ndarray) -> int:
    if next_uniform(rng) < eps:
        return min(int(next_uniform(rng) * Q.shape[2]), Q.shape[2] - 1)
    best = 0
    for k in range(1, Q.shape[2]):
        if Q[a, s, k] > Q[a, s, best]:
            best = k
    return best


@njit(cache=True)
def run_qlambda_life(
    Q: np.ndarray, E: np.ndarray, cur: np.ndarray, pos: np.ndarray, heading: np.ndarray,
    has_key: np.ndarray, door_open: np.ndarray, obs: np.ndarray, rng: np.ndarray,
    clk: np.ndarray, trial_len: np.ndarray, trial_end: np.ndarray, alpha: float, gamma: float,
    lam: float, eps: float, t_end: int, max_trials: int,
) -> None:  # fmt: skip
    """Two independent tabular Watkins Q(lambda) learners (replacing traces, epsilon-greedy) on
    the 5 observation bits (32 states x 9 actions each), in the same world and clock.

    ``Q``, ``E`` (2, 32, 9); ``cur`` (2, 2) int64 [state, chosen action] per agent. A new life
    starts with ``cur`` from `_obs_state` and `_choose` (the experiment's ``start_life``)."""
    cap = trial_len.shape[0]
    acts = np.zeros(2, dtype=np.int64)
    rew = np.zeros(2)
    nA = Q.shape[2]
    while clk[0] < t_end and clk[2] < max_trials and clk[2] < cap:
        clk[0] += 1
        acts[0] = cur[0, 1]
        acts[1] = cur[1, 1]
        winner = _world_step(pos, heading, has_key, door_open, acts, rew)
        if winner < 0:
            _observe(pos, heading, has_key, door_open, obs)
        for a in range(2):
            s, act = cur[a, 0], cur[a, 1]
            if winner >= 0:
                delta = rew[a] - Q[a, s, act]  # terminal
                nxt_s, nxt_a, greedy = 0, 0, False
            else:
                nxt_s = _obs_state(obs, a)
                nxt_a = _choose(Q, a, nxt_s, eps, rng)
                best = 0
                for k in range(1, nA):
                    if Q[a, nxt_s, k] > Q[a, nxt_s, best]:
                        best = k
                greedy = Q[a, nxt_s, nxt_a] >= Q[a, nxt_s, best]
                delta = rew[a] + gamma * Q[a, nxt_s, best] - Q[a, s, act]
            for k in range(nA):
                E[a, s, k] = 0.0
            E[a, s, act] = 1.0  # replacing trace
            for i in range(Q.shape[1]):
                for k in range(nA):
                    if E[a, i, k] != 0.0:
                        Q[a, i, k] += alpha * delta * E[a, i, k]
                        E[a, i, k] = E[a, i, k] * gamma * lam if greedy else 0.0
            cur[a, 0] = nxt_s
            cur[a, 1] = nxt_a
        if winner >= 0:
            k = clk[2]
            trial_len[k] = clk[0] - clk[1]
            trial_end[k] = clk[0]
            clk[2] = k + 1
            clk[1] = clk[0]
            clk[3] += 1
            E[:, :, :] = 0.0
            new_trial(pos, heading, has_key, door_open, obs, rng)
            for a in range(2):
                cur[a, 0] = _obs_state(obs, a)
                cur[a, 1] = _choose(Q, a, cur[a, 0], eps, rng)
