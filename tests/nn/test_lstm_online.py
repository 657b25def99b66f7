"""Tests of rnnai.nn.lstm_online: the online (truncated RTRL) gradient of a sequence equals the
truncated-BPTT gradient of a float64 autograd graph cut where the papers cut it (detach), and of
rnnai.nn.lstm's lstm1997 / forget-gate / peephole variants; per-step and per-sequence updates
with momentum equal a direct numpy transcription of the trace equations; carried state; bad input.
"""

from __future__ import annotations

import dataclasses
import doctest
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch

import rnnai.nn.lstm_online as lo
from rnnai.nn.lstm import ACTIVATIONS, LSTM, VARIANTS, LSTMVariant
from rnnai.nn.lstm_online import OnlineLSTM, OnlineLSTMConfig
from rnnai.runtime.errors import RnnaiError

CONFIGS: dict[str, dict[str, Any]] = {
    "1997_one_cell": dict(blocks=3),
    "1997_blocks_of_two": dict(blocks=3, cells_per_block=2, gate_recurrence=True),
    "forget_blocks": dict(blocks=2, cells_per_block=3, forget_gate=True, shortcuts=True),
    "peephole_gers2002": dict(
        blocks=2, cells_per_block=2, forget_gate=True, peepholes=True, cell_output="identity"
    ),
    "peephole_error": dict(
        blocks=2, cells_per_block=3, forget_gate=True, peepholes=True, peephole_error=True,
        gate_recurrence=True, cell_input="tanh", cell_output="tanh",
    ),
    "peephole_no_forget_identity_out": dict(
        blocks=1, cells_per_block=2, peepholes=True, peephole_error=True,
        output_squashing="identity", shortcuts=True,
    ),
}  # fmt: skip


def _config(name: str, I: int = 3, K: int = 2) -> OnlineLSTMConfig:
    return OnlineLSTMConfig(input_size=I, output_size=K, init_range=0.6, **CONFIGS[name])


def _data(seed: int, T: int, I: int, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, I))
    y = rng.uniform(size=(T, K))
    mask = (rng.uniform(size=T) < 0.7).astype(float) * rng.uniform(0.5, 2.0, size=T)
    return x, y, mask


def _squash(name: str, a: torch.Tensor) -> torch.Tensor:
    ab = ACTIVATIONS[name]
    return a if ab is None else ab[0] * torch.tanh(ab[1] * a)


# ------------------------------------------------------------------ autograd reference
def _autograd_reference(
    cfg: OnlineLSTMConfig, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
    mask: np.ndarray,
) -> tuple[float, dict[str, np.ndarray]]:  # fmt: skip
    """sum_t E(t) through a float64 graph with the papers' truncation made by detach: the
    sources u(t) (previous cell outputs and gates) and, unless peephole_error, the peephole
    inputs are constants; autograd then gives the truncated BPTT gradient."""
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    B, S, C = cfg.blocks, cfg.cells_per_block, cfg.cells
    X, Y, M = (torch.tensor(a, dtype=torch.float64) for a in (x, y, mask))
    s = torch.zeros(B, S, dtype=torch.float64)
    yc = torch.zeros(C, dtype=torch.float64)
    gates = [torch.zeros(B, dtype=torch.float64) for _ in range(3)]
    one = torch.ones(1, dtype=torch.float64)
    loss = torch.zeros((), dtype=torch.float64)

    def peep(name: str, cells: torch.Tensor) -> torch.Tensor:
        if not cfg.peepholes:
            return torch.zeros(B, dtype=torch.float64)
        src = cells if cfg.peephole_error else cells.detach()
        return (P[name] * src).sum(1)

    for t in range(x.shape[0]):
        parts = [one, X[t], yc.detach()]
        if cfg.gate_recurrence:
            parts += [gates[0].detach(), gates[1].detach()]
            if cfg.forget_gate:
                parts.append(gates[2].detach())
        u = torch.cat(parts)  # (U,)
        y_in = torch.sigmoid(P["W_in"] @ u + peep("p_in", s))
        y_phi = (
            torch.sigmoid(P["W_phi"] @ u + peep("p_phi", s))
            if cfg.forget_gate
            else torch.ones(B, dtype=torch.float64)
        )
        g = _squash(cfg.cell_input, P["W_c"] @ u).view(B, S)
        s = y_phi[:, None] * s + y_in[:, None] * g
        y_out = torch.sigmoid(P["W_out"] @ u + peep("p_out", s))
        yc = (y_out[:, None] * _squash(cfg.cell_output, s)).reshape(C)
        z = torch.cat([one, yc] + ([X[t]] if cfg.shortcuts else []))
        net_k = P["W_k"] @ z
        yk = torch.sigmoid(net_k) if cfg.output_squashing == "sigmoid" else net_k
        loss = loss + 0.5 * M[t] * ((yk - Y[t]) ** 2).sum()
        gates = [y_in, y_out, y_phi]
    loss.backward()
    return float(loss.detach()), {k: p.grad.numpy() for k, p in P.items()}  # type: ignore[union-attr]


def _assert_close(a: dict[str, np.ndarray], b: dict[str, np.ndarray], tol: float = 1e-10) -> None:
    assert sorted(a) == sorted(b)
    scale = max(1.0, max(float(np.abs(v).max()) for v in b.values()))
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=tol * scale, err_msg=k)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_online_gradient_equals_truncated_bptt_autograd(name: str) -> None:
    cfg = _config(name)
    for seed in range(3):
        net = OnlineLSTM(cfg, seed=seed)
        x, y, mask = _data(100 + seed, T=9 + seed, I=cfg.input_size, K=cfg.output_size)
        loss, grads = net.gradient(x, y, mask)
        ref_loss, ref = _autograd_reference(cfg, net.params, x, y, mask)
        assert abs(loss - ref_loss) < 1e-12 * max(1.0, ref_loss)
        _assert_close(grads, ref)
        assert max(float(np.abs(v).max()) for v in grads.values()) > 1e-4  # not all zero


def test_gradient_differs_when_the_truncation_differs() -> None:
    """The peephole error is not a no-op: the two gradients of the same net differ."""
    cfg = _config("peephole_gers2002")
    net = OnlineLSTM(cfg, seed=0)
    x, y, mask = _data(5, T=10, I=3, K=2)
    _, g_cut = net.gradient(x, y, mask)
    other = OnlineLSTM(dataclasses.replace(cfg, peephole_error=True), seed=0)
    _, g_full = other.gradient(x, y, mask)
    assert np.abs(g_cut["W_in"] - g_full["W_in"]).max() > 1e-6


# ------------------------------------------------------------------ against rnnai.nn.lstm
TORCH_PAIRS: dict[str, tuple[LSTMVariant, dict[str, Any]]] = {
    "lstm1997": (VARIANTS["lstm1997"], dict()),
    "forget": (
        LSTMVariant(
            peepholes=False, input_activation="g1997", output_activation="h1997",
            truncate_gradient=True,
        ),
        dict(forget_gate=True),
    ),
    "peephole": (
        LSTMVariant(truncate_gradient=True),
        dict(forget_gate=True, peepholes=True, peephole_error=True, cell_input="tanh",
             cell_output="tanh"),
    ),
}  # fmt: skip


def _grad(module: torch.nn.Module, name: str) -> np.ndarray:
    grad = module.get_parameter(name).grad
    assert grad is not None
    return grad.numpy()


@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_online_gradient_equals_rnnai_lstm_truncated_gradient(name: str) -> None:
    variant, extra = TORCH_PAIRS[name]
    I, C, K, T = 4, 5, 3, 12
    cfg = OnlineLSTMConfig(input_size=I, output_size=K, blocks=C, init_range=0.5, **extra)
    net = OnlineLSTM(cfg, seed=7)
    p = net.params
    lstm = LSTM(I, C, variant=variant, dtype=torch.float64)
    head = torch.nn.Linear(C, K, dtype=torch.float64)
    ours = {"i": "W_in", "f": "W_phi", "g": "W_c", "o": "W_out"}
    sl = lstm.gate_slices
    with torch.no_grad():
        for gate, key in ours.items():
            if gate in sl:
                lstm.get_parameter("weight_ih_l0")[sl[gate]] = torch.from_numpy(
                    p[key][:, 1 : 1 + I]
                )
                lstm.get_parameter("weight_hh_l0")[sl[gate]] = torch.from_numpy(p[key][:, 1 + I :])
                lstm.get_parameter("bias_ih_l0")[sl[gate]] = torch.from_numpy(p[key][:, 0])
                lstm.get_parameter("bias_hh_l0")[sl[gate]] = 0.0
        if variant.peepholes:
            for k, key in enumerate(("p_in", "p_phi", "p_out")):
                lstm.get_parameter("weight_peep_l0")[k] = torch.from_numpy(p[key][:, 0])
        head.weight.copy_(torch.from_numpy(p["W_k"][:, 1:]))
        head.bias.copy_(torch.from_numpy(p["W_k"][:, 0]))
    x, y, mask = _data(11, T=T, I=I, K=K)
    out, _ = lstm(torch.from_numpy(x))  # unbatched (L, H_in) -> (L, H)
    yk = torch.sigmoid(head(out))
    loss = 0.5 * (torch.from_numpy(mask)[:, None] * (yk - torch.from_numpy(y)) ** 2).sum()
    loss.backward()
    ours_loss, g = net.gradient(x, y, mask)
    assert abs(ours_loss - float(loss.detach())) < 1e-12
    tol = 1e-10 * max(1.0, max(float(np.abs(v).max()) for v in g.values()))
    for gate, key in ours.items():
        if gate in sl:
            np.testing.assert_allclose(_grad(lstm, "weight_ih_l0")[sl[gate]], g[key][:, 1 : 1 + I],
                                       atol=tol, rtol=0)  # fmt: skip
            np.testing.assert_allclose(_grad(lstm, "weight_hh_l0")[sl[gate]], g[key][:, 1 + I :],
                                       atol=tol, rtol=0)  # fmt: skip
            np.testing.assert_allclose(_grad(lstm, "bias_ih_l0")[sl[gate]], g[key][:, 0],
                                       atol=tol, rtol=0)  # fmt: skip
    if variant.peepholes:
        for k, key in enumerate(("p_in", "p_phi", "p_out")):
            np.testing.assert_allclose(
                _grad(lstm, "weight_peep_l0")[k], g[key][:, 0], atol=tol, rtol=0
            )
    np.testing.assert_allclose(_grad(head, "weight"), g["W_k"][:, 1:], atol=tol, rtol=0)
    np.testing.assert_allclose(_grad(head, "bias"), g["W_k"][:, 0], atol=tol, rtol=0)


# ------------------------------------------------------------------ direct numpy transcription
def _act_np(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ab = ACTIVATIONS[name]
    if ab is None:
        return a, np.ones_like(a)
    v = ab[0] * np.tanh(ab[1] * a)
    return v, ab[0] * ab[1] * (1 - np.tanh(ab[1] * a) ** 2)


def _transcription(
    cfg: OnlineLSTMConfig, params: dict[str, np.ndarray],
    seqs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    lr: float, momentum: float, per_step: bool,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The trace equations of the module docstring, vectorized per block with numpy, applying
    Delta w = momentum Delta w_prev - lr dE/dw after every step or every sequence."""
    W = {k: v.copy() for k, v in params.items()}
    V = {k: np.zeros_like(v) for k, v in W.items()}
    B, S, C, U = cfg.blocks, cfg.cells_per_block, cfg.cells, cfg.sources
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    zeros = lambda *s: np.zeros(s)  # noqa: E731
    eye = np.eye(S)

    def apply(G: dict[str, np.ndarray]) -> None:
        for k in W:
            V[k] = momentum * V[k] - lr * G[k]
            W[k] += V[k]

    for x, y, mask in seqs:
        s, yc = zeros(B, S), zeros(C)
        gin, gout, gphi = zeros(B), zeros(B), zeros(B)
        Tc, Ti, Tf = zeros(B, S, S, U), zeros(B, S, U), zeros(B, S, U)
        Tpi, Tpf = zeros(B, S, S), zeros(B, S, S)
        G = {k: np.zeros_like(v) for k, v in W.items()}
        for t in range(x.shape[0]):
            parts = [[1.0], x[t], yc]
            if cfg.gate_recurrence:
                parts += [gin, gout] + ([gphi] if cfg.forget_gate else [])
            u = np.concatenate(parts)
            pk = (lambda n: W[n]) if cfg.peepholes else (lambda n: zeros(B, S))
            yin = sig(W["W_in"] @ u + (pk("p_in") * s).sum(1))
            yphi = (
                sig(W["W_phi"] @ u + (pk("p_phi") * s).sum(1)) if cfg.forget_gate else 1 + zeros(B)
            )
            g, dg = _act_np(cfg.cell_input, (W["W_c"] @ u).reshape(B, S))
            s_prev, s = s, yphi[:, None] * s + yin[:, None] * g
            yout = sig(W["W_out"] @ u + (pk("p_out") * s).sum(1))
            h, dh = _act_np(cfg.cell_output, s)
            yc = (yout[:, None] * h).ravel()
            # traces
            a_in = g * (yin * (1 - yin))[:, None]  # (B, S)
            a_f = s_prev * (yphi * (1 - yphi))[:, None]
            Mx = yphi[:, None, None] * eye  # (B, S, S)
            if cfg.peephole_error:
                Mx = Mx + a_in[:, :, None] * pk("p_in")[:, None, :]
                if cfg.forget_gate:
                    Mx = Mx + a_f[:, :, None] * pk("p_phi")[:, None, :]
            Tc = np.einsum("jvw,jcwm->jcvm", Mx, Tc)
            for v in range(S):
                Tc[:, v, v, :] += (dg[:, v] * yin)[:, None] * u
            Ti = np.einsum("jvw,jwm->jvm", Mx, Ti) + a_in[:, :, None] * u
            Tf = np.einsum("jvw,jwm->jvm", Mx, Tf) + a_f[:, :, None] * u
            Tpi = np.einsum("jvw,jwm->jvm", Mx, Tpi) + a_in[:, :, None] * s_prev[:, None, :]
            Tpf = np.einsum("jvw,jwm->jvm", Mx, Tpf) + a_f[:, :, None] * s_prev[:, None, :]
            # output layer and errors
            zz = np.concatenate([[1.0], yc] + ([x[t]] if cfg.shortcuts else []))
            net_k = W["W_k"] @ zz
            yk = sig(net_k) if cfg.output_squashing == "sigmoid" else net_k
            dk = mask[t] * (yk - y[t]) * (yk * (1 - yk) if cfg.output_squashing == "sigmoid" else 1)
            Gt = {k: np.zeros_like(v) for k, v in W.items()}
            Gt["W_k"] = np.outer(dk, zz)
            ey = (W["W_k"][:, 1 : 1 + C].T @ dk).reshape(B, S)
            dout = yout * (1 - yout) * (h * ey).sum(1)
            Gt["W_out"] = np.outer(dout, u)
            es = yout[:, None] * dh * ey
            if cfg.peepholes:
                Gt["p_out"] = dout[:, None] * s
                if cfg.peephole_error:
                    es = es + dout[:, None] * W["p_out"]
                Gt["p_in"] = np.einsum("jv,jvm->jm", es, Tpi)
                if cfg.forget_gate:
                    Gt["p_phi"] = np.einsum("jv,jvm->jm", es, Tpf)
            Gt["W_c"] = np.einsum("jv,jcvm->jcm", es, Tc).reshape(C, U)
            Gt["W_in"] = np.einsum("jv,jvm->jm", es, Ti)
            if cfg.forget_gate:
                Gt["W_phi"] = np.einsum("jv,jvm->jm", es, Tf)
            gin, gout, gphi = yin, yout, (yphi if cfg.forget_gate else zeros(B))
            if per_step:
                apply(Gt)
            else:
                for k in G:
                    G[k] += Gt[k]
        if not per_step:
            apply(G)
    return W


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("update", ["step", "sequence"])
def test_updates_with_momentum_equal_the_direct_transcription(name: str, update: str) -> None:
    cfg = _config(name)
    net = OnlineLSTM(cfg, seed=3)
    start = {k: v.copy() for k, v in net.params.items()}
    seqs = [_data(200 + k, T=5 + 2 * k, I=3, K=2) for k in range(3)]
    xs, ys, ms = (list(a) for a in zip(*seqs, strict=True))
    net.train_sequences(xs, ys, ms, lr=0.3, momentum=0.7, update=update)
    ref = _transcription(cfg, start, seqs, lr=0.3, momentum=0.7, per_step=update == "step")
    _assert_close(net.params, ref, tol=1e-10)
    moved = max(float(np.abs(net.params[k] - start[k]).max()) for k in start)
    assert moved > 1e-3


def test_per_step_and_per_sequence_updates_differ_but_agree_on_one_step_sequences() -> None:
    cfg = _config("forget_blocks")
    x, y, mask = _data(1, T=6, I=3, K=2)
    a, b = OnlineLSTM(cfg, seed=0), OnlineLSTM(cfg, seed=0)
    a.train_sequence(x, y, lr=0.5, update="step")
    b.train_sequence(x, y, lr=0.5, update="sequence")
    assert np.abs(a.theta - b.theta).max() > 1e-6
    c, d = OnlineLSTM(cfg, seed=0), OnlineLSTM(cfg, seed=0)
    c.train_sequence(x[:1], y[:1], lr=0.5, update="step")
    d.train_sequence(x[:1], y[:1], lr=0.5, update="sequence")
    np.testing.assert_array_equal(c.theta, d.theta)


def test_train_sequences_in_one_call_equals_one_call_per_sequence() -> None:
    cfg = _config("1997_blocks_of_two")
    seqs = [_data(300 + k, T=4 + k, I=3, K=2) for k in range(4)]
    a, b = OnlineLSTM(cfg, seed=2), OnlineLSTM(cfg, seed=2)
    la = a.train_sequences([s[0] for s in seqs], [s[1] for s in seqs], lr=0.2, momentum=0.5)
    lb = [b.train_sequence(s[0], s[1], lr=0.2, momentum=0.5) for s in seqs]
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(la, lb)


# ------------------------------------------------------------------ state, determinism
def test_carried_state_continues_the_sequence_exactly() -> None:
    cfg = _config("peephole_error")
    net = OnlineLSTM(cfg, seed=4)
    x, y, mask = _data(9, T=10, I=3, K=2)
    whole = net.predict(x)
    first = net.predict(x[:4])
    rest = net.predict(x[4:], reset=False)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole, rtol=0, atol=1e-14)
    # the traces are carried too: the gradients of the two halves add up to the whole one
    _, g_all = net.gradient(x, y, mask)
    _, g1 = net.gradient(x[:4], y[:4], mask[:4])
    _, g2 = net.gradient(x[4:], y[4:], mask[4:], reset=False)
    _assert_close({k: g1[k] + g2[k] for k in g1}, g_all, tol=1e-12)


def test_predict_sequences_equals_one_predict_per_sequence() -> None:
    net = OnlineLSTM(_config("1997_blocks_of_two"), seed=1)
    xs = [_data(50 + k, T=3 + k, I=3, K=2)[0] for k in range(4)]
    outs = net.predict_sequences(xs)
    assert [o.shape for o in outs] == [(3 + k, 2) for k in range(4)]
    for x, o in zip(xs, outs, strict=True):
        np.testing.assert_array_equal(o, net.predict(x))
    net.reset_state()
    stream = net.predict_sequences(xs, reset=False)  # the pieces continue one another
    np.testing.assert_allclose(np.concatenate(stream), net.predict(np.concatenate(xs)), atol=1e-14)
    assert np.abs(stream[1] - outs[1]).max() > 1e-6


def test_same_seed_same_net_and_state_dict_round_trip() -> None:
    cfg = _config("forget_blocks")
    a, b = OnlineLSTM(cfg, seed=5), OnlineLSTM(cfg, seed=5)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert np.abs(a.theta - OnlineLSTM(cfg, seed=6).theta).max() > 0
    x, y, _ = _data(0, T=7, I=3, K=2)
    a.train_sequence(x, y, lr=0.1, momentum=0.9)
    c = OnlineLSTM(cfg, seed=0)
    c.load_state_dict(a.state_dict())
    a.train_sequence(x, y, lr=0.1, momentum=0.9)
    c.train_sequence(x, y, lr=0.1, momentum=0.9)
    np.testing.assert_array_equal(a.theta, c.theta)


def test_config_sizes_and_parameter_order() -> None:
    cfg = OnlineLSTMConfig(
        input_size=7, output_size=7, blocks=3, cells_per_block=2, forget_gate=True,
        peepholes=True, gate_recurrence=True, shortcuts=True,
    )  # fmt: skip
    assert cfg.cells == 6
    assert cfg.sources == 1 + 7 + 6 + 3 * 3  # bias, inputs, cells, three gates per block
    assert cfg.output_fan_in == 1 + 6 + 7
    shapes = cfg.shapes()
    assert list(shapes) == [n for n in lo.PARAM_NAMES if n in shapes] == list(lo.PARAM_NAMES)
    assert shapes["W_c"] == (6, 23) and shapes["p_phi"] == (3, 2) and shapes["W_k"] == (7, 14)
    net = OnlineLSTM(cfg)
    assert net.theta.size == sum(a * b for a, b in shapes.values())
    plain = OnlineLSTMConfig(input_size=2, output_size=1).shapes()
    assert list(plain) == ["W_c", "W_in", "W_out", "W_k"]


def test_cell_state_after_one_step_is_the_gated_cell_input_and_reset_zeroes_it() -> None:
    cfg = OnlineLSTMConfig(input_size=2, output_size=1, blocks=2, cells_per_block=2)
    net = OnlineLSTM(cfg, seed=8)
    x = np.array([[0.3, -1.2]])
    net.predict(x)
    p, u = net.params, np.array([1.0, 0.3, -1.2, 0, 0, 0, 0])
    y_in = 1 / (1 + np.exp(-(p["W_in"] @ u)))  # (B,)
    g = 2 * np.tanh(0.5 * (p["W_c"] @ u))  # g(x) = 4 sigma(x) - 2
    np.testing.assert_allclose(net.cell_state, np.repeat(y_in, 2) * g, rtol=0, atol=1e-15)
    net.reset_state()
    np.testing.assert_array_equal(net.cell_state, 0.0)
    np.testing.assert_array_equal(net.predict(x, reset=False), net.predict(x))


def test_gate_biases_are_set_per_block_cycled() -> None:
    cfg = OnlineLSTMConfig(
        input_size=2, output_size=1, blocks=4, forget_gate=True, input_gate_bias=(-0.5,),
        output_gate_bias=(-1.0, -2.0), forget_gate_bias=(1.5,),
    )  # fmt: skip
    p = OnlineLSTM(cfg).params
    np.testing.assert_array_equal(p["W_out"][:, 0], [-1.0, -2.0, -1.0, -2.0])
    np.testing.assert_array_equal(p["W_in"][:, 0], [-0.5] * 4)
    np.testing.assert_array_equal(p["W_phi"][:, 0], [1.5] * 4)
    assert np.abs(p["W_c"]).max() <= cfg.init_range


def test_training_learns_a_one_step_delay() -> None:
    """Online SGD lowers the error of predicting the previous input bit."""
    cfg = OnlineLSTMConfig(input_size=1, output_size=1, blocks=2, cells_per_block=2,
                           init_range=0.2)  # fmt: skip
    net = OnlineLSTM(cfg, seed=0)
    rng = np.random.default_rng(0)
    xs = [rng.integers(0, 2, (12, 1)).astype(float) for _ in range(1500)]
    ys = [np.vstack([[0.5], x[:-1]]) for x in xs]
    losses = net.train_sequences(xs, ys, lr=0.5, momentum=0.5)
    assert losses[-100:].mean() < 0.5 * losses[:100].mean()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(input_size=0),
        dict(blocks=1.5),
        dict(cells_per_block=True),
        dict(cell_input="relu"),
        dict(output_squashing="softmax"),
        dict(init_range=0.0),
        dict(output_gate_bias=[-1.0]),
        dict(forget_gate_bias=(1.0,)),
        dict(peephole_error=True),
    ],
)
def test_bad_config_raises_rnnai_error(kwargs: dict) -> None:
    base = dict(input_size=2, output_size=1)
    with pytest.raises(RnnaiError):
        OnlineLSTMConfig(**(base | kwargs))


def test_bad_inputs_raise_rnnai_error() -> None:
    net = OnlineLSTM(OnlineLSTMConfig(input_size=2, output_size=1))
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(RnnaiError, match="shape"):
        net.predict(np.zeros((4, 3)))
    with pytest.raises(RnnaiError, match="shape"):
        net.predict(np.zeros(4))
    with pytest.raises(RnnaiError, match="finite"):
        net.predict(np.full((4, 2), np.nan))
    with pytest.raises(RnnaiError, match="steps"):
        net.gradient(x, np.zeros((3, 1)))
    with pytest.raises(RnnaiError, match="mask"):
        net.gradient(x, y, mask=np.ones(3))
    with pytest.raises(RnnaiError, match="targets must be finite"):
        net.gradient(x, np.full((4, 1), np.inf))
    with pytest.raises(RnnaiError, match="masks must be finite and >= 0"):
        net.train_sequence(x, y, np.array([1.0, -1.0, 1.0, 1.0]), lr=0.1)
    with pytest.raises(RnnaiError, match="real numbers"):
        net.predict([["a", "b"]])
    before = net.theta.copy()
    with pytest.raises(RnnaiError, match="finite"):
        net.train_sequences([x, np.full((2, 2), np.nan)], [y, y[:2]], lr=0.1)
    np.testing.assert_array_equal(net.theta, before)  # checked before any update
    with pytest.raises(RnnaiError, match="lr"):
        net.train_sequence(x, y, lr=-1.0)
    with pytest.raises(RnnaiError, match="momentum"):
        net.train_sequence(x, y, lr=0.1, momentum=1.0)
    with pytest.raises(RnnaiError, match="update"):
        net.train_sequence(x, y, lr=0.1, update="epoch")
    with pytest.raises(RnnaiError, match="list"):
        net.train_sequences(x, [y], lr=0.1)
    with pytest.raises(RnnaiError, match="target"):
        net.train_sequences([x, x], [y], lr=0.1)
    with pytest.raises(RnnaiError, match="OnlineLSTMConfig"):
        OnlineLSTM({"input_size": 2})
    with pytest.raises(RnnaiError, match="seed"):
        OnlineLSTM(net.config, seed=1.5)
    with pytest.raises(RnnaiError, match="shape"):
        net.load_state_dict({"theta": np.zeros(3), "velocity": net.velocity, "state": np.zeros(1)})


def test_module_doctests_pass() -> None:
    result = doctest.testmod(lo)
    assert result.attempted > 0 and result.failed == 0
