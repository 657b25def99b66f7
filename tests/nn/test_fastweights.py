"""Tests of rnnai.nn.fastweights: the sum and delta rules against direct transcriptions of the
equations, chunk-parallel vs recurrent forms, causal linear attention, feature maps, the layer,
the 1992 programmer, gradient checks, state carrying, memory growth and bad input."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from rnnai.nn.fastweights import (
    FEATURE_MAPS,
    FastWeightLayer,
    FastWeightProgrammer1992,
    FeatureMap,
    delta_rule,
    dpfp,
    elu_plus_one,
    sum_normalize,
    sum_rule,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def ref_delta(q, k, v, beta, W0=None):
    """Delta rule written from the equations, one sequence and head at a time, in Python loops."""
    N, H, L, dk = q.shape
    dv = v.shape[-1]
    Y = torch.zeros(N, H, L, dv, dtype=q.dtype)
    Ws = torch.zeros(N, H, dv, dk, dtype=q.dtype)
    for n in range(N):
        for h in range(H):
            W = torch.zeros(dv, dk, dtype=q.dtype) if W0 is None else W0[n, h]
            rows = []
            for t in range(L):
                v_bar = W @ k[n, h, t]  # v-bar_t = W_{t-1} phi(k_t)
                W = W + beta[n, h, t] * torch.outer(v[n, h, t] - v_bar, k[n, h, t])
                rows.append(W @ q[n, h, t])  # y_t = W_t phi(q_t)
            Y[n, h] = torch.stack(rows)
            Ws[n, h] = W
    return Y, Ws


def ref_sum(q, k, v, W0=None):
    """Sum rule from the equations: W_t = W_{t-1} + v_t k_t^T, y_t = W_t q_t."""
    N, H, L, dk = q.shape
    W = torch.zeros(N, H, v.shape[-1], dk, dtype=q.dtype) if W0 is None else W0
    ys = []
    for t in range(L):
        W = W + torch.einsum("nhv,nhk->nhvk", v[:, :, t], k[:, :, t])
        ys.append(torch.einsum("nhvk,nhk->nhv", W, q[:, :, t]))
    return torch.stack(ys, 2), W


def _qkvb(N=2, H=2, L=11, dk=5, dv=4, seed=0, dtype=D64):
    g = torch.Generator().manual_seed(seed)
    q = sum_normalize(torch.rand(N, H, L, dk, generator=g, dtype=dtype))
    k = sum_normalize(torch.rand(N, H, L, dk, generator=g, dtype=dtype))
    v = torch.randn(N, H, L, dv, generator=g, dtype=dtype)
    beta = torch.rand(N, H, L, generator=g, dtype=dtype)
    W0 = torch.randn(N, H, dv, dk, generator=g, dtype=dtype)
    return q, k, v, beta, W0


# ------------------------------------------------------------------ the rules' two forms


@pytest.mark.parametrize(("L", "C"), [(1, 4), (8, 4), (11, 4), (16, 16), (13, 32), (37, 8)])
def test_delta_rule_chunk_and_recurrent_equal_the_transcription(L: int, C: int) -> None:
    q, k, v, beta, W0 = _qkvb(L=L)
    # unnormalised keys too: the WY form holds for any keys and rates
    k = k * 3.0
    ry, rW = ref_delta(q, k, v, beta, W0)
    for mode in ("recurrent", "chunk"):
        y, W = delta_rule(q, k, v, beta, initial_state=W0, mode=mode, chunk_size=C)
        assert (y - ry).abs().max() < 1e-12, mode
        assert (W - rW).abs().max() < 1e-12, mode


def test_delta_rule_chunk_form_in_float32_is_as_accurate_as_the_loop() -> None:
    q, k, v, beta, _ = _qkvb(N=1, H=2, L=512, dk=16, dv=8, seed=15)
    exact, _ = delta_rule(q, k, v, beta, mode="recurrent")
    f32 = [t.float() for t in (q, k, v, beta)]
    err_chunk = (delta_rule(*f32, chunk_size=64)[0].double() - exact).abs().max()
    err_loop = (delta_rule(*f32, mode="recurrent")[0].double() - exact).abs().max()
    assert err_chunk < 10 * err_loop + 1e-6


@pytest.mark.parametrize(("L", "C"), [(1, 4), (8, 4), (11, 4), (13, 32), (37, 8)])
def test_sum_rule_chunk_and_recurrent_equal_the_transcription(L: int, C: int) -> None:
    q, k, v, _, W0 = _qkvb(L=L, seed=1)
    ry, rW = ref_sum(q, k, v, W0)
    for mode in ("recurrent", "chunk"):
        y, W = sum_rule(q, k, v, initial_state=W0, mode=mode, chunk_size=C)
        assert (y - ry).abs().max() < 1e-12, mode
        assert (W - rW).abs().max() < 1e-12, mode


def test_sum_rule_is_causal_linear_attention_unnormalised_and_normalised() -> None:
    g = torch.Generator().manual_seed(2)
    q = elu_plus_one(torch.randn(2, 3, 20, 6, generator=g, dtype=D64))
    k = elu_plus_one(torch.randn(2, 3, 20, 6, generator=g, dtype=D64))
    v = torch.randn(2, 3, 20, 5, generator=g, dtype=D64)
    mask = torch.ones(20, 20, dtype=torch.bool).tril()
    scores = (q @ k.transpose(-1, -2)).masked_fill(~mask, 0.0)  # kappa(k_i, q_t), i <= t
    y, _ = sum_rule(q, k, v, chunk_size=8)
    assert (y - scores @ v).abs().max() < 1e-12
    # Katharopoulos et al.'s normalised form: the sum rule with an extra all-ones value column
    # gives the denominator sum_i phi(k_i) . phi(q_t).
    yz, _ = sum_rule(q, k, torch.cat([v, torch.ones_like(v[..., :1])], -1), chunk_size=8)
    normalised = yz[..., :-1] / yz[..., -1:]
    assert (normalised - (scores / scores.sum(-1, keepdim=True)) @ v).abs().max() < 1e-12


@pytest.mark.parametrize("rule", ["delta", "sum"])
@pytest.mark.parametrize("mode", ["chunk", "recurrent"])
def test_chunked_calls_carrying_the_state_equal_one_whole_call(rule: str, mode: str) -> None:
    q, k, v, beta, W0 = _qkvb(L=23, seed=3)

    def run(sl, W):
        if rule == "delta":
            return delta_rule(
                q[..., sl, :],
                k[..., sl, :],
                v[..., sl, :],
                beta[..., sl],
                initial_state=W,
                mode=mode,
                chunk_size=4,
            )
        return sum_rule(
            q[..., sl, :], k[..., sl, :], v[..., sl, :], initial_state=W, mode=mode, chunk_size=4
        )

    y, W = run(slice(None), W0)
    ya, Wa = run(slice(0, 9), W0)
    yb, Wb = run(slice(9, None), Wa)
    assert (torch.cat([ya, yb], 2) - y).abs().max() < 1e-12
    assert (Wb - W).abs().max() < 1e-12


def test_delta_rule_gradients_of_both_forms_agree() -> None:
    q, k, v, beta, W0 = _qkvb(L=19, seed=4)
    leaves = [t.requires_grad_() for t in (q, k, v, beta, W0)]
    w = torch.randn(2, 2, 19, 4, dtype=D64)
    grads = []
    for mode in ("recurrent", "chunk"):
        y, W = delta_rule(q, k, v, beta, initial_state=W0, mode=mode, chunk_size=5)
        grads.append(torch.autograd.grad((y * w).sum() + (W**2).sum(), leaves))
    for a, b in zip(*grads, strict=True):
        assert (a - b).abs().max() < 1e-11


@pytest.mark.parametrize("mode", ["chunk", "recurrent"])
def test_gradcheck_delta_rule(mode: str) -> None:
    q, k, v, beta, W0 = _qkvb(N=1, H=2, L=7, dk=3, dv=2, seed=5)
    args = tuple(t.requires_grad_() for t in (q, k, v, beta, W0))

    def f(q, k, v, beta, W0):
        return delta_rule(q, k, v, beta, initial_state=W0, mode=mode, chunk_size=3)

    assert torch.autograd.gradcheck(f, args)


@pytest.mark.parametrize("mode", ["chunk", "recurrent"])
def test_gradcheck_sum_rule(mode: str) -> None:
    q, k, v, _, W0 = _qkvb(N=1, H=1, L=6, dk=3, dv=2, seed=6)
    args = tuple(t.requires_grad_() for t in (q, k, v, W0))

    def f(q, k, v, W0):
        return sum_rule(q, k, v, initial_state=W0, mode=mode, chunk_size=4)

    assert torch.autograd.gradcheck(f, args)


def _saved_bytes(fn) -> int:
    """Bytes of distinct storages autograd saves for backward while fn() runs."""
    seen: dict[int, int] = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def test_chunk_form_saves_memory_linear_in_length() -> None:
    def run(L):
        q, k, v, beta, _ = _qkvb(N=1, H=1, L=L, dk=16, dv=16, seed=7, dtype=torch.float32)
        for t in (q, k, v, beta):
            t.requires_grad_()
        return _saved_bytes(lambda: delta_rule(q, k, v, beta, chunk_size=32))

    small, big = run(1024), run(4096)
    assert big < 4.4 * small  # linear (4x the length), far from the 16x of a T x T matrix


# ------------------------------------------------------------------ feature maps


def test_dpfp_equals_products_of_the_shifted_relu_copies() -> None:
    x = torch.randn(3, 5, dtype=D64)
    for nu in (1, 2, 3):
        phi = dpfp(x, nu)
        assert phi.shape == (3, 2 * nu * 5)
        z = torch.cat([x.clamp(min=0), (-x).clamp(min=0)], -1)  # [r(x), r(-x)], size 2d
        want = torch.stack(
            [z[:, i] * z[:, (i + j) % 10] for j in range(1, nu + 1) for i in range(10)], -1
        )
        assert torch.equal(phi, want)
        assert FeatureMap(f"dpfp-{nu}", 5)(x).equal(phi)


def test_feature_maps_sizes_and_positivity() -> None:
    x = torch.randn(4, 8)
    sizes = {"identity": 8, "elu+1": 8, "dpfp-1": 16, "dpfp-2": 32, "dpfp-3": 48, "favor+": 24}
    for name, size in sizes.items():
        phi = FeatureMap(name, 8, num_features=24, generator=torch.Generator().manual_seed(0))
        out = phi(x)
        assert out.shape == (4, size) and phi.out_features == size
        if name != "identity":
            assert (out >= 0).all()
    assert torch.allclose(elu_plus_one(x), F.elu(x) + 1)
    assert len(FEATURE_MAPS) == 4


def test_favor_features_estimate_the_softmax_kernel() -> None:
    g = torch.Generator().manual_seed(1)
    phi = FeatureMap("favor+", 4, num_features=8192, generator=g)
    x, y = 0.3 * torch.randn(6, 4, generator=g), 0.3 * torch.randn(6, 4, generator=g)
    est = (phi(x) * phi(y)).sum(-1)
    assert torch.allclose(est, torch.exp((x * y).sum(-1)), rtol=0.05)


def test_sum_normalize_makes_components_sum_to_one() -> None:
    s = sum_normalize(torch.rand(3, 7) + 0.1).sum(-1)
    assert torch.allclose(s, torch.ones(3), atol=1e-5)


# ------------------------------------------------------------------ the layer


def _layer_reference(m: FastWeightLayer, x: torch.Tensor) -> torch.Tensor:
    """The layer from its definition: per-head projections, phi, Eq. 7, the rule, W_o."""
    N, L, _ = x.shape
    Hh, d = m.num_heads, m.d_head
    Wp = m.qkvb.weight
    outs = []
    for h in range(Hh):
        Wq = Wp[h * d : (h + 1) * d]
        Wk = Wp[Hh * d + h * d : Hh * d + (h + 1) * d]
        Wv = Wp[2 * Hh * d + h * d : 2 * Hh * d + (h + 1) * d]
        q, k, v = m.phi(x @ Wq.t()), m.phi(x @ Wk.t()), x @ Wv.t()  # (N, L, .)
        if m.sum_normalize:
            q, k = q / (q.sum(-1, keepdim=True) + 1e-6), k / (k.sum(-1, keepdim=True) + 1e-6)
        if m.rule == "delta":
            beta = torch.sigmoid(x @ Wp[3 * Hh * d + h])  # (N, L)
            y, _ = ref_delta(q[:, None], k[:, None], v[:, None], beta[:, None])
        else:
            y, _ = ref_sum(q[:, None], k[:, None], v[:, None])
        outs.append(y[:, 0])
    return torch.cat(outs, -1) @ m.out.weight.t()


@pytest.mark.parametrize(
    ("rule", "fmap"),
    [
        ("delta", "dpfp-1"),
        ("delta", "dpfp-2"),
        ("delta", "elu+1"),
        ("sum", "elu+1"),
        ("sum", "identity"),
        ("delta", "favor+"),
    ],
)
def test_layer_matches_the_equations(rule: str, fmap: str) -> None:
    torch.manual_seed(8)
    m = FastWeightLayer(
        6, num_heads=2, d_head=3, rule=rule, feature_map=fmap, chunk_size=4
    ).double()
    x = torch.randn(2, 9, 6, dtype=D64)
    y, W = m(x)
    assert W.shape == (2, 2, 3, m.d_phi)
    assert (y - _layer_reference(m, x)).abs().max() < 1e-12
    m.mode = "recurrent"
    assert (m(x)[0] - y).abs().max() < 1e-12


def test_layer_attention_normalize_is_katharopoulos_linear_attention() -> None:
    torch.manual_seed(14)
    m = FastWeightLayer(
        6,
        num_heads=2,
        d_head=3,
        rule="sum",
        feature_map="elu+1",
        attention_normalize=True,
        chunk_size=4,
    ).double()
    x = torch.randn(2, 9, 6, dtype=D64)
    y, W = m(x)
    assert W.shape == (2, 2, 4, 3)  # d_head + 1 rows: the last is z_t = sum_i phi(k_i)
    Wp, Hh, d = m.qkvb.weight, 2, 3
    mask = torch.ones(9, 9, dtype=torch.bool).tril()
    heads = []
    for h in range(Hh):
        q = m.phi(x @ Wp[h * d : (h + 1) * d].t())
        k = m.phi(x @ Wp[Hh * d + h * d : Hh * d + (h + 1) * d].t())
        v = x @ Wp[2 * Hh * d + h * d : 2 * Hh * d + (h + 1) * d].t()
        a = (q @ k.transpose(-1, -2)).masked_fill(~mask, 0.0)  # (N, L, L)
        heads.append((a / a.sum(-1, keepdim=True)) @ v)
    assert (y - torch.cat(heads, -1) @ m.out.weight.t()).abs().max() < 1e-12
    ya, Wa = m(x[:, :5])
    yb, _ = m(x[:, 5:], Wa)
    assert (torch.cat([ya, yb], 1) - y).abs().max() < 1e-12
    with pytest.raises(RnnaiError, match="attention_normalize"):
        FastWeightLayer(6, rule="delta", attention_normalize=True)


def test_layer_time_major_input_and_state_carry() -> None:
    torch.manual_seed(9)
    m = FastWeightLayer(5, num_heads=2, d_head=4, batch_first=False, chunk_size=3).double()
    x = torch.randn(10, 3, 5, dtype=D64)  # (L, N, H_in)
    y, W = m(x)
    ya, Wa = m(x[:4])
    yb, Wb = m(x[4:], Wa)
    assert y.shape == (10, 3, 5)
    assert (torch.cat([ya, yb]) - y).abs().max() < 1e-12 and (Wb - W).abs().max() < 1e-12


def test_gradcheck_layer_parameters() -> None:
    torch.manual_seed(10)
    m = FastWeightLayer(4, num_heads=2, d_head=2, chunk_size=3, bias=True).double()
    x = torch.randn(2, 5, 4, dtype=D64, requires_grad=True)
    names = [n for n, _ in m.named_parameters()]

    def f(x, *ps):
        return torch.func.functional_call(m, dict(zip(names, ps, strict=True)), (x,))

    assert torch.autograd.gradcheck(f, (x, *[p.detach().requires_grad_() for p in m.parameters()]))


# ------------------------------------------------------------------ the 1992 programmer


@pytest.mark.parametrize("sigma", ["identity", "tanh", "sigmoid"])
def test_fwp1992_matches_the_equations(sigma: str) -> None:
    torch.manual_seed(11)
    m = FastWeightProgrammer1992(
        4, 3, fast_activation=sigma, unit_activation="tanh", chunk_size=4
    ).double()
    x = torch.randn(2, 7, 4, dtype=D64)
    y, W = m(x)
    act = {"identity": lambda t: t, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[sigma]
    Wr = torch.zeros(2, 3, 4, dtype=D64)
    for t in range(7):
        s = torch.tanh(m.slow(x[:, t]))
        a, b = s[:, :3], s[:, 3:]  # TO units, FROM units
        Wr = act(Wr + a[:, :, None] * b[:, None, :])  # W_t = sigma(W_{t-1} + a b^T)
        assert (y[:, t] - (Wr @ x[:, t, :, None])[..., 0]).abs().max() < 1e-12
    assert (W - Wr).abs().max() < 1e-12


def test_gradcheck_fwp1992() -> None:
    torch.manual_seed(12)
    m = FastWeightProgrammer1992(3, 2, fast_activation="tanh").double()
    x = torch.randn(1, 5, 3, dtype=D64, requires_grad=True)
    W0 = torch.randn(1, 2, 3, dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, W0: m(x, W0), (x, W0))


# ------------------------------------------------------------------ errors and devices


def test_bad_input_raises_rnnai_error() -> None:
    q, k, v, beta, _ = _qkvb()
    with pytest.raises(RnnaiError, match="feature map"):
        FeatureMap("dpfp-0", 4)
    with pytest.raises(RnnaiError, match="unknown feature map"):
        FastWeightLayer(4, feature_map="softmax")
    with pytest.raises(RnnaiError, match="rule"):
        FastWeightLayer(4, rule="hebb")
    with pytest.raises(RnnaiError, match="mode"):
        delta_rule(q, k, v, beta, mode="parallel")
    with pytest.raises(RnnaiError, match="chunk_size"):
        sum_rule(q, k, v, chunk_size=0)
    with pytest.raises(RnnaiError, match="beta"):
        delta_rule(q, k, v, beta[..., :-1])
    with pytest.raises(RnnaiError, match="q and k"):
        sum_rule(q, k[..., :-1], v)
    with pytest.raises(RnnaiError, match="initial_state"):
        sum_rule(q, k, v, initial_state=torch.zeros(1))
    with pytest.raises(RnnaiError, match=r"H_in=4"):
        FastWeightLayer(4, d_head=2)(torch.randn(2, 3, 5))
    with pytest.raises(RnnaiError, match="state"):
        FastWeightLayer(4, d_head=2)(torch.randn(2, 3, 4), torch.zeros(2, 1, 2, 3))
    with pytest.raises(RnnaiError, match="fast_activation"):
        FastWeightProgrammer1992(3, 2, fast_activation="relu")
    with pytest.raises(RnnaiError, match="dtype"):
        FastWeightLayer(4, d_head=2)(torch.randn(2, 3, 4, dtype=D64))
    with pytest.raises(RnnaiError, match="H_in=3"):
        FastWeightProgrammer1992(3, 2)(torch.randn(2, 3))
    with pytest.raises(RnnaiError, match="nu"):
        dpfp(torch.randn(3), 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_chunk_form_matches_cpu() -> None:
    q, k, v, beta, W0 = _qkvb(L=50, seed=13)
    y, W = delta_rule(q, k, v, beta, initial_state=W0, chunk_size=16)
    yc, Wc = delta_rule(
        *(t.cuda() for t in (q, k, v, beta)), initial_state=W0.cuda(), chunk_size=16
    )
    assert (yc.cpu() - y).abs().max() < 1e-10 and (Wc.cpu() - W).abs().max() < 1e-10
    m = FastWeightLayer(8, num_heads=2, d_head=4).cuda()
    assert m(torch.randn(2, 9, 8, device="cuda"))[0].is_cuda


# ---------------------------------------------------------- the 1992 programmer, paper forms


def _fwp1992_reference(m: FastWeightProgrammer1992, x, u, W0=None):
    """Direct transcription: a, b = S(u_t); read W_{t-1} x_t (or W_t x_t); W_t = sigma(...)."""
    N, L, _ = x.shape
    T = m.steepness
    sigma = {
        "identity": lambda w: w,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "logistic": lambda w: 1.0 / (1.0 + torch.exp(-T * (w - 0.5))),  # the paper's Eq. 7
    }[m.fast_activation]
    W = torch.zeros(N, m.output_size, m.input_size, dtype=x.dtype) if W0 is None else W0
    ys = []
    for t in range(L):
        s = m.slow((x if u is None else u)[:, t])
        a, b = s[:, : m.output_size], s[:, m.output_size :]
        if m.read_first:
            ys.append(torch.einsum("nij,nj->ni", W, x[:, t]))
        W = sigma(W + torch.einsum("ni,nj->nij", a, b))
        if not m.read_first:
            ys.append(torch.einsum("nij,nj->ni", W, x[:, t]))
    return torch.stack(ys, 1), W


@pytest.mark.parametrize("sigma", ["identity", "logistic", "tanh"])
@pytest.mark.parametrize("read_first", [False, True])
@pytest.mark.parametrize("slow_in", [None, 5])
def test_fwp1992_paper_forms_match_the_transcription(
    sigma: str, read_first: bool, slow_in: int | None
) -> None:
    torch.manual_seed(13)
    m = FastWeightProgrammer1992(
        3, 2, fast_activation=sigma, read_first=read_first, slow_input_size=slow_in,
        steepness=4.0, chunk_size=3,
    ).double()  # fmt: skip
    x = torch.randn(2, 8, 3, dtype=D64)
    u = None if slow_in is None else torch.randn(2, 8, slow_in, dtype=D64)
    W0 = 0.3 * torch.randn(2, 2, 3, dtype=D64)
    y, W = m(x, W0, u)
    yr, Wr = _fwp1992_reference(m, x, u, W0)
    torch.testing.assert_close(y, yr, rtol=0, atol=1e-10)
    torch.testing.assert_close(W, Wr, rtol=0, atol=1e-10)


def test_fwp1992_logistic_keeps_weights_in_the_unit_interval_with_stable_ends() -> None:
    torch.manual_seed(14)
    m = FastWeightProgrammer1992(3, 1, fast_activation="logistic", read_first=True).double()
    with torch.no_grad():
        m.slow.weight.zero_()
        m.slow.bias.zero_()  # no programming: W_t = sigma(W_{t-1})
    _, W_hi = m(torch.zeros(1, 50, 3, dtype=D64), torch.full((1, 1, 3), 0.9, dtype=D64))
    _, W_lo = m(torch.zeros(1, 50, 3, dtype=D64), torch.full((1, 1, 3), 0.1, dtype=D64))
    # T = 10: the fixed points near 1 and 0 attract, so an unprogrammed weight holds its bit
    assert W_hi.min() > 0.99 and W_lo.max() < 0.01


def test_gradcheck_fwp1992_paper_form() -> None:
    torch.manual_seed(15)
    m = FastWeightProgrammer1992(
        2, 2, fast_activation="logistic", read_first=True, slow_input_size=3, steepness=2.0
    ).double()
    x = torch.randn(1, 4, 2, dtype=D64, requires_grad=True)
    u = torch.randn(1, 4, 3, dtype=D64, requires_grad=True)
    W0 = torch.rand(1, 2, 2, dtype=D64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, W0, u: m(x, W0, u), (x, W0, u))


def test_fwp1992_paper_form_bad_input_raises_rnnai_error() -> None:
    with pytest.raises(RnnaiError, match="expected an input u"):
        FastWeightProgrammer1992(3, 2, slow_input_size=4)(torch.randn(2, 5, 3))
    with pytest.raises(RnnaiError, match="expected u=None"):
        FastWeightProgrammer1992(3, 2)(torch.randn(2, 5, 3), None, torch.randn(2, 5, 4))
    with pytest.raises(RnnaiError, match="H_in=4"):
        FastWeightProgrammer1992(3, 2, slow_input_size=4)(torch.randn(2, 5, 3), None,
                                                          torch.randn(2, 5, 5))  # fmt: skip
    with pytest.raises(RnnaiError, match=r"\(N, L\)"):
        FastWeightProgrammer1992(3, 2, slow_input_size=4)(torch.randn(2, 5, 3), None,
                                                          torch.randn(2, 6, 4))  # fmt: skip
    with pytest.raises(RnnaiError, match="steepness"):
        FastWeightProgrammer1992(3, 2, steepness=0.0)
    with pytest.raises(RnnaiError, match="unit_activation"):
        FastWeightProgrammer1992(3, 2, unit_activation="relu")
