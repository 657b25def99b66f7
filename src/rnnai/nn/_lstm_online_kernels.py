"""Numba kernel of `rnnai.nn.lstm_online`: the LSTM forward pass, its truncated-RTRL traces, the
output layer's backprop and the SGD/momentum update, for many sequences in one call (batch 1).

The equations, their sources and the symbols are in `rnnai.nn.lstm_online`'s docstring; this file
repeats only the memory layout. Everything is float64 and indexed by hand into flat arrays, so a
call costs one numba dispatch however many sequences it trains on.

Sizes (``dims``, int64): I inputs, K outputs, B blocks, S cells per block (C = B S cells), and the
flags forget gate, peepholes, peephole error, gate recurrence, shortcuts, output squashing
(1 sigmoid, 0 identity). U = 1 + I + C + G B sources (G = 2 + forget with gate recurrence, else
0), Z = 1 + C (+ I with shortcuts) inputs of the output units.

Parameters ``theta`` (float64, flat, in this order): W_c (C, U), W_in (B, U), W_phi (B, U) if
forget gates, W_out (B, U), p_in (B, S), p_phi (B, S) if forget gates, p_out (B, S) (the three
peephole blocks only with peepholes), W_k (K, Z). ``grad`` and ``velocity`` have the same layout.

State ``st`` (float64, flat): s (C), y^c (C), the gates of the last step y^in (B), y^out (B),
y^phi (B), then the traces dS_c (C, S, U) with dS_c[c, v, m] = d s_{j v} / d W_c[c, m] for the
cell c of block j, dS_in and dS_phi (B, S, U), dS_pin and dS_pphi (B, S, S) (d s_{j v} / d
p[j, v']). Without the peephole error only dS_c[c, own(c), :] is ever non-zero.

``acts`` (float64): alpha_g, beta_g, alpha_h, beta_h of the squashing alpha tanh(beta x); alpha 0
stands for the identity.
"""

from __future__ import annotations

import numpy as np

from rnnai.runtime.jit import njit

__all__ = ["run_sequences", "state_size"]

MODE_FORWARD, MODE_GRADIENT, MODE_SEQUENCE, MODE_STEP = 0, 1, 2, 3
"""What `run_sequences` does: outputs only; accumulate the gradient into ``grad`` (no update);
update after each sequence; update after each time step."""


@njit(cache=True)
def _sizes(dims: np.ndarray) -> tuple[int, int, int, int, int, int, int, int]:
    """(I, K, B, S, C, U, Z, G) from ``dims``."""
    I, K, B, S = dims[0], dims[1], dims[2], dims[3]
    forget, grec, short = dims[4], dims[7], dims[8]
    C = B * S
    G = (2 + forget) if grec else 0
    U = 1 + I + C + G * B
    Z = 1 + C + (I if short else 0)
    return I, K, B, S, C, U, Z, G


@njit(cache=True)
def state_size(dims: np.ndarray) -> int:
    """Length of the flat state ``st`` for these sizes."""
    I, K, B, S, C, U, Z, G = _sizes(dims)
    return 2 * C + 3 * B + C * S * U + 2 * B * S * U + 2 * B * S * S


@njit(cache=True)
def _squash(alpha: float, beta: float, x: float) -> float:
    if alpha == 0.0:
        return x
    return alpha * np.tanh(beta * x)


@njit(cache=True)
def _dsquash(alpha: float, beta: float, y: float) -> float:
    """Derivative of alpha tanh(beta x) at the point whose output is y (1 for the identity)."""
    if alpha == 0.0:
        return 1.0
    r = y / alpha
    return alpha * beta * (1.0 - r * r)


@njit(cache=True)
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True)
def run_sequences(
    theta: np.ndarray,
    grad: np.ndarray,
    velocity: np.ndarray,
    dims: np.ndarray,
    acts: np.ndarray,
    st: np.ndarray,
    x: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    mode: int,
    reset: bool,
    lr: float,
    momentum: float,
    out: np.ndarray,
    losses: np.ndarray,
) -> int:
    """Run (and train on) sequences one after another.

    Args:
        theta, grad, velocity: parameters, gradient accumulator, momentum buffer (module layout).
        dims, acts: sizes and flags, squashing constants (module docstring).
        st: the recurrent state and traces, carried from call to call (module layout).
        x: (N_steps, I) the inputs of all sequences, concatenated in time.
        target: (N_steps, K) targets.
        mask: (N_steps,) weight of each step's squared error (0: no target).
        starts, lengths: (N,) first row and number of steps of each sequence.
        mode: MODE_FORWARD, MODE_GRADIENT, MODE_SEQUENCE or MODE_STEP.
        reset: zero the state and the traces at the start of every sequence.
        lr, momentum: Delta w = momentum Delta w_prev - lr dE/dw, applied per sequence or step.
        out: (N_steps, K) receives the outputs.
        losses: (N,) receives each sequence's E = 1/2 sum mask (y^k - t^k)^2.

    Returns:
        0, or before any work 1 if x, 2 if target holds NaN or inf, 3 if a mask entry is negative
        or not finite (checked here, where it costs nothing next to the Python call).
    """
    for r in range(x.shape[0]):
        for i in range(x.shape[1]):
            if not np.isfinite(x[r, i]):
                return 1
        for k in range(target.shape[1]):
            if not np.isfinite(target[r, k]):
                return 2
        if not (np.isfinite(mask[r]) and mask[r] >= 0.0):
            return 3
    I, K, B, S, C, U, Z, G = _sizes(dims)
    forget, peep, mix, grec, short, osig = dims[4], dims[5], dims[6], dims[7], dims[8], dims[9]
    ag, bg, ah, bh = acts[0], acts[1], acts[2], acts[3]
    learn = mode != MODE_FORWARD
    P = B * S if peep else 0
    # parameter offsets
    o_c = 0
    o_in = o_c + C * U
    o_f = o_in + B * U
    o_out = o_f + (B * U if forget else 0)
    o_pin = o_out + B * U
    o_pf = o_pin + P
    o_pout = o_pf + (P if forget else 0)
    o_k = o_pout + P
    n_par = o_k + K * Z
    # state offsets
    q_s = 0
    q_y = q_s + C
    q_gin = q_y + C
    q_gout = q_gin + B
    q_gf = q_gout + B
    q_tc = q_gf + B
    q_ti = q_tc + C * S * U
    q_tf = q_ti + B * S * U
    q_tpi = q_tf + B * S * U
    q_tpf = q_tpi + B * S * S
    n_st = q_tpf + B * S * S
    # scratch
    u = np.empty(U)
    z = np.empty(Z)
    s_prev = np.empty(C)
    gc = np.empty(C)
    dgc = np.empty(C)
    hc = np.empty(C)
    dhc = np.empty(C)
    yin = np.empty(B)
    yf = np.ones(B)
    yout = np.empty(B)
    dk = np.empty(K)
    ey = np.empty(C)
    es = np.empty(S)
    a_in = np.empty(S)  # d s_v / d net_in
    a_f = np.empty(S)  # d s_v / d net_phi
    Mx = np.zeros((S, S))  # d s_v(t) / d s_v'(t-1) within a block (peephole error)
    tmp = np.empty(S)

    for n in range(starts.shape[0]):
        if reset:
            for q in range(n_st):
                st[q] = 0.0
        loss = 0.0
        for t in range(lengths[n]):
            r = starts[n] + t
            # ---- sources u(t) = (1, x(t), y^c(t-1), [y^in, y^out, y^phi](t-1))
            u[0] = 1.0
            for i in range(I):
                u[1 + i] = x[r, i]
            for c in range(C):
                u[1 + I + c] = st[q_y + c]
            if grec:
                for j in range(B):
                    u[1 + I + C + j] = st[q_gin + j]
                    u[1 + I + C + B + j] = st[q_gout + j]
                    if forget:
                        u[1 + I + C + 2 * B + j] = st[q_gf + j]
            for c in range(C):
                s_prev[c] = st[q_s + c]
            # ---- forward, block by block
            for j in range(B):
                net = 0.0
                for m in range(U):
                    net += theta[o_in + j * U + m] * u[m]
                if peep:
                    for v in range(S):
                        net += theta[o_pin + j * S + v] * s_prev[j * S + v]
                yin[j] = _sigmoid(net)  # input gate
                if forget:
                    net = 0.0
                    for m in range(U):
                        net += theta[o_f + j * U + m] * u[m]
                    if peep:
                        for v in range(S):
                            net += theta[o_pf + j * S + v] * s_prev[j * S + v]
                    yf[j] = _sigmoid(net)  # forget gate
                for v in range(S):
                    c = j * S + v
                    net = 0.0
                    for m in range(U):
                        net += theta[o_c + c * U + m] * u[m]
                    gc[c] = _squash(ag, bg, net)  # g(net_c)
                    dgc[c] = _dsquash(ag, bg, gc[c])
                    st[q_s + c] = yf[j] * s_prev[c] + yin[j] * gc[c]  # CEC
                net = 0.0
                for m in range(U):
                    net += theta[o_out + j * U + m] * u[m]
                if peep:
                    for v in range(S):
                        net += theta[o_pout + j * S + v] * st[q_s + j * S + v]
                yout[j] = _sigmoid(net)  # output gate
                for v in range(S):
                    c = j * S + v
                    hc[c] = _squash(ah, bh, st[q_s + c])
                    dhc[c] = _dsquash(ah, bh, hc[c])
                    st[q_y + c] = yout[j] * hc[c]  # y^c = y^out h(s)
            # ---- traces: dS(t) = M dS(t-1) + local terms (truncated RTRL)
            if learn:
                for j in range(B):
                    fj = yf[j]
                    din = yin[j] * (1.0 - yin[j])
                    dfj = fj * (1.0 - fj)
                    for v in range(S):
                        c = j * S + v
                        a_in[v] = gc[c] * din
                        a_f[v] = s_prev[c] * dfj if forget else 0.0
                    if mix:
                        for v in range(S):
                            for w in range(S):
                                mv = fj if v == w else 0.0
                                if peep:
                                    mv += a_in[v] * theta[o_pin + j * S + w]
                                    if forget:
                                        mv += a_f[v] * theta[o_pf + j * S + w]
                                Mx[v, w] = mv
                        # cell-input weights of every cell of the block
                        for w2 in range(S):
                            c2 = j * S + w2
                            base = q_tc + c2 * S * U
                            for m in range(U):
                                for v in range(S):
                                    acc = 0.0
                                    for w in range(S):
                                        acc += Mx[v, w] * st[base + w * U + m]
                                    tmp[v] = acc
                                for v in range(S):
                                    st[base + v * U + m] = tmp[v]
                                st[base + w2 * U + m] += dgc[c2] * yin[j] * u[m]
                        # gate weights
                        for kind in range(2 if forget else 1):
                            qt = q_ti if kind == 0 else q_tf
                            qp = q_tpi if kind == 0 else q_tpf
                            for m in range(U):
                                for v in range(S):
                                    acc = 0.0
                                    for w in range(S):
                                        acc += Mx[v, w] * st[qt + (j * S + w) * U + m]
                                    tmp[v] = acc
                                for v in range(S):
                                    loc = a_in[v] if kind == 0 else a_f[v]
                                    st[qt + (j * S + v) * U + m] = tmp[v] + loc * u[m]
                            if peep:
                                for m in range(S):
                                    for v in range(S):
                                        acc = 0.0
                                        for w in range(S):
                                            acc += Mx[v, w] * st[qp + (j * S + w) * S + m]
                                        tmp[v] = acc
                                    for v in range(S):
                                        loc = a_in[v] if kind == 0 else a_f[v]
                                        st[qp + (j * S + v) * S + m] = (
                                            tmp[v] + loc * s_prev[j * S + m]
                                        )
                    else:
                        for v in range(S):
                            c = j * S + v
                            base = q_tc + (c * S + v) * U
                            kc = dgc[c] * yin[j]
                            for m in range(U):
                                st[base + m] = fj * st[base + m] + kc * u[m]
                            base = q_ti + c * U
                            for m in range(U):
                                st[base + m] = fj * st[base + m] + a_in[v] * u[m]
                            if forget:
                                base = q_tf + c * U
                                for m in range(U):
                                    st[base + m] = fj * st[base + m] + a_f[v] * u[m]
                            if peep:
                                base = q_tpi + c * S
                                for m in range(S):
                                    st[base + m] = fj * st[base + m] + a_in[v] * s_prev[j * S + m]
                                if forget:
                                    base = q_tpf + c * S
                                    for m in range(S):
                                        st[base + m] = (
                                            fj * st[base + m] + a_f[v] * s_prev[j * S + m]
                                        )
            # ---- output units
            z[0] = 1.0
            for c in range(C):
                z[1 + c] = st[q_y + c]
            if short:
                for i in range(I):
                    z[1 + C + i] = x[r, i]
            wt = mask[r]
            for k in range(K):
                net = 0.0
                for m in range(Z):
                    net += theta[o_k + k * Z + m] * z[m]
                yk = _sigmoid(net) if osig else net
                out[r, k] = yk
                d = yk - target[r, k]
                loss += 0.5 * wt * d * d
                dk[k] = wt * d * (yk * (1.0 - yk) if osig else 1.0)  # dE/dnet_k
            # ---- gradient of E(t)
            if learn and wt != 0.0:
                for k in range(K):
                    for m in range(Z):
                        grad[o_k + k * Z + m] += dk[k] * z[m]
                for c in range(C):
                    acc = 0.0
                    for k in range(K):
                        acc += theta[o_k + k * Z + 1 + c] * dk[k]
                    ey[c] = acc  # dE/dy^c
                for j in range(B):
                    acc = 0.0
                    for v in range(S):
                        acc += hc[j * S + v] * ey[j * S + v]
                    dout = yout[j] * (1.0 - yout[j]) * acc  # dE/dnet_out
                    for m in range(U):
                        grad[o_out + j * U + m] += dout * u[m]
                    for v in range(S):
                        c = j * S + v
                        es[v] = yout[j] * dhc[c] * ey[c]  # dE/ds at time t
                        if peep:
                            grad[o_pout + j * S + v] += dout * st[q_s + c]
                            if mix:
                                es[v] += dout * theta[o_pout + j * S + v]
                    if mix:
                        for w2 in range(S):
                            c2 = j * S + w2
                            base = q_tc + c2 * S * U
                            for m in range(U):
                                acc = 0.0
                                for v in range(S):
                                    acc += es[v] * st[base + v * U + m]
                                grad[o_c + c2 * U + m] += acc
                    else:
                        for v in range(S):
                            c = j * S + v
                            base = q_tc + (c * S + v) * U
                            for m in range(U):
                                grad[o_c + c * U + m] += es[v] * st[base + m]
                    for m in range(U):
                        acc = 0.0
                        for v in range(S):
                            acc += es[v] * st[q_ti + (j * S + v) * U + m]
                        grad[o_in + j * U + m] += acc
                        if forget:
                            acc = 0.0
                            for v in range(S):
                                acc += es[v] * st[q_tf + (j * S + v) * U + m]
                            grad[o_f + j * U + m] += acc
                    if peep:
                        for m in range(S):
                            acc = 0.0
                            for v in range(S):
                                acc += es[v] * st[q_tpi + (j * S + v) * S + m]
                            grad[o_pin + j * S + m] += acc
                            if forget:
                                acc = 0.0
                                for v in range(S):
                                    acc += es[v] * st[q_tpf + (j * S + v) * S + m]
                                grad[o_pf + j * S + m] += acc
            # ---- remember the gates; update after the step
            for j in range(B):
                st[q_gin + j] = yin[j]
                st[q_gout + j] = yout[j]
                st[q_gf + j] = yf[j] if forget else 0.0
            if mode == MODE_STEP:
                for q in range(n_par):
                    velocity[q] = momentum * velocity[q] - lr * grad[q]
                    theta[q] += velocity[q]
                    grad[q] = 0.0
        losses[n] = loss
        if mode == MODE_SEQUENCE:
            for q in range(n_par):
                velocity[q] = momentum * velocity[q] - lr * grad[q]
                theta[q] += velocity[q]
                grad[q] = 0.0
    return 0
