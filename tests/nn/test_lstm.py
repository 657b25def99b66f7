"""Tests of rnnai.nn.lstm: torch.nn.LSTM equivalence, every variant against a direct
transcription of the paper equations, float64 gradient checks, lengths/packing, bad input."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnai.nn.lstm import ACTIVATIONS, LSTM, VARIANTS, LSTMVariant, get_variant

GREFF = ["vanilla", "nig", "nfg", "nog", "niaf", "noaf", "np", "cifg", "fgr"]


def _act(x: torch.Tensor, name: str) -> torch.Tensor:
    ab = ACTIVATIONS[name]
    if ab is None:
        return x
    return ab[0] * torch.tanh(ab[1] * x)


def reference(
    m: LSTM, x: torch.Tensor, h0=None, c0=None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One-layer, one-direction LSTM written straight from Greff et al.'s Eqs. 1-6 (autograd)."""
    v = m.variant
    T, B, _ = x.shape
    H = m.hidden_size
    W, R = m.weight_ih_l0, m.weight_hh_l0
    b = m.bias_ih_l0 + m.bias_hh_l0
    blocks = dict(zip(v.gates, range(len(v.gates)), strict=True))
    P = dict(zip(v.peephole_gates, getattr(m, "weight_peep_l0", torch.empty(0)), strict=False))
    y = torch.zeros(B, H, dtype=x.dtype) if h0 is None else h0
    c = torch.zeros(B, H, dtype=x.dtype) if c0 is None else c0
    prev_gates = None
    outs = []
    for t in range(T):
        y_rec = y.detach() if v.truncate_gradient else y
        a = x[t] @ W.t() + y_rec @ R.t() + b
        if v.full_gate_recurrence and prev_gates is not None:
            a_sig = prev_gates @ m.weight_gg_l0.t()
            sig = [g for g in v.gates if g != "g"]
            a = a.clone()
            for k, g in enumerate(sig):
                j = blocks[g]
                a[:, j * H : (j + 1) * H] = (
                    a[:, j * H : (j + 1) * H] + a_sig[:, k * H : (k + 1) * H]
                )

        def pre(g, a=a):
            j = blocks[g]
            return a[:, j * H : (j + 1) * H]

        z = _act(pre("g"), v.input_activation)  # Eq. 1
        i = torch.sigmoid(pre("i") + P.get("i", 0) * c) if v.input_gate else 1.0  # Eq. 2
        if v.forget_gate:
            f = torch.sigmoid(pre("f") + P.get("f", 0) * c)  # Eq. 3
        elif v.coupled_input_forget:
            f = 1.0 - i
        else:
            f = 1.0
        c = z * i + c * f  # Eq. 4
        o = torch.sigmoid(pre("o") + P.get("o", 0) * c) if v.output_gate else 1.0  # Eq. 5
        y = _act(c, v.output_activation) * o  # Eq. 6
        if v.full_gate_recurrence:
            prev_gates = torch.cat([gv for gv in (i, f, o) if isinstance(gv, torch.Tensor)], dim=1)
        outs.append(y)
    return torch.stack(outs), y, c


def _copy_from_torch(ours: LSTM, ref: torch.nn.LSTM) -> None:
    sd = ours.state_dict()
    for k, t in ref.state_dict().items():
        sd[k].copy_(t)
    for k in sd:
        if k not in ref.state_dict():
            sd[k].zero_()


@pytest.mark.parametrize("variant", ["torch", "vanilla"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_torch_lstm_with_copied_weights(variant: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=bidirectional)
    ours = LSTM(5, 7, num_layers=2, bidirectional=bidirectional, variant=variant)
    _copy_from_torch(ours, ref)  # vanilla with zero peepholes = the same math, generic path
    x = torch.randn(9, 4, 5)
    D = 2 if bidirectional else 1
    h0, c0 = torch.randn(2 * D, 4, 7), torch.randn(2 * D, 4, 7)
    y1, (h1, c1) = ref(x, (h0, c0))
    y2, (h2, c2) = ours(x, (h0, c0))
    tol = 0.0 if variant == "torch" else 1e-6
    assert (y1 - y2).abs().max() <= tol
    assert (h1 - h2).abs().max() <= tol and (c1 - c2).abs().max() <= tol


@pytest.mark.parametrize("variant", ["torch", "vanilla"])
def test_lengths_match_torch_packed(variant: str) -> None:
    torch.manual_seed(1)
    ref = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True, batch_first=True)
    ours = LSTM(3, 6, num_layers=2, bidirectional=True, batch_first=True, variant=variant)
    _copy_from_torch(ours, ref)
    x = torch.randn(4, 8, 3)
    lens = [8, 2, 5, 1]
    yp, (h1, c1) = ref(pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
    y1, _ = pad_packed_sequence(yp, batch_first=True, total_length=8)
    y2, (h2, c2) = ours(x, lengths=lens)
    assert torch.allclose(y1, y2, atol=1e-6)
    assert torch.allclose(h1, h2, atol=1e-6) and torch.allclose(c1, c2, atol=1e-6)
    # packed in -> packed out
    y3p, (h3, _) = ours(pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False))
    y3, _ = pad_packed_sequence(y3p, batch_first=True, total_length=8)
    assert torch.allclose(y3, y2, atol=1e-6) and torch.allclose(h3, h2, atol=1e-6)


@pytest.mark.parametrize("variant", GREFF + ["lstm1997", "lstm1997_full_gradient"])
def test_forward_and_gradients_match_paper_equations(variant: str) -> None:
    torch.manual_seed(2)
    m = LSTM(3, 5, variant=variant, dtype=torch.float64)
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    h0 = torch.randn(1, 4, 5, dtype=torch.float64)
    c0 = torch.randn(1, 4, 5, dtype=torch.float64)
    y, (h, c) = m(x, (h0, c0))
    ry, rh, rc = reference(m, x, h0[0], c0[0])
    assert torch.allclose(y, ry, atol=1e-12)
    assert torch.allclose(h[0], rh, atol=1e-12) and torch.allclose(c[0], rc, atol=1e-12)
    w = torch.randn_like(y)
    g_ours = torch.autograd.grad((y * w).sum() + h.sum() + 2 * c.sum(), list(m.parameters()))
    g_ref = torch.autograd.grad((ry * w).sum() + rh.sum() + 2 * rc.sum(), list(m.parameters()))
    for a, b in zip(g_ours, g_ref, strict=True):
        assert torch.allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - {"lstm1997"}))
def test_gradcheck_float64_two_layers_bidirectional_lengths(variant: str) -> None:
    torch.manual_seed(3)
    m = LSTM(3, 4, num_layers=2, bidirectional=True, variant=variant, dtype=torch.float64)
    x = torch.randn(6, 3, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, 3, 4, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in m.named_parameters()]

    def f(x, h0, c0, *ps):
        out = torch.func.functional_call(
            m, dict(zip(names, ps, strict=True)), (x, (h0, c0)), {"lengths": [6, 2, 4]}
        )
        y, (h, c) = out
        return y, h, c

    assert torch.autograd.gradcheck(
        f, (x, h0, c0, *m.parameters()), eps=1e-6, atol=1e-6, fast_mode=True
    )


def test_truncated_gradient_cuts_recurrent_error_but_keeps_cec() -> None:
    torch.manual_seed(4)
    m = LSTM(2, 3, variant="lstm1997", dtype=torch.float64)
    x = torch.randn(10, 1, 2, dtype=torch.float64, requires_grad=True)
    y, _ = m(x)
    (gx,) = torch.autograd.grad(y[-1].sum(), x)
    full = LSTM(2, 3, variant="lstm1997_full_gradient", dtype=torch.float64)
    full.load_state_dict(m.state_dict())
    yf, _ = full(x)
    (gxf,) = torch.autograd.grad(yf[-1].sum(), x)
    assert gx[0].abs().sum() > 0  # error still reaches t=0 through the cell (CEC)
    assert not torch.allclose(gx, gxf)  # but less of it than the full gradient


def test_padded_steps_are_zero_and_final_state_is_at_each_sequence_end() -> None:
    torch.manual_seed(5)
    m = LSTM(3, 4, variant="vanilla")
    x = torch.randn(6, 3, 3)
    lens = [6, 2, 4]
    y, (h, c) = m(x, lengths=lens)
    for b, L in enumerate(lens):
        yb, (hb, cb) = m(x[:L, b : b + 1])
        assert torch.allclose(y[:L, b], yb[:, 0], atol=1e-6)
        assert (y[L:, b] == 0).all()
        assert torch.allclose(h[0, b], hb[0, 0], atol=1e-6)
        assert torch.allclose(c[0, b], cb[0, 0], atol=1e-6)


def test_unbatched_and_batch_first_agree() -> None:
    m = LSTM(3, 4, batch_first=True)
    x = torch.randn(5, 3)
    y1, (h1, _) = m(x)
    y2, (h2, _) = m(x.unsqueeze(0))
    assert y1.shape == (5, 4) and h1.shape == (1, 4)
    assert torch.allclose(y1, y2[0]) and torch.allclose(h1, h2[:, 0])


def test_state_carries_across_calls() -> None:
    m = LSTM(3, 4, variant="vanilla")
    x = torch.randn(8, 2, 3)
    y_all, _ = m(x)
    y1, s = m(x[:5])
    y2, _ = m(x[5:], s)
    assert torch.allclose(torch.cat([y1, y2]), y_all, atol=1e-6)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((5, 2, 4), r"H_in=3.*\(5, 2, 4\)"),
        ((5,), r"2-D .* or 3-D input, got shape \(5,\)"),
        ((1, 5, 2, 3), "3-D"),
    ],
)
def test_bad_input_shape_names_expected_and_received(shape, match) -> None:
    m = LSTM(3, 4)
    with pytest.raises(ValueError, match=match):
        m(torch.randn(*shape))


def test_bad_state_shape_and_dtype_and_lengths_raise_clear_errors() -> None:
    m = LSTM(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3)
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        m(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="dtype"):
        m(x.double())
    with pytest.raises(ValueError, match="floating-point"):
        m(torch.ones(5, 2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 5\]"):
        m(x, lengths=[6, 1])
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        m(x, lengths=[5])


def test_unknown_variant_and_bad_config_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown LSTM variant 'nope'"):
        LSTM(3, 4, variant="nope")
    with pytest.raises(ValueError, match="CIFG"):
        LSTMVariant(coupled_input_forget=True)
    with pytest.raises(ValueError, match="unknown input_activation"):
        LSTMVariant(input_activation="relu")
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(3, 0)


def test_presets_have_the_papers_structure() -> None:
    v97 = get_variant("lstm1997")
    assert v97.gates == ("i", "g", "o") and v97.truncate_gradient and not v97.peepholes
    assert get_variant("gers2002").peepholes and get_variant("gers2002").forget_gate
    assert get_variant("torch").is_torch_lstm and not get_variant("vanilla").is_torch_lstm
    m = LSTM(3, 4, variant="cifg")
    assert m.weight_ih_l0.shape == (3 * 4, 3)  # i, g, o: f = 1 - i has no weights
    assert m.weight_peep_l0.shape == (2, 4)
    assert LSTM(3, 4, variant="fgr").weight_gg_l0.shape == (12, 12)


def test_the_1997_squashing_functions() -> None:
    x = torch.linspace(-5, 5, 11, dtype=torch.float64)
    assert torch.allclose(_act(x, "g1997"), 4 * torch.sigmoid(x) - 2)
    assert torch.allclose(_act(x, "h1997"), 2 * torch.sigmoid(x) - 1)


@pytest.mark.parametrize("variant", ["vanilla", "lstm1997", "cifg", "torch"])
def test_trace_reproduces_forward_and_exposes_gates(variant: str) -> None:
    m = LSTM(3, 4, num_layers=2, variant=variant)
    x = torch.randn(6, 2, 3)
    tr = m.trace(x)
    ref = LSTM(3, 4, variant=variant)
    ref.load_state_dict({k: v for k, v in m.state_dict().items() if "_l0" in k})
    y, (_, c) = ref(x)
    assert torch.allclose(tr["y"], y, atol=1e-6) and torch.allclose(tr["c"][-1], c[0], atol=1e-6)
    v = m.variant
    assert ("f" in tr) == (v.forget_gate or v.coupled_input_forget)
    assert ("o" in tr) == v.output_gate
    for k in ("i", "f", "o"):
        if k in tr:
            assert tr[k].shape == (6, 2, 4) and (tr[k] >= 0).all() and (tr[k] <= 1).all()
