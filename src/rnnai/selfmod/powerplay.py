"""PowerPlay: a task inventor and a solver modifier searched together, with dependency tracking.

Papers: J. Schmidhuber, "PowerPlay: Training an Increasingly General Problem Solver by Continually
Searching for the Simplest Still Unsolvable Problem", Frontiers in Psychology 4:313, 2013
(arXiv:1112.5309, 2011); R. K. Srivastava, B. R. Steunebrink, M. Stollenga & J. Schmidhuber,
"Continually Adding Self-Invented Problems to the Repertoire: First Experiments with PowerPlay",
IEEE ICDL-EpiRob 2012, extended as R. K. Srivastava, B. R. Steunebrink & J. Schmidhuber, "First
Experiments with PowerPlay", Neural Networks 41:130-136, 2013 (arXiv:1210.8385).

Checked against the papers' abstracts: the search is over pairs of a new task and a modification
of the current solver, until the modified solver provably solves all previously learned tasks
plus the new one while the unmodified one does not; candidate pairs are ordered by time-optimal
program search, by their conditional computational (time and space) complexity; the experiments'
solver is a self-delimiting SLIM RNN whose weights encode programs, which re-uses code of earlier
skills and prefers new tasks that "can be quickly validated because they do not require too many
weight changes affecting too many previous tasks". Not checked (we could not read the full
texts): the SLIM RNN's sizes and activation rule, the experiments' task definitions, their
modification search and every number.

The framework (Schmidhuber 2011, in its symbols): a solver s_i (a program) has solved
the tasks T_1 .. T_i. Step i+1 searches pairs (T, q) of a new task T and a solver modification q
(s_{i+1} = q(s_i)) and accepts the first pair with

    (1) s_i does not solve T,  (2) s_{i+1} solves T,  (3) s_{i+1} solves T_1 .. T_i,

ordered by a bias-optimal (Levin-style) time-sharing over the pairs, so that pairs that are short
to describe and quick to validate come first. Validation (3) need not re-test every old task:
an old task whose computation does not read anything q changed is provably still solved, so
only the tasks whose computation q touches are re-tested (the dependency record).

The solver here: a small self-delimiting net of binary threshold units in winner-take-all groups
(after the SLIM RNN of the experiments). Sources are the n_in input units and the n_hid hidden
units; destinations are the hidden units, the n_out output units (one WTA group) and the halt
unit; W has shape (n_in + n_hid, n_hid + n_out + 1). With a_i(t) in {0, 1}:

    net_j(t) = sum_i W_ij a_i(t - 1)                                  t >= 1            (1)
    a_j(t)   = 1 iff j = argmax_{j' in G(j)} net_j'(t) and net_j(t) > 0  (WTA group G)   (2)
    halt(t)  = [net_halt(t) > 0];  the run stops at the first such t <= T_max            (3)
    U(T)     = {i : a_i(t) = 1 for some 0 <= t < t_halt}              (the used sources)   (4)

The inputs a_i(t), i < n_in, are set by the environment at every t (hidden units start at 0).
Because (1) reads only rows of active units, a modification q that changes only rows outside
U(T) leaves the whole run on T unchanged: only tasks with U(T) meeting q's rows are re-tested
(`dependent_tasks`). The outcome at t_halt is the active output unit (pattern tasks: the class)
or the fovea's position (fovea tasks: the output units are the motor commands up, down, left,
right, applied after every step that does not halt; the inputs are the fovea's view, two units
per pixel, "on" and "off", none for pixels outside the image).

The search (`search_pair`, one numba kernel): a randomized form of Levin search. Each candidate
is a triple (T, q, j) drawn from the prior

    P(T) (the domain's task prior) * P(q | T) * P(l),   time limit t_l = T0 * 2^l,

where q is a list of k weight changes W_ij <- v, P(k) = 2^-k truncated at k_max (the last k
takes the remaining mass), each change's source i uniform over U_old(T) (the sources active when
the old solver runs T) plus the hidden units that earlier changes of q target (so a chain through
fresh hidden units can be built), its target j uniform over all destinations and v uniform over
``values``; P(l) = 2^-(l+1) truncated at l_max (``max_doublings``). The candidate's cost is every
net step it runs: s_i on T, s_{i+1} on T and the re-tested old tasks, cut at t_l. A pair with
test time t <= T0 2^l_max and probability p is drawn with a sufficient limit with probability
at least about p T0 / (2t), and a draw costs on average at most T0 (l_max / 2 + 1) steps, so the
expected search time is within a factor of about l_max + 2 of Levin's t / p. Every task has a
non-empty U_old(T) here (patterns are non-zero, the fovea always sees pixels).

Why a net and not programs of the OOPS machine (`rnnai.search`): the experiments' solver is a
net, and a net gives an exact, cheap dependency record: Eq. 4 is a by-product of the run, and
the argument above shows that weights outside it cannot change the run. OOPS keeps solved
programs as frozen prefixes of one growing tape and only appends, so its solver is never
modified in place; a PowerPlay on it would need a solver that rewrites shared code, with a
record of the tape cells each task reads, which is more machinery for the same test.

Choices where the papers are silent or that are ours, and deviations:

* The solver is a small WTA threshold net, not the SLIM RNN of Srivastava et al. (its sizes,
  activation rules and connection costs were not checked; the search here has no "wow-effect"
  compression tasks, only new tasks).
* q's prior is conditioned on T's old trace (sources are units the new task activates), our
  choice for a fast inventor; the papers' modification search was not checked.
* Weights take values from a small set (default -2, -1, 1, 2) and start at 0 (no connections):
  the solver starts from scratch and solves nothing.
* Deterministic per seed: random numbers come from splitmix64 inside the kernel, one stream per
  PowerPlay step, so a run resumes exactly after any completed step.

Examples:
    >>> dom = pattern_domain(n_bits=3, n_classes=2)
    >>> net = SlimConfig(n_in=3, n_hidden=2, group=2, n_out=2, max_steps=4)
    >>> pp = PowerPlay(dom, net, PowerPlayConfig(), seed=0)
    >>> rec = pp.step()
    >>> rec is not None and pp.solves(rec.task) and rec.retested == 0
    True
    >>> W = np.zeros((net.n_src, net.n_dst))
    >>> W[0, 2] = 2.0; W[0, 4] = 1.0  # input 0 -> class unit 0, input 0 -> halt
    >>> dom.describe(0)
    'classify 001 as 0'
    >>> run_task(W, net, dom, 0)  # (class, steps, used sources)
    (0, 1, [0])
    >>> dependent_tasks(np.array([[True, False], [False, True]]), [1]).tolist()
    [False, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.jit import njit

__all__ = [
    "FOVEA",
    "PATTERNS",
    "Domain",
    "PowerPlay",
    "PowerPlayConfig",
    "SlimConfig",
    "StepRecord",
    "dependent_tasks",
    "fovea_domain",
    "modification_bits",
    "pattern_domain",
    "random_image",
    "run_task",
    "search_pair",
]

PATTERNS = 0
"""Domain kind of self-invented pattern-classification tasks."""
FOVEA = 1
"""Domain kind of fovea motor tasks on a static image."""


@dataclass(frozen=True, kw_only=True)
class SlimConfig:
    """Sizes of the self-delimiting WTA net.

    Attributes:
        n_in: Input units (pattern bits, or 2 per fovea pixel).
        n_hidden: Hidden units, a multiple of ``group``.
        group: Size of each hidden winner-take-all group.
        n_out: Output units (classes, or the 4 motor commands), one WTA group.
        max_steps: T_max, the steps a run may take before it counts as not halting.
        values: The values a weight change may set.
    """

    n_in: int
    n_hidden: int
    group: int
    n_out: int
    max_steps: int
    values: tuple[float, ...] = (-2.0, -1.0, 1.0, 2.0)

    def __post_init__(self) -> None:
        if min(self.n_in, self.n_out, self.max_steps, self.group) < 1 or self.n_hidden < 0:
            raise RnnaiError(f"SlimConfig needs positive sizes, got {self}")
        if self.n_hidden % self.group:
            raise RnnaiError(f"n_hidden must be a multiple of group, got {self.n_hidden} and "
                             f"{self.group}")  # fmt: skip
        if not self.values or 0.0 in self.values:
            raise RnnaiError(f"values must be non-empty and non-zero, got {self.values}")

    @property
    def n_src(self) -> int:
        """Source units: inputs then hidden (rows of W)."""
        return self.n_in + self.n_hidden

    @property
    def n_dst(self) -> int:
        """Destination units: hidden, outputs, halt (columns of W)."""
        return self.n_hidden + self.n_out + 1

    def dims(self) -> np.ndarray:
        """The kernel's int64 layout [n_in, n_hidden, group, n_out, max_steps]."""
        return np.array([self.n_in, self.n_hidden, self.group, self.n_out, self.max_steps],
                        dtype=np.int64)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PowerPlayConfig:
    """The search's prior and budget.

    Attributes:
        max_changes: k_max, the most weight changes of one modification.
        base_time: T0, the time limit (net steps) of the shortest candidates.
        max_doublings: l_max, the most doublings of the time limit.
        max_candidates: Candidates tried in one step before the step gives up.
        track_dependencies: Re-test only the tasks whose used sources a change touches
            (False: re-test every old task, the baseline).
    """

    max_changes: int = 4
    base_time: int = 16
    max_doublings: int = 6
    max_candidates: int = 5_000_000
    track_dependencies: bool = True

    def __post_init__(self) -> None:
        if self.max_changes < 1 or self.base_time < 1 or self.max_doublings < 0:
            raise RnnaiError(f"PowerPlayConfig needs max_changes, base_time >= 1 and "
                             f"max_doublings >= 0, got {self}")  # fmt: skip
        if self.max_candidates < 1:
            raise RnnaiError(f"max_candidates must be >= 1, got {self.max_candidates}")


@dataclass(frozen=True, kw_only=True, eq=False)
class Domain:
    """A task space with its prior (build with `pattern_domain` or `fovea_domain`).

    Attributes:
        kind: `PATTERNS` or `FOVEA`.
        tasks: (n_tasks, 2) int64: (pattern, class) or (start cell, goal cell).
        prior: (n_tasks,) float64 task probabilities P(T), summing to 1.
        complexity: (n_tasks,) int64: ones in the pattern, or the Manhattan start-goal distance.
        patterns: (n_patterns, n_bits) uint8 (an empty (1, 1) array for the fovea).
        image: (H, W) uint8 static image (an empty (1, 1) array for patterns).
        view: Side of the fovea's square view (odd; 1 for patterns).
    """

    kind: int
    tasks: np.ndarray
    prior: np.ndarray
    complexity: np.ndarray
    patterns: np.ndarray
    image: np.ndarray
    view: int

    @property
    def n_inputs(self) -> int:
        """Input units the domain feeds: bits, or 2 per view pixel."""
        return int(self.patterns.shape[1]) if self.kind == PATTERNS else 2 * self.view**2

    def describe(self, index: int) -> str:
        """A task in words."""
        a, b = (int(v) for v in self.tasks[index])
        if self.kind == PATTERNS:
            bits = "".join(str(int(v)) for v in self.patterns[a][::-1])
            return f"classify {bits} as {b}"
        w = self.image.shape[1]
        return f"fovea ({a // w},{a % w}) -> ({b // w},{b % w})"


def pattern_domain(*, n_bits: int, n_classes: int) -> Domain:
    """Tasks "classify pattern x as class c" for every non-zero pattern of ``n_bits`` bits.

    Prior: P(x, c) = 2^-m(x) / (Z C(n, m(x)) n_classes) with m(x) the ones of x (patterns with few
    ones are simpler), Z normalising over m = 1..n.
    """
    if not 1 <= n_bits <= 12 or n_classes < 2:
        raise RnnaiError(f"pattern_domain needs 1 <= n_bits <= 12 and n_classes >= 2, got "
                         f"{n_bits}, {n_classes}")  # fmt: skip
    codes = np.arange(1, 2**n_bits, dtype=np.int64)
    pats = ((codes[:, None] >> np.arange(n_bits)) & 1).astype(np.uint8)  # (P, n) bit b of code
    m = pats.sum(axis=1).astype(np.int64)
    z = sum(2.0**-k for k in range(1, n_bits + 1))
    p_pat = np.array([2.0**-k / (z * math.comb(n_bits, int(k))) for k in m])
    tasks = np.stack(np.meshgrid(np.arange(len(pats)), np.arange(n_classes), indexing="ij"),
                     axis=-1).reshape(-1, 2).astype(np.int64)  # fmt: skip
    prior = p_pat[tasks[:, 0]] / n_classes
    return Domain(kind=PATTERNS, tasks=tasks, prior=prior / prior.sum(),
                  complexity=m[tasks[:, 0]], patterns=pats,
                  image=np.zeros((1, 1), np.uint8), view=1)  # fmt: skip


def random_image(
    rng: np.random.Generator, height: int, width: int, density: float = 0.5
) -> np.ndarray:
    """A static binary image, each pixel on with probability ``density``."""
    if height < 2 or width < 2 or not 0.0 < density < 1.0:
        raise RnnaiError(
            f"random_image needs sides >= 2 and 0 < density < 1, got {height}x{width}, {density}"
        )
    return (rng.random((height, width)) < density).astype(np.uint8)


def fovea_domain(image: np.ndarray, *, view: int) -> Domain:
    """Tasks "from start cell s, move the fovea to cell g and halt there" on a static image.

    Prior: P(s, g) = 1/(H W) * 2^-d(s,g) / Z_s with d the Manhattan distance (nearby goals are
    simpler), Z_s normalising over the goals inside the image.
    """
    img = np.asarray(image, dtype=np.uint8)
    if img.ndim != 2 or view < 1 or view % 2 == 0:
        raise RnnaiError(f"fovea_domain needs a 2-D image and an odd view, got shape {img.shape}, "
                         f"view {view}")  # fmt: skip
    h, w = img.shape
    cells = np.arange(h * w, dtype=np.int64)
    s, g = np.meshgrid(cells, cells, indexing="ij")  # (HW, HW)
    d = np.abs(s // w - g // w) + np.abs(s % w - g % w)
    p = 2.0 ** -d.astype(np.float64)
    p = p / p.sum(axis=1, keepdims=True) / (h * w)
    tasks = np.stack([s.ravel(), g.ravel()], axis=-1).astype(np.int64)
    return Domain(kind=FOVEA, tasks=tasks, prior=p.ravel() / p.sum(), complexity=d.ravel(),
                  patterns=np.zeros((1, 1), np.uint8), image=img, view=view)  # fmt: skip


# ----------------------------------------------------------------------------- the kernels
@njit(cache=True)
def _uniform(rng: np.ndarray) -> float:
    """splitmix64: advance ``rng`` (1,) uint64 in place and return a uniform in [0, 1)."""
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _set_inputs(act: np.ndarray, kind: int, pats: np.ndarray, image: np.ndarray, view: int,
                a: int, pos: int) -> None:  # fmt: skip
    if kind == 0:
        for i in range(pats.shape[1]):
            act[i] = pats[a, i] == 1
        return
    h, w = image.shape
    r0, c0, half = pos // w, pos % w, view // 2
    k = 0
    for dr in range(-half, half + 1):
        for dc in range(-half, half + 1):
            r, c = r0 + dr, c0 + dc
            inside = 0 <= r < h and 0 <= c < w
            act[2 * k] = inside and image[r, c] == 1
            act[2 * k + 1] = inside and image[r, c] == 0
            k += 1


@njit(cache=True)
def _run(W: np.ndarray, dims: np.ndarray, kind: int, pats: np.ndarray, image: np.ndarray,
         view: int, a: int, used: np.ndarray) -> tuple[int, int]:  # fmt: skip
    """Run the net on task input ``a``; fill ``used`` (Eq. 4); return (outcome, steps)."""
    n_in, n_hid, grp, n_out, t_max = dims[0], dims[1], dims[2], dims[3], dims[4]
    n_src, n_dst = n_in + n_hid, n_hid + n_out + 1
    act = np.zeros(n_src, dtype=np.bool_)
    net = np.zeros(n_dst)
    used[:] = False
    pos = a
    _set_inputs(act, kind, pats, image, view, a, pos)
    w = image.shape[1]
    for t in range(1, t_max + 1):
        net[:] = 0.0
        for i in range(n_src):
            if act[i]:
                used[i] = True
                net += W[i]  # Eq. 1
        for g0 in range(0, n_hid, grp):  # Eq. 2, hidden WTA groups
            best = g0
            for j in range(g0 + 1, g0 + grp):
                if net[j] > net[best]:
                    best = j
            for j in range(g0, g0 + grp):
                act[n_in + j] = j == best and net[j] > 0.0
        out = -1
        for j in range(n_out):  # Eq. 2, the output group
            if net[n_hid + j] > 0.0 and (out < 0 or net[n_hid + j] > net[n_hid + out]):
                out = j
        if net[n_dst - 1] > 0.0:  # Eq. 3
            return (out if kind == 0 else pos), t
        if kind == 1 and out >= 0:
            r, c = pos // w, pos % w
            if out == 0 and r > 0:
                pos -= w
            elif out == 1 and r < image.shape[0] - 1:
                pos += w
            elif out == 2 and c > 0:
                pos -= 1
            elif out == 3 and c < w - 1:
                pos += 1
        _set_inputs(act, kind, pats, image, view, a, pos)
    return -1, t_max


@njit(cache=True)
def _search(W: np.ndarray, dims: np.ndarray, kind: int, pats: np.ndarray, image: np.ndarray,
            view: int, values: np.ndarray, tasks: np.ndarray, cdf: np.ndarray,
            rep: np.ndarray, used: np.ndarray, track: bool, rng: np.ndarray,
            params: np.ndarray, changes: np.ndarray, retested: np.ndarray,
            stats: np.ndarray) -> None:  # fmt: skip
    k_max, t0, l_max, max_cand = params[0], params[1], params[2], params[3]
    n_in, n_hid, n_out = dims[0], dims[1], dims[3]
    n_src, n_dst = n_in + n_hid, n_hid + n_out + 1
    n_val, n_rep = values.shape[0], rep.shape[0]
    u_old = np.zeros(n_src, dtype=np.bool_)
    u_tmp = np.zeros(n_src, dtype=np.bool_)
    pool = np.zeros(n_src, dtype=np.int64)
    saved = np.zeros(k_max)
    spent = 0
    for cand in range(1, max_cand + 1):
        u = _uniform(rng)
        ti = min(np.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1)
        a, b = tasks[ti, 0], tasks[ti, 1]
        l = 0
        while l < l_max and _uniform(rng) < 0.5:
            l += 1
        limit = t0 * (2**l)
        out, cost = _run(W, dims, kind, pats, image, view, a, u_old)  # condition (1)
        if out == b or cost > limit:
            spent += min(cost, limit)
            continue
        k = 1
        while k < k_max and _uniform(rng) < 0.5:
            k += 1
        n_pool = 0
        for i in range(n_src):
            if u_old[i]:
                pool[n_pool] = i
                n_pool += 1
        for c in range(k):
            i = pool[min(int(_uniform(rng) * n_pool), n_pool - 1)]
            jd = min(int(_uniform(rng) * n_dst), n_dst - 1)
            v = values[min(int(_uniform(rng) * n_val), n_val - 1)]
            changes[c, 0], changes[c, 1], changes[c, 2], changes[c, 3] = i, jd, v, n_pool
            saved[c] = W[i, jd]
            W[i, jd] = v
            if jd < n_hid:
                new = True
                for q in range(n_pool):
                    if pool[q] == n_in + jd:
                        new = False
                if new:
                    pool[n_pool] = n_in + jd
                    n_pool += 1
        out, c1 = _run(W, dims, kind, pats, image, view, a, u_tmp)  # condition (2)
        cost += c1
        ok = out == b and cost <= limit
        n_re = 0
        if ok:
            for r in range(n_rep):  # condition (3), only where the change touches U(T_r)
                dep = not track
                if track:
                    for c in range(k):
                        if used[r, int(changes[c, 0])]:
                            dep = True
                retested[r] = dep
                if not dep:
                    continue
                n_re += 1
                out_r, c_r = _run(W, dims, kind, pats, image, view, tasks[rep[r], 0], u_tmp)
                cost += c_r
                if out_r != tasks[rep[r], 1] or cost > limit:
                    ok = False
                    break
        for c in range(k - 1, -1, -1):  # leave W as it was
            W[int(changes[c, 0]), int(changes[c, 1])] = saved[c]
        spent += min(cost, limit)
        if ok:
            stats[0], stats[1], stats[2], stats[3] = 1, ti, k, l
            stats[4], stats[5], stats[6], stats[7] = cand, spent, n_re, c1
            return
    stats[0], stats[4], stats[5] = 0, max_cand, spent


# ----------------------------------------------------------------------------- Python side
def _check_task(domain: Domain, index: int) -> None:
    if not 0 <= index < len(domain.tasks):
        raise RnnaiError(f"task index must be in [0, {len(domain.tasks)}), got {index}")


def _check_net(W: np.ndarray, net: SlimConfig, domain: Domain) -> None:
    if net.n_in != domain.n_inputs:
        raise RnnaiError(f"the net needs n_in = {domain.n_inputs} for this domain, got {net.n_in}")
    if domain.kind == FOVEA and net.n_out != 4:
        raise RnnaiError(f"fovea tasks need n_out = 4 motor units, got {net.n_out}")
    if W.shape != (net.n_src, net.n_dst):
        raise RnnaiError(f"W must have shape {(net.n_src, net.n_dst)}, got {W.shape}")


def run_task(
    W: np.ndarray, net: SlimConfig, domain: Domain, index: int
) -> tuple[int, int, list[int]]:
    """Run the net on one task (Eqs. 1-4).

    Args:
        W: (n_src, n_dst) weights.
        net: The net's sizes.
        domain: The task space.
        index: The task's row in ``domain.tasks``.

    Returns:
        (outcome, steps, used sources): the class (patterns) or final cell (fovea) at the halt,
        -1 when the net did not halt within T_max (or no class unit was active), the steps run,
        and the sorted sources active before the halt.
    """
    W = np.ascontiguousarray(W, dtype=np.float64)
    _check_net(W, net, domain)
    _check_task(domain, index)
    used = np.zeros(net.n_src, dtype=np.bool_)
    out, steps = _run(W, net.dims(), domain.kind, domain.patterns, domain.image, domain.view,
                      int(domain.tasks[index, 0]), used)  # fmt: skip
    return int(out), int(steps), [int(i) for i in np.flatnonzero(used)]


def dependent_tasks(used: np.ndarray, rows: list[int] | np.ndarray) -> np.ndarray:
    """Old tasks whose computation reads a changed row: ``used[r, i]`` for some changed row i.

    Args:
        used: (R, n_src) bool, the used sources of each solved task (Eq. 4).
        rows: The source rows a modification changes.

    Returns:
        (R,) bool, the tasks to re-test.
    """
    u = np.asarray(used, dtype=bool)
    idx = np.asarray(rows, dtype=np.int64)
    if u.ndim != 2 or (idx.size and (idx.min() < 0 or idx.max() >= u.shape[1])):
        raise RnnaiError(f"dependent_tasks needs (R, n_src) used and rows in [0, n_src), got "
                         f"shape {u.shape} and rows {idx.tolist()}")  # fmt: skip
    if not idx.size:
        return np.zeros(len(u), dtype=bool)
    return np.asarray(u[:, idx].any(axis=1), dtype=bool)


def modification_bits(pools: list[int], *, n_dst: int, n_values: int, max_changes: int) -> float:
    """-log2 P(q | T) of a modification whose changes drew sources from pools of these sizes."""
    k = len(pools)
    if not 1 <= k <= max_changes or min(pools) < 1:
        raise RnnaiError(f"a modification has 1 .. {max_changes} changes from non-empty pools, got "
                         f"{pools}")  # fmt: skip
    bits_k = float(k if k < max_changes else max_changes - 1)  # truncated geometric
    return bits_k + sum(math.log2(p * n_dst * n_values) for p in pools)


def search_pair(
    W: np.ndarray,
    net: SlimConfig,
    domain: Domain,
    repertoire: list[int],
    used: np.ndarray,
    config: PowerPlayConfig,
    seed: int,
) -> dict[str, Any] | None:
    """One PowerPlay step's search: the first acceptable (task, modification) pair.

    Args:
        W: The current solver's weights (not changed).
        net: The net's sizes.
        domain: The task space and prior.
        repertoire: Indices of the tasks solved so far.
        used: (len(repertoire), n_src) bool, their used sources.
        config: Prior and budget.
        seed: The step's random stream.

    Returns:
        None when ``max_candidates`` gave no pair; else a dict with ``task``, ``changes`` (list
        of [row, col, value, pool size]), ``doublings``, ``candidates``, ``search_steps``,
        ``retested`` and ``retested_mask`` (which old tasks were re-tested), ``task_steps``.
    """
    Wc = np.array(W, dtype=np.float64, order="C")
    _check_net(Wc, net, domain)
    rep = np.asarray(repertoire, dtype=np.int64).reshape(-1)
    u = np.ascontiguousarray(used, dtype=np.bool_).reshape(len(rep), net.n_src)
    rng = np.array([np.uint64(seed % 2**64)], dtype=np.uint64)
    changes = np.zeros((config.max_changes, 4))
    retested = np.zeros(len(rep), dtype=np.bool_)
    stats = np.zeros(8, dtype=np.int64)
    params = np.array([config.max_changes, config.base_time, config.max_doublings,
                       config.max_candidates], dtype=np.int64)  # fmt: skip
    cdf = np.cumsum(domain.prior)
    _search(Wc, net.dims(), domain.kind, domain.patterns, domain.image, domain.view,
            np.asarray(net.values, dtype=np.float64), domain.tasks, cdf, rep, u,
            config.track_dependencies, rng, params, changes, retested, stats)  # fmt: skip
    if not stats[0]:
        return None
    k = int(stats[2])
    return {
        "task": int(stats[1]),
        "changes": [[int(c[0]), int(c[1]), float(c[2]), int(c[3])] for c in changes[:k]],
        "doublings": int(stats[3]),
        "candidates": int(stats[4]),
        "search_steps": int(stats[5]),
        "retested": int(stats[6]),
        "retested_mask": retested.copy(),
        "task_steps": int(stats[7]),
    }


@dataclass(frozen=True, kw_only=True)
class StepRecord:
    """One accepted PowerPlay step.

    Attributes:
        step: 1-based index of the step (= repertoire size after it).
        task: The new task's index in the domain.
        description: The task in words.
        complexity: The domain's complexity of the task (pattern ones, fovea distance).
        task_bits: -log2 P(T).
        modification_bits: -log2 P(q | T).
        changes: [row, col, value] of each weight change.
        weights_changed: Distinct weights whose value changed.
        reuse: Fraction of all weights left unchanged.
        task_steps: Net steps the new solver takes on the new task.
        used_sources: Sources the new task's computation reads.
        candidates: Candidates tried in the step.
        search_steps: Net steps the step's search spent (all candidates).
        retested: Old tasks re-tested for the accepted pair (with the configured tracking).
        retested_without_tracking: Old tasks a search without tracking re-tests (all of them).
    """

    step: int
    task: int
    description: str
    complexity: int
    task_bits: float
    modification_bits: float
    changes: list[list[float]]
    weights_changed: int
    reuse: float
    task_steps: int
    used_sources: int
    candidates: int
    search_steps: int
    retested: int
    retested_without_tracking: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(eq=False)
class PowerPlay:
    """The PowerPlay loop on a WTA net: `step` adds one self-invented task to the repertoire.

    Attributes:
        domain: The task space.
        net: The net's sizes.
        config: The search's prior and budget.
        seed: Seed of the run (each step derives its own stream).
        W: The current solver's weights.
        repertoire: Task indices solved so far, in the order they were added.
        used: (len(repertoire), n_src) bool, each task's used sources (Eq. 4).
        history: The accepted steps.
    """

    domain: Domain
    net: SlimConfig
    config: PowerPlayConfig
    seed: int
    W: np.ndarray = field(init=False)
    repertoire: list[int] = field(default_factory=list)
    used: np.ndarray = field(init=False)
    history: list[StepRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.W = np.zeros((self.net.n_src, self.net.n_dst))
        self.used = np.zeros((0, self.net.n_src), dtype=bool)
        _check_net(self.W, self.net, self.domain)

    def solves(self, index: int) -> bool:
        """Whether the current solver solves task ``index`` (a fresh run)."""
        out, _, _ = run_task(self.W, self.net, self.domain, index)
        return out == int(self.domain.tasks[index, 1])

    def step(self) -> StepRecord | None:
        """Search the next (task, modification) pair and accept it.

        Returns:
            The step's record, or None when the search gave up (``max_candidates``).
        """
        n = len(self.repertoire)
        found = search_pair(self.W, self.net, self.domain, self.repertoire, self.used,
                            self.config, seed=_step_seed(self.seed, n))  # fmt: skip
        if found is None:
            return None
        before = self.W.copy()
        for i, j, v, _ in found["changes"]:
            self.W[i, j] = v
        changed = int(np.count_nonzero(self.W != before))
        mask = found["retested_mask"]
        for r in np.flatnonzero(mask):  # re-tested tasks may now read other sources
            self.used[r] = _used_mask(run_task(self.W, self.net, self.domain,
                                               self.repertoire[r])[2], self.net.n_src)  # fmt: skip
        t = found["task"]
        out, steps, used_t = run_task(self.W, self.net, self.domain, t)
        self.repertoire.append(t)
        self.used = np.vstack([self.used, _used_mask(used_t, self.net.n_src)[None]])
        rec = StepRecord(
            step=n + 1,
            task=t,
            description=self.domain.describe(t),
            complexity=int(self.domain.complexity[t]),
            task_bits=float(-math.log2(self.domain.prior[t])),
            modification_bits=modification_bits(
                [c[3] for c in found["changes"]],
                n_dst=self.net.n_dst,
                n_values=len(self.net.values),
                max_changes=self.config.max_changes,
            ),  # fmt: skip
            changes=[[float(c[0]), float(c[1]), float(c[2])] for c in found["changes"]],
            weights_changed=changed,
            reuse=1.0 - changed / self.W.size,
            task_steps=int(steps),
            used_sources=len(used_t),
            candidates=found["candidates"],
            search_steps=found["search_steps"],
            retested=found["retested"],
            retested_without_tracking=n,
        )
        self.history.append(rec)
        return rec

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (weights are exact small numbers)."""
        return {
            "W": self.W.tolist(),
            "repertoire": list(self.repertoire),
            "used": self.used.astype(int).tolist(),
            "history": [r.to_dict() for r in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict`.

        Raises:
            RnnaiError: If the weights' shape does not fit the net.
        """
        W = np.asarray(state["W"], dtype=np.float64)
        if W.shape != self.W.shape:
            raise RnnaiError(f"state has weights of shape {W.shape}, the net needs {self.W.shape}")
        self.W = W
        self.repertoire = [int(t) for t in state["repertoire"]]
        self.used = np.asarray(state["used"], dtype=bool).reshape(len(self.repertoire), -1)
        self.history = [StepRecord(**r) for r in state["history"]]


def _used_mask(used: list[int], n_src: int) -> np.ndarray:
    m = np.zeros(n_src, dtype=bool)
    m[used] = True
    return m


def _step_seed(seed: int, step: int) -> int:
    from rnnai.runtime.seeding import derive_seed

    return int(derive_seed(seed, "powerplay", step))
