"""Numba kernels of the CTC decoders, each beside its plain-Python twin.

Every kernel takes one utterance's log-probabilities ``logp`` ``(T, C)`` float64 plus arrays and
scalars, and works in log space throughout. Each ``name`` kernel has a ``name_py`` twin written
the textbook way (Python lists, dicts keyed by label tuples, heapq); tests hold the two against
each other. The algorithms and their papers are described in the public modules that call them
(`rnnai.ctc.reference`, `prefix_search`, `beam`, `token_passing`, `keyword`).

Speed notes for the prefix beam search kernel: prefixes are nodes of a tree (parent index,
last label), never strings or tuples, one node per prefix through a hash of (parent, label); an
extension that is already in the beam is found in O(1) through a per-step
``(beam index, label) -> beam index`` table. The beam best are selected in a min-heap of ``beam``
(score, code) pairs, seeded with the kept prefixes (they arrive nearly sorted, so the heap is
built in O(K)); its root is the score a candidate must beat. Extensions are bounded before they
are scored: the frame's labels that can enter at all (``ln y^t_c`` above the root score minus the
best prefix's bound) are sorted best first, a prefix whose best extension cannot enter is skipped,
and a prefix's label loop stops at the first label that cannot enter. On peaky input most prefixes
and labels are dismissed by one comparison. Ties are broken by the candidate's code (kept prefix
``j``, or ``K + i C + c`` for prefix ``i`` and label ``c``), the textbook order of the twin, so
the bounds change only the work, never the result. Nothing is allocated per frame; the node
arrays start with room for 16 frames' worth of new prefixes and double (with the hash table) when
full, so a short or peaky utterance touches little memory.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from rnnai.runtime.jit import njit

NEG_INF = -math.inf


# ---------------------------------------------------------------------------------------------
# log-space helpers (the twins use the same formulas; these are not kernels on their own)


def logaddexp_py(a: float, b: float) -> float:
    """``ln(e^a + e^b)`` without overflow."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def logsubexp_py(a: float, b: float) -> float:
    """``ln(e^a - e^b)`` for ``a >= b``; ``-inf`` where rounding makes ``b >= a``."""
    if b == NEG_INF:
        return a
    d = math.exp(b - a)
    if d >= 1.0:
        return NEG_INF
    return a + math.log1p(-d)


_lae = njit(cache=True, inline="always")(logaddexp_py)
_lse = njit(cache=True, inline="always")(logsubexp_py)


# ---------------------------------------------------------------------------------------------
# CTC forward pass (Graves et al. 2006, Eqs. 5-8, in log space)


@njit(cache=True)
def ctc_forward(logp: np.ndarray, labels: np.ndarray, blank: int) -> float:
    """``ln p(labels | x)`` by the CTC forward recursion over the blank-augmented labelling."""
    T = logp.shape[0]
    L = labels.shape[0]
    S = 2 * L + 1
    if T == 0:
        return 0.0 if L == 0 else NEG_INF
    a = np.full(S, NEG_INF)
    b = np.empty(S)
    a[0] = logp[0, blank]
    if L > 0:
        a[1] = logp[0, labels[0]]
    for t in range(1, T):
        for s in range(S):
            v = a[s]
            if s >= 1:
                v = _lae(v, a[s - 1])
            if s % 2 == 1:
                lab = labels[(s - 1) // 2]
                if s >= 3 and labels[(s - 3) // 2] != lab:
                    v = _lae(v, a[s - 2])
            else:
                lab = blank
            b[s] = v + logp[t, lab]
        a, b = b, a
    if L == 0:
        return a[0]
    return _lae(a[S - 1], a[S - 2])


def ctc_forward_py(logp: np.ndarray, labels: np.ndarray, blank: int) -> float:
    """Twin of `ctc_forward`: alpha_t(s) over l' = (b, l_1, b, ..., l_L, b), Python lists."""
    T = logp.shape[0]
    lp = [blank]
    for k in labels:
        lp += [int(k), blank]
    if T == 0:
        return 0.0 if len(labels) == 0 else NEG_INF
    alpha = [NEG_INF] * len(lp)
    alpha[0] = float(logp[0, blank])
    if len(lp) > 1:
        alpha[1] = float(logp[0, lp[1]])
    for t in range(1, T):
        prev = alpha
        alpha = []
        for s, k in enumerate(lp):
            v = prev[s]
            if s >= 1:
                v = logaddexp_py(v, prev[s - 1])
            if k != blank and s >= 2 and lp[s - 2] != k:
                v = logaddexp_py(v, prev[s - 2])
            alpha.append(v + float(logp[t, k]))
    return alpha[-1] if len(lp) == 1 else logaddexp_py(alpha[-1], alpha[-2])


# ---------------------------------------------------------------------------------------------
# Graves' best-first prefix search (Graves et al. 2006, Sec. 3.2; Graves 2012, Alg. 7.1)


@njit(cache=True)
def _heap_push(heap: np.ndarray, size: int, key: np.ndarray, node: int) -> int:
    i = size
    heap[i] = node
    while i > 0:
        p = (i - 1) // 2
        if key[heap[p]] >= key[heap[i]]:
            break
        heap[p], heap[i] = heap[i], heap[p]
        i = p
    return size + 1


@njit(cache=True)
def _heap_pop(heap: np.ndarray, size: int, key: np.ndarray) -> int:
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        l = 2 * i + 1
        r = l + 1
        m = i
        if l < size and key[heap[l]] > key[heap[m]]:
            m = l
        if r < size and key[heap[r]] > key[heap[m]]:
            m = r
        if m == i:
            break
        heap[m], heap[i] = heap[i], heap[m]
        i = m
    return size


@njit(cache=True)
def prefix_search(
    logp: np.ndarray, blank: int, max_expansions: int
) -> tuple[np.ndarray, float, bool]:
    """Best-first prefix search: (labelling, ln p(labelling | x), search finished)."""
    T, C = logp.shape
    if T == 0:
        return np.zeros(0, np.int64), 0.0, True
    cap = 64
    gn = np.full((cap, T), NEG_INF)  # gamma_t(p_n): prefix output by t, last frame non-blank
    gb = np.full((cap, T), NEG_INF)  # gamma_t(p_b): prefix output by t, last frame blank
    parent = np.full(cap, -1, np.int64)
    last = np.full(cap, -1, np.int64)
    lp = np.full(cap, NEG_INF)  # ln P(p | x)
    lext = np.full(cap, NEG_INF)  # ln P(p... | x): labellings that strictly extend p
    acc = 0.0
    for t in range(T):
        acc += logp[t, blank]
        gb[0, t] = acc
    lp[0] = gb[0, T - 1]
    lext[0] = _lse(0.0, lp[0])  # P(empty...) = 1 - P(empty)
    n = 1
    best = 0
    heap = np.empty(cap, np.int64)
    hsize = 0
    pstar = 0
    expansions = 0
    finished = True
    while lext[pstar] > lp[best]:
        if expansions >= max_expansions:
            finished = False
            break
        expansions += 1
        remaining = lext[pstar]
        for k in range(C):
            if k == blank:
                continue
            if n == cap:  # grow every per-node array
                cap *= 2
                gn2 = np.full((cap, T), NEG_INF)
                gb2 = np.full((cap, T), NEG_INF)
                gn2[:n] = gn[:n]
                gb2[:n] = gb[:n]
                gn, gb = gn2, gb2
                parent = np.concatenate((parent, np.full(cap - n, -1, np.int64)))
                last = np.concatenate((last, np.full(cap - n, -1, np.int64)))
                lp = np.concatenate((lp, np.full(cap - n, NEG_INF)))
                lext = np.concatenate((lext, np.full(cap - n, NEG_INF)))
                heap = np.concatenate((heap, np.empty(cap - n, np.int64)))
            i = n
            parent[i] = pstar
            last[i] = k
            gn[i, 0] = logp[0, k] if pstar == 0 else NEG_INF
            gb[i, 0] = NEG_INF
            prefix = gn[i, 0]
            for t in range(1, T):
                if last[pstar] == k:
                    new_label = gb[pstar, t - 1]
                else:
                    new_label = _lae(gb[pstar, t - 1], gn[pstar, t - 1])
                gn[i, t] = _lae(gn[i, t - 1], new_label) + logp[t, k]
                gb[i, t] = _lae(gb[i, t - 1], gn[i, t - 1]) + logp[t, blank]
                prefix = _lae(prefix, new_label + logp[t, k])
            lp[i] = _lae(gn[i, T - 1], gb[i, T - 1])
            lext[i] = _lse(prefix, lp[i])
            remaining = _lse(remaining, prefix)
            keep = False
            if lp[i] > lp[best]:
                best = i
                keep = True
            if lext[i] > lp[best]:
                hsize = _heap_push(heap, hsize, lext, i)
                keep = True
            if keep:
                n += 1
            if remaining <= lp[best]:
                break
        if hsize == 0:
            break
        pstar = heap[0]
        hsize = _heap_pop(heap, hsize, lext)
    depth = 0
    i = best
    while i != 0:
        depth += 1
        i = parent[i]
    out = np.empty(depth, np.int64)
    i = best
    while i != 0:
        depth -= 1
        out[depth] = last[i]
        i = parent[i]
    return out, lp[best], finished


def prefix_search_py(
    logp: np.ndarray, blank: int, max_expansions: int
) -> tuple[np.ndarray, float, bool]:
    """Twin of `prefix_search`: prefixes as tuples, gammas as lists, a heapq queue."""
    T, C = logp.shape
    if T == 0:
        return np.zeros(0, np.int64), 0.0, True
    y = logp.tolist()
    gamma_b, acc = [], 0.0
    for t in range(T):
        acc += y[t][blank]
        gamma_b.append(acc)
    Prefix = tuple[int, ...]
    gammas: dict[Prefix, tuple[list[float], list[float]]] = {(): ([NEG_INF] * T, gamma_b)}
    P: dict[Prefix, float] = {(): gamma_b[-1]}
    P_ext: dict[Prefix, float] = {(): logsubexp_py(0.0, gamma_b[-1])}
    l_star: Prefix = ()
    p_star: Prefix = ()
    queue: list[tuple[float, int, tuple[int, ...]]] = []
    counter = 0
    expansions = 0
    finished = True
    while P_ext[p_star] > P[l_star]:
        if expansions >= max_expansions:
            finished = False
            break
        expansions += 1
        g_n, g_b = gammas[p_star]
        remaining = P_ext[p_star]
        for k in range(C):
            if k == blank:
                continue
            p = (*p_star, k)
            pn = [y[0][k] if not p_star else NEG_INF]
            pb = [NEG_INF]
            prefix_prob = pn[0]
            for t in range(1, T):
                if p_star and p_star[-1] == k:
                    new_label = g_b[t - 1]
                else:
                    new_label = logaddexp_py(g_b[t - 1], g_n[t - 1])
                pn.append(logaddexp_py(pn[t - 1], new_label) + y[t][k])
                pb.append(logaddexp_py(pb[t - 1], pn[t - 1]) + y[t][blank])
                prefix_prob = logaddexp_py(prefix_prob, new_label + y[t][k])
            P[p] = logaddexp_py(pn[-1], pb[-1])
            P_ext[p] = logsubexp_py(prefix_prob, P[p])
            remaining = logsubexp_py(remaining, prefix_prob)
            if P[p] > P[l_star]:
                l_star = p
            if P_ext[p] > P[l_star]:
                gammas[p] = (pn, pb)
                heapq.heappush(queue, (-P_ext[p], counter, p))
                counter += 1
            if remaining <= P[l_star]:
                break
        if not queue:
            break
        p_star = heapq.heappop(queue)[2]
    return np.array(l_star, dtype=np.int64), P[l_star], finished


# ---------------------------------------------------------------------------------------------
# CTC prefix beam search with an optional character n-gram LM and lexicon trie


@njit(cache=True, inline="always")
def _below(s1: float, c1: int, s2: float, c2: int) -> bool:
    """Candidate (s1, c1) ranks below (s2, c2): lower score, or the same score and a later code
    (codes number candidates in the textbook order, so ties go to the earlier one)."""
    return s1 < s2 or (s1 == s2 and c1 > c2)


@njit(cache=True)
def _sift_down(hs: np.ndarray, hc: np.ndarray, hv: np.ndarray, size: int, i: int) -> None:
    """Restore the min-heap (root = lowest-ranked candidate) below position ``i``."""
    while True:
        m = 2 * i + 1
        if m >= size:
            return
        r = m + 1
        if r < size and _below(hs[r], hc[r], hs[m], hc[m]):
            m = r
        if not _below(hs[m], hc[m], hs[i], hc[i]):
            return
        hs[i], hs[m] = hs[m], hs[i]
        hc[i], hc[m] = hc[m], hc[i]
        hv[i], hv[m] = hv[m], hv[i]
        i = m


@njit(cache=True)
def _offer(
    hs: np.ndarray, hc: np.ndarray, hv: np.ndarray, size: int, keep: int, s: float, code: int,
    v: float,
) -> int:  # fmt: skip
    """Offer a candidate to the heap of the ``keep`` best; return the new size."""
    if size < keep:
        i = size
        hs[i], hc[i], hv[i] = s, code, v
        while i > 0:
            p = (i - 1) // 2
            if not _below(hs[i], hc[i], hs[p], hc[p]):
                break
            hs[i], hs[p] = hs[p], hs[i]
            hc[i], hc[p] = hc[p], hc[i]
            hv[i], hv[p] = hv[p], hv[i]
            i = p
        return size + 1
    if _below(hs[0], hc[0], s, code):
        hs[0], hc[0], hv[0] = s, code, v
        _sift_down(hs, hc, hv, size, 0)
    return size


@njit(cache=True)
def _grown_i(a: np.ndarray, n: int, cap: int, fill: int) -> np.ndarray:
    """A copy of int64 ``a`` with room for ``cap`` entries: the first ``n`` kept, the rest
    ``fill``."""
    b = np.full(cap, fill, np.int64)
    b[:n] = a[:n]
    return b


@njit(cache=True)
def _grown_f(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    """A copy of float64 ``a`` with room for ``cap`` entries, the first ``n`` kept."""
    b = np.empty(cap)
    b[:n] = a[:n]
    return b


@njit(cache=True, inline="always")
def _slot(key: int, mask: int) -> int:
    """Home slot of a (parent node * C + label) key in an open-addressing table."""
    return (key * 0x9E3779B1) & mask


@njit(cache=True)
def _rehash(hkey: np.ndarray, hval: np.ndarray, hsz: int) -> tuple[np.ndarray, np.ndarray]:
    """The (key -> node) table moved into a table of ``hsz`` (a power of two) slots."""
    mask = hsz - 1
    nkey = np.full(hsz, -1, np.int64)
    nval = np.empty(hsz, np.int64)
    for h in range(hkey.shape[0]):
        key = hkey[h]
        if key != -1:
            g = _slot(key, mask)
            while nkey[g] != -1:
                g = (g + 1) & mask
            nkey[g] = key
            nval[g] = hval[h]
    return nkey, nval


@njit(cache=True)
def prefix_beam_search(
    logp: np.ndarray,
    blank: int,
    beam: int,
    token_min_logp: float,
    beam_prune_logp: float,
    lm_logp: np.ndarray,
    ctx0: int,
    alpha: float,
    beta: float,
    use_lexicon: bool,
    trie_children: np.ndarray,
    trie_is_word: np.ndarray,
    separator: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prefix beam search; returns the final beam best first as
    (labels_flat, offsets (K+1,), scores (K,), ctc_log_probs (K,))."""
    T, C = logp.shape
    n_ctx = lm_logp.shape[0]
    cap = min(T * beam, 16 * beam) + 1  # grown (doubled) as nodes are added
    # the prefix tree: node 0 is the empty prefix
    parent = np.empty(cap, np.int64)
    last = np.empty(cap, np.int64)
    ctx = np.empty(cap, np.int64)  # LM context: the last (order - 1) labels in base C
    trie = np.empty(cap, np.int64)  # lexicon trie node
    lms = np.empty(cap)  # alpha * ln P_lm(prefix) + beta * |prefix|
    depth = np.empty(cap, np.int64)
    parent[0], last[0], ctx[0], trie[0], lms[0], depth[0] = -1, -1, ctx0, 0, 0.0, 0
    hsz = 16
    while hsz < 2 * cap:
        hsz *= 2
    mask = hsz - 1
    hkey = np.full(hsz, -1, np.int64)  # open addressing: (parent node * C + label) -> node
    hval = np.empty(hsz, np.int64)
    n_nodes = 1
    # lm_best[x] = max_c alpha ln P_lm(c | x), filled on first use (NaN: not yet)
    lm_best = np.full(n_ctx, np.nan)
    # the beam, best first: node, ln P_b, ln P_nb (prefix output by t, ending in blank / label)
    b_node = np.zeros(beam, np.int64)
    b_pb = np.full(beam, NEG_INF)
    b_pnb = np.full(beam, NEG_INF)
    b_pb[0] = 0.0
    K = 1
    ptot = np.empty(beam)
    n_pb = np.empty(beam)
    n_pnb = np.empty(beam)
    idx_of_node = np.full(cap, -1, np.int64)
    child = np.full((beam, C), -1, np.int64)
    hs = np.empty(beam)  # min-heap of the beam best candidates: score, code, ln P_nb
    hc = np.empty(beam, np.int64)
    hv = np.empty(beam)
    labs = np.empty(C, np.int64)  # candidate labels of the frame, best first
    nb_node = np.empty(beam, np.int64)
    nb_pb = np.empty(beam)
    nb_pnb = np.empty(beam)
    for t in range(T):
        y = logp[t]
        for j in range(K):
            idx_of_node[b_node[j]] = j
        # blank and repeated-label transitions keep a prefix (Hannun et al. 2014, Alg. 1)
        for j in range(K):
            nd = b_node[j]
            ptot[j] = _lae(b_pb[j], b_pnb[j])
            n_pb[j] = ptot[j] + y[blank]
            n_pnb[j] = b_pnb[j] + y[last[nd]] if nd != 0 else NEG_INF
        # an extension p + c that is itself in the beam merges into it
        for j in range(K):
            nd = b_node[j]
            if nd == 0:
                continue
            i = idx_of_node[parent[nd]]
            if i < 0:
                continue
            c = last[nd]
            child[i, c] = j
            v = (b_pb[i] if c == last[b_node[i]] else ptot[i]) + y[c]
            n_pnb[j] = _lae(n_pnb[j], v)
        # select the beam best (by score, then code) among kept prefixes (code j) and new
        # extensions (code K + i C + c); lo is the score a candidate must reach to enter
        # the kept prefixes come roughly best first: stored back to front they nearly form a
        # min-heap already, so building it costs O(K)
        size = 0
        best = NEG_INF
        for j in range(K - 1, -1, -1):
            s = _lae(n_pb[j], n_pnb[j]) + lms[b_node[j]]
            if s > NEG_INF:
                hs[size], hc[size], hv[size] = s, j, 0.0
                size += 1
                best = max(best, s)
        for r in range(size // 2 - 1, -1, -1):
            _sift_down(hs, hc, hv, size, r)
        lo = best + beam_prune_logp
        if size == beam and hs[0] > lo:
            lo = hs[0]
        # the labels that can extend some prefix (ln y^t_c >= lo - max_i(bound of prefix i), and
        # ln y^t_c >= token_min_logp unless c is the frame's argmax), best first by insertion sort
        amax = 0
        for c in range(1, C):
            if y[c] > y[amax]:
                amax = c
        top = NEG_INF
        for i in range(K):
            nd = b_node[i]
            cx = ctx[nd]
            if alpha != 0.0 and np.isnan(lm_best[cx]):
                lmb = alpha * lm_logp[cx, 0]
                for c in range(1, C):
                    lmb = max(lmb, alpha * lm_logp[cx, c])
                lm_best[cx] = lmb
            top = max(top, ptot[i] + lms[nd] + beta + (0.0 if alpha == 0.0 else lm_best[cx]))
        n_lab = 0
        for c in range(C):
            yc = y[c]
            if c == blank or yc + top < lo or (yc < token_min_logp and c != amax):
                continue
            r = n_lab
            while r > 0 and y[labs[r - 1]] < yc:
                labs[r] = labs[r - 1]
                r -= 1
            labs[r] = c
            n_lab += 1
        for i in range(K if n_lab > 0 else 0):
            nd = b_node[i]
            cx = ctx[nd]
            lmb = 0.0 if alpha == 0.0 else lm_best[cx]
            base = lms[nd] + beta
            if ptot[i] + y[labs[0]] + base + lmb < lo:  # no extension of this prefix can enter
                continue
            lst = last[nd]
            tn = trie[nd]
            for r in range(n_lab):
                c = labs[r]
                yc = y[c]
                if ptot[i] + yc + base + lmb < lo:
                    break
                if child[i, c] >= 0:
                    continue
                if use_lexicon:
                    if c == separator:
                        if tn == 0 or not trie_is_word[tn]:
                            continue
                    elif trie_children[tn, c] < 0:
                        continue
                v = (b_pb[i] if c == lst else ptot[i]) + yc
                s = v + (base + alpha * lm_logp[cx, c])
                code = K + i * C + c
                if s == NEG_INF or s < lo:
                    continue
                if size == beam and not _below(hs[0], hc[0], s, code):
                    continue
                size = _offer(hs, hc, hv, size, beam, s, code, v)
                best = max(best, s)
                lo = best + beam_prune_logp
                if size == beam and hs[0] > lo:
                    lo = hs[0]
        # clear the per-step tables
        for j in range(K):
            nd = b_node[j]
            if nd != 0:
                i = idx_of_node[parent[nd]]
                if i >= 0:
                    child[i, last[nd]] = -1
        for j in range(K):
            idx_of_node[b_node[j]] = -1
        # heap -> new beam, best first (popping the lowest-ranked to the back), then drop the
        # candidates more than -beam_prune_logp below the best
        filled = size
        while size > 0:
            size -= 1
            hs[0], hs[size] = hs[size], hs[0]
            hc[0], hc[size] = hc[size], hc[0]
            hv[0], hv[size] = hv[size], hv[0]
            _sift_down(hs, hc, hv, size, 0)
        while filled > 0 and hs[filled - 1] < hs[0] + beam_prune_logp:
            filled -= 1
        if n_nodes + filled > cap:  # room for this frame's new nodes
            n_cap = max(2 * cap, n_nodes + filled)
            parent = _grown_i(parent, n_nodes, n_cap, 0)
            last = _grown_i(last, n_nodes, n_cap, 0)
            ctx = _grown_i(ctx, n_nodes, n_cap, 0)
            trie = _grown_i(trie, n_nodes, n_cap, 0)
            depth = _grown_i(depth, n_nodes, n_cap, 0)
            lms = _grown_f(lms, n_nodes, n_cap)
            idx_of_node = _grown_i(idx_of_node, cap, n_cap, -1)
            cap = n_cap
        if 2 * (n_nodes + filled) > hsz:  # keep the hash table at most half full
            while 2 * (n_nodes + filled) > hsz:
                hsz *= 2
            hkey, hval = _rehash(hkey, hval, hsz)
            mask = hsz - 1
        for r in range(filled):
            code = hc[r]
            v = hv[r]
            if code < K:
                nb_node[r] = b_node[code]
                nb_pb[r] = n_pb[code]
                nb_pnb[r] = n_pnb[code]
            else:
                i = (code - K) // C
                c = (code - K) % C
                p = b_node[i]
                # one node per prefix: a prefix that left the beam and comes back gets its old
                # node, so its children still in the beam are found as its children (merges)
                key = p * C + c
                h = _slot(key, mask)
                while hkey[h] != -1 and hkey[h] != key:
                    h = (h + 1) & mask
                if hkey[h] == key:
                    nb_node[r] = hval[h]
                    nb_pb[r] = NEG_INF
                    nb_pnb[r] = v
                    continue
                m = n_nodes
                n_nodes += 1
                hkey[h] = key
                hval[h] = m
                parent[m] = p
                last[m] = c
                ctx[m] = (ctx[p] * C + c) % n_ctx
                if use_lexicon:
                    trie[m] = 0 if c == separator else trie_children[trie[p], c]
                else:
                    trie[m] = 0
                lms[m] = lms[p] + beta + alpha * lm_logp[ctx[p], c]
                depth[m] = depth[p] + 1
                nb_node[r] = m
                nb_pb[r] = NEG_INF
                nb_pnb[r] = v
        b_node, nb_node = nb_node, b_node
        b_pb, nb_pb = nb_pb, b_pb
        b_pnb, nb_pnb = nb_pnb, b_pnb
        K = filled
        if K == 0:
            break
    # final scores: the LM's end-of-text term (the blank slot), the lexicon's word-end rule
    fs = np.empty(K)
    ok = np.zeros(K, np.bool_)
    any_ok = False
    for j in range(K):
        nd = b_node[j]
        fs[j] = _lae(b_pb[j], b_pnb[j]) + lms[nd] + alpha * lm_logp[ctx[nd], blank]
        ok[j] = (not use_lexicon) or trie[nd] == 0 or trie_is_word[trie[nd]]
        any_ok = any_ok or ok[j]
    if not any_ok:
        ok[:] = True
    order = np.argsort(-fs, kind="mergesort")
    m = 0
    total = 0
    for j in order:
        if ok[j]:
            m += 1
            total += depth[b_node[j]]
    labels = np.empty(total, np.int64)
    offsets = np.zeros(m + 1, np.int64)
    scores = np.empty(m)
    ctc = np.empty(m)
    r = 0
    for j in order:
        if not ok[j]:
            continue
        nd = b_node[j]
        d = depth[nd]
        offsets[r + 1] = offsets[r] + d
        pos = offsets[r + 1]
        while nd != 0:
            pos -= 1
            labels[pos] = last[nd]
            nd = parent[nd]
        scores[r] = fs[j]
        ctc[r] = _lae(b_pb[j], b_pnb[j])
        r += 1
    return labels, offsets, scores, ctc


def prefix_beam_search_py(
    logp: np.ndarray,
    blank: int,
    beam: int,
    token_min_logp: float,
    beam_prune_logp: float,
    lm_logp: np.ndarray,
    ctx0: int,
    alpha: float,
    beta: float,
    use_lexicon: bool,
    trie_children: np.ndarray,
    trie_is_word: np.ndarray,
    separator: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Twin of `prefix_beam_search`: the textbook version with prefixes as tuples in dicts, every
    extension scored, a stable sort by score (ties: insertion order) cut to ``beam`` after dropping
    prefixes more than ``-beam_prune_logp`` below the best; ``token_min_logp`` skips new
    extensions by labels below it except the frame's argmax (lowest index among equal maxima)."""
    T, C = logp.shape
    n_ctx = lm_logp.shape[0]
    y = logp.tolist()
    lm = lm_logp.tolist()
    # prefix -> (LM context, trie node, alpha ln P_lm + beta |p|)
    info: dict[tuple[int, ...], tuple[int, int, float]] = {(): (ctx0, 0, 0.0)}
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}  # best first
    for t in range(T):
        nxt: dict[tuple[int, ...], tuple[float, float]] = {}
        amax = int(np.argmax(logp[t]))  # never skipped by token_min_logp

        def add(p: tuple[int, ...], b: float, nb: float, nxt: dict = nxt) -> None:
            ob, onb = nxt.get(p, (NEG_INF, NEG_INF))
            nxt[p] = (logaddexp_py(ob, b), logaddexp_py(onb, nb))

        for p, (pb, pnb) in beams.items():
            ptot = logaddexp_py(pb, pnb)
            add(p, ptot + y[t][blank], pnb + y[t][p[-1]] if p else NEG_INF)
        for p, (pb, pnb) in beams.items():
            cx, tn, score = info[p]
            ptot = logaddexp_py(pb, pnb)
            for c in range(C):
                if c == blank:
                    continue
                q = (*p, c)
                if q not in beams:
                    if y[t][c] < token_min_logp and c != amax:
                        continue
                    if use_lexicon:
                        if c == separator:
                            if tn == 0 or not trie_is_word[tn]:
                                continue
                        elif trie_children[tn, c] < 0:
                            continue
                    if q not in info:
                        qt = (
                            (0 if c == separator else int(trie_children[tn, c]))
                            if use_lexicon
                            else 0
                        )
                        info[q] = ((cx * C + c) % n_ctx, qt, score + beta + alpha * lm[cx][c])
                add(q, NEG_INF, (pb if p and c == p[-1] else ptot) + y[t][c])
        ranked = [(logaddexp_py(*nxt[p]) + info[p][2], p) for p in nxt]
        ranked = [r for r in ranked if r[0] > NEG_INF]
        ranked.sort(key=lambda r: -r[0])
        if ranked:  # drop prefixes more than -beam_prune_logp below the best
            ranked = [r for r in ranked if r[0] >= ranked[0][0] + beam_prune_logp]
        beams = {p: nxt[p] for _, p in ranked[:beam]}
        if not beams:
            break
    final = []
    for p, (pb, pnb) in beams.items():
        cx, tn, score = info[p]
        ok = (not use_lexicon) or tn == 0 or bool(trie_is_word[tn])
        final.append((logaddexp_py(pb, pnb) + score + alpha * lm[cx][blank], ok, p, pb, pnb))
    if not any(f[1] for f in final):
        final = [(f[0], True, *f[2:]) for f in final]
    final = sorted((f for f in final if f[1]), key=lambda f: -f[0])
    labels = np.array([c for f in final for c in f[2]], dtype=np.int64)
    offsets = np.cumsum([0] + [len(f[2]) for f in final]).astype(np.int64)
    scores = np.array([f[0] for f in final], dtype=np.float64)
    ctc = np.array([logaddexp_py(f[3], f[4]) for f in final], dtype=np.float64)
    return labels, offsets, scores, ctc


# ---------------------------------------------------------------------------------------------
# Dictionary decoding by token passing (Graves et al. 2009, TPAMI, Alg. 1)


@njit(cache=True)
def token_passing(
    logp: np.ndarray,
    blank: int,
    word_labels: np.ndarray,
    word_offsets: np.ndarray,
    lm: np.ndarray,
    lm_weight: float,
    bonus: float,
    has_sep: bool,
) -> tuple[np.ndarray, float]:
    """Best word sequence: (word indices, score). ``lm`` is (W+1, W+1), row/col W = <s>/</s>."""
    T = logp.shape[0]
    W = word_offsets.shape[0] - 1
    st = np.zeros(W + 1, np.int64)  # word w owns states st[w] .. st[w+1]-1 of w' (blanks added)
    first = np.empty(W, np.int64)
    lastl = np.empty(W, np.int64)
    for w in range(W):
        st[w + 1] = st[w] + 2 * (word_offsets[w + 1] - word_offsets[w]) + 1
        first[w] = word_labels[word_offsets[w]]
        lastl[w] = word_labels[word_offsets[w + 1] - 1]
    NS = st[W]
    sc = np.full(NS, NEG_INF)
    hi = np.full(NS, -1, np.int64)
    nsc = np.empty(NS)
    nhi = np.empty(NS, np.int64)
    h_word = np.empty(2 * W * T + 1, np.int64)
    h_parent = np.empty(2 * W * T + 1, np.int64)
    nh = 0
    start = 0.0  # the empty word sequence: all blanks so far
    out_b = np.full(W, NEG_INF)  # output tokens of frame t-1: ended in w's final blank
    out_bh = np.full(W, -1, np.int64)
    out_l = np.full(W, NEG_INF)  # ... ended in w's final label
    out_lh = np.full(W, -1, np.int64)
    for t in range(T):
        for w in range(W):
            # the best token to enter w from (Alg. 1: w* = argmax tok(w^,-1,t-1) + ln p(w|w^))
            eb = start + lm_weight * lm[W, w]
            ebh = -1
            el = eb
            elh = -1
            for v in range(W):
                g = lm_weight * lm[v, w]
                sb = out_b[v] + g
                sl = out_l[v] + g
                if sb > eb:
                    eb, ebh = sb, out_bh[v]
                if sl > eb:
                    eb, ebh = sl, out_lh[v]
                if sb > el:
                    el, elh = sb, out_bh[v]
                if lastl[v] != first[w] and sl > el:
                    el, elh = sl, out_lh[v]
            eb += bonus
            el += bonus
            o = st[w]
            base = word_offsets[w]
            for s in range(st[w + 1] - o):
                lab = blank if s % 2 == 0 else word_labels[base + (s - 1) // 2]
                best = sc[o + s]
                bh = hi[o + s]
                src = -2
                if s >= 1 and sc[o + s - 1] > best:
                    best, bh = sc[o + s - 1], hi[o + s - 1]
                if s >= 3 and s % 2 == 1 and word_labels[base + (s - 3) // 2] != lab:
                    if sc[o + s - 2] > best:
                        best, bh = sc[o + s - 2], hi[o + s - 2]
                if s == 0 and eb > best:
                    best, src = eb, ebh
                if s == 1 and el > best:
                    best, src = el, elh
                if src != -2:  # a new word starts here: extend the entering history
                    h_word[nh] = w
                    h_parent[nh] = src
                    bh = nh
                    nh += 1
                nsc[o + s] = best + logp[t, lab]
                nhi[o + s] = bh
        sc, nsc = nsc, sc
        hi, nhi = nhi, hi
        start += logp[t, blank]
        for w in range(W):
            e = st[w + 1] - 1
            out_b[w], out_bh[w] = sc[e], hi[e]
            out_l[w], out_lh[w] = sc[e - 1], hi[e - 1]
    best = start + lm_weight * lm[W, W]
    bh = -1
    for w in range(W):
        e = st[w + 1] - 1
        g = lm_weight * lm[w, W]
        n_end = 4 if has_sep and e >= 4 else 2  # with a separator the last word may omit it
        for k in range(n_end):
            if sc[e - k] + g > best:
                best, bh = sc[e - k] + g, hi[e - k]
    n = 0
    h = bh
    while h >= 0:
        n += 1
        h = h_parent[h]
    words = np.empty(n, np.int64)
    h = bh
    while h >= 0:
        n -= 1
        words[n] = h_word[h]
        h = h_parent[h]
    return words, best


def token_passing_py(
    logp: np.ndarray,
    blank: int,
    word_labels: np.ndarray,
    word_offsets: np.ndarray,
    lm: np.ndarray,
    lm_weight: float,
    bonus: float,
    has_sep: bool,
) -> tuple[np.ndarray, float]:
    """Twin of `token_passing`: tokens are (score, word-history tuple) per segment of w'."""
    T = logp.shape[0]
    W = len(word_offsets) - 1
    words = [[int(k) for k in word_labels[word_offsets[w] : word_offsets[w + 1]]] for w in range(W)]
    ext = []  # w' = (b, w_1, b, ..., w_L, b)
    for wl in words:
        e = [blank]
        for k in wl:
            e += [k, blank]
        ext.append(e)
    y = logp.tolist()
    g = (lm_weight * lm).tolist()
    Token = tuple[float, tuple[int, ...]]  # (score, word history)
    tok: list[list[Token]] = [[(NEG_INF, ()) for _ in e] for e in ext]
    start: Token = (0.0, ())
    for t in range(T):
        outs = [(w, tok[w][-1], tok[w][-2]) for w in range(W)]
        new = []
        for w in range(W):
            eb = (start[0] + g[W][w], start[1])
            el = eb
            for v, ob, ol in outs:
                sb, sl = (ob[0] + g[v][w], ob[1]), (ol[0] + g[v][w], ol[1])
                if sb[0] > eb[0]:
                    eb = sb
                if sl[0] > eb[0]:
                    eb = sl
                if sb[0] > el[0]:
                    el = sb
                if words[v][-1] != words[w][0] and sl[0] > el[0]:
                    el = sl
            entry = [(eb[0] + bonus, (*eb[1], w)), (el[0] + bonus, (*el[1], w))]
            row = []
            e = ext[w]
            for s, lab in enumerate(e):
                cands = [tok[w][s]]
                if s >= 1:
                    cands.append(tok[w][s - 1])
                if lab != blank and s >= 3 and e[s - 2] != lab:
                    cands.append(tok[w][s - 2])
                if s <= 1:
                    cands.append(entry[s])
                best = cands[0]
                for c in cands[1:]:
                    if c[0] > best[0]:
                        best = c
                row.append((best[0] + y[t][lab], best[1]))
            new.append(row)
        tok = new
        start = (start[0] + y[t][blank], ())
    best = (start[0] + g[W][W], ())
    for w in range(W):
        n_end = 4 if has_sep and len(ext[w]) >= 5 else 2
        for k in range(1, n_end + 1):
            sc, h = tok[w][-k]
            if sc + g[w][W] > best[0]:
                best = (sc + g[w][W], h)
    return np.array(best[1], dtype=np.int64), best[0]


# ---------------------------------------------------------------------------------------------
# Keyword spotting (after Fernandez, Graves & Schmidhuber 2007)


@njit(cache=True)
def keyword_segment(logp: np.ndarray, blank: int, kw: np.ndarray) -> tuple[float, int, int]:
    """``max_{s<=e} ln p(kw | y_s..y_e)`` by one CTC forward pass per start frame s, with the
    segment (s, e). A start is abandoned once its total forward mass cannot beat the best."""
    T = logp.shape[0]
    L = kw.shape[0]
    S = 2 * L + 1
    best = NEG_INF
    bs = -1
    be = -1
    a = np.empty(S)
    b = np.empty(S)
    for s0 in range(T):
        a[:] = NEG_INF
        a[0] = logp[s0, blank]
        a[1] = logp[s0, kw[0]]
        t = s0
        while True:
            e = _lae(a[S - 1], a[S - 2])
            if e > best:
                best, bs, be = e, s0, t
            t += 1
            if t >= T:
                break
            tot = NEG_INF
            for s in range(S):
                tot = _lae(tot, a[s])
            if tot <= best:  # every continuation's mass is <= the current mass
                break
            for s in range(S):
                v = a[s]
                if s >= 1:
                    v = _lae(v, a[s - 1])
                if s % 2 == 1:
                    lab = kw[(s - 1) // 2]
                    if s >= 3 and kw[(s - 3) // 2] != lab:
                        v = _lae(v, a[s - 2])
                else:
                    lab = blank
                b[s] = v + logp[t, lab]
            a, b = b, a
    return best, bs, be


def keyword_segment_py(logp: np.ndarray, blank: int, kw: np.ndarray) -> tuple[float, int, int]:
    """Twin of `keyword_segment`: the CTC forward pass (`ctc_forward_py`) on every segment."""
    T = logp.shape[0]
    best, bs, be = NEG_INF, -1, -1
    for s0 in range(T):
        for e in range(s0, T):
            v = ctc_forward_py(logp[s0 : e + 1], kw, blank)
            if v > best:
                best, bs, be = v, s0, e
    return best, bs, be
