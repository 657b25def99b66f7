"""Tests of rnnai.nn.lstm: torch.nn.LSTM equivalence, every variant against a direct
transcription of the paper equations, float64 gradient checks, lengths/packing, the recurrent
state carried across calls (FGR's gates included), LSTMCell against LSTM and torch.nn.LSTMCell,
bad input."""

from __future__ import annotations

import dataclasses
import doctest

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnai.nn.lstm import ACTIVATIONS, LSTM, VARIANTS, LSTMCell, LSTMVariant, get_variant
from rnnai.runtime.errors import RnnaiError

GREFF = ["vanilla", "nig", "nfg", "nog", "niaf", "noaf", "np", "cifg", "fgr"]
CUSTOM = {
    "fgr_cifg_1997_truncated": LSTMVariant(
        forget_gate=False,
        coupled_input_forget=True,
        full_gate_recurrence=True,
        truncate_gradient=True,
        input_activation="g1997",
        output_activation="h1997",
    ),
    "fgr_nog": LSTMVariant(output_gate=False, full_gate_recurrence=True),
    "no_gates_noaf": LSTMVariant(
        input_gate=False, forget_gate=False, output_gate=False, output_activation="identity"
    ),
}
EVERY = sorted(VARIANTS) + sorted(CUSTOM)
"""Every preset and a few other `LSTMVariant`s (FGR with the truncated gradient, no gates)."""


def _variant(name: str) -> LSTMVariant:
    return CUSTOM[name] if name in CUSTOM else get_variant(name)


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
    y, state = m(x, (h0, c0))
    h, c = state[0], state[1]
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
    state = [h0, c0]
    if m.variant.full_gate_recurrence:  # FGR's state also holds the previous gates (S*H wide)
        S = len(m.variant.sigmoid_gates)
        state.append(torch.rand(4, 3, S * 4, dtype=torch.float64, requires_grad=True))
    names = [n for n, _ in m.named_parameters()]
    k = len(state)

    def f(*args):
        params = dict(zip(names, args[1 + k :], strict=True))
        y, final = torch.func.functional_call(
            m, params, (args[0], tuple(args[1 : 1 + k])), {"lengths": [6, 2, 4]}
        )
        return (y, *final)

    assert torch.autograd.gradcheck(
        f, (x, *state, *m.parameters()), eps=1e-6, atol=1e-6, fast_mode=True
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


@pytest.mark.parametrize("variant", ["vanilla", "fgr"])
def test_padded_steps_are_zero_and_final_state_is_at_each_sequence_end(variant: str) -> None:
    torch.manual_seed(5)
    m = LSTM(3, 4, variant=variant)
    x = torch.randn(6, 3, 3)
    lens = [6, 2, 4]
    y, state = m(x, lengths=lens)
    for b, L in enumerate(lens):
        yb, state_b = m(x[:L, b : b + 1])
        assert torch.allclose(y[:L, b], yb[:, 0], atol=1e-6)
        assert (y[L:, b] == 0).all()
        assert len(state) == len(state_b) == (3 if variant == "fgr" else 2)
        for part, part_b in zip(state, state_b, strict=True):  # h, c (and FGR's g)
            assert torch.allclose(part[0, b], part_b[0, 0], atol=1e-6)


def test_unbatched_and_batch_first_agree() -> None:
    m = LSTM(3, 4, batch_first=True)
    x = torch.randn(5, 3)
    y1, (h1, _) = m(x)
    y2, (h2, _) = m(x.unsqueeze(0))
    assert y1.shape == (5, 4) and h1.shape == (1, 4)
    assert torch.allclose(y1, y2[0]) and torch.allclose(h1, h2[:, 0])


@pytest.mark.parametrize("variant", EVERY)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_a_sequence_split_over_calls_gives_the_whole_sequence_outputs_and_gradients(
    variant: str, num_layers: int
) -> None:
    torch.manual_seed(6)
    m = LSTM(3, 5, num_layers=num_layers, variant=_variant(variant), dtype=torch.float64)
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(10, 2, 3, dtype=torch.float64)
    w = torch.randn(10, 2, 5, dtype=torch.float64)
    params = list(m.parameters())

    def loss(y: torch.Tensor, state: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return (y * w).sum() + sum((k + 1) * part.sum() for k, part in enumerate(state))

    y_all, s_all = m(x)
    g_all = torch.autograd.grad(loss(y_all, s_all), params)
    ys, state = [], None
    for a, b in [(0, 3), (3, 4), (4, 10)]:  # a one-step chunk in the middle
        y, state = m(x[a:b], state)
        ys.append(y)
    assert state is not None and len(state) == len(s_all)
    y_chunks = torch.cat(ys)
    assert (y_chunks - y_all).abs().max() <= 1e-12
    for part, part_all in zip(state, s_all, strict=True):
        assert (part - part_all).abs().max() <= 1e-12
    g_chunks = torch.autograd.grad(loss(y_chunks, state), params)
    for a, b in zip(g_chunks, g_all, strict=True):
        assert (a - b).abs().max() <= 1e-10


def test_fgr_state_holds_the_last_steps_gates_and_defaults_to_zero() -> None:
    torch.manual_seed(7)
    m = LSTM(3, 4, num_layers=2, variant="fgr")
    x = torch.randn(6, 2, 3)
    y, (h, c, g) = m(x)
    assert g.shape == (2, 2, 3 * 4)  # (num_layers, N, S*H), S = 3 gates i, f, o
    tr = m.trace(x)
    assert torch.allclose(g[0], torch.cat([tr["i"][-1], tr["f"][-1], tr["o"][-1]], dim=1))
    zeros = torch.zeros(2, 2, 4)
    y2, _ = m(x, (zeros, zeros))  # (h, c) only: g = 0, as with no state
    y3, _ = m(x, (zeros, zeros, torch.zeros(2, 2, 12)))
    assert torch.equal(y2, y) and torch.equal(y3, y)
    y4, _ = m(x, (zeros, zeros, torch.full((2, 2, 12), 0.5)))
    assert not torch.allclose(y4, y)  # the gates of a previous step do reach the gates
    assert len(LSTM(3, 4, variant="vanilla")(x)[1]) == 2  # other variants: (h, c) as nn.LSTM


def test_unbatched_fgr_state_round_trips() -> None:
    torch.manual_seed(8)
    m = LSTM(3, 4, variant="fgr", batch_first=True)
    x = torch.randn(7, 3)
    y_all, (h, c, g) = m(x)
    assert g.shape == (1, 12)
    y1, state = m(x[:2])
    y2, _ = m(x[2:], state)
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
    with pytest.raises(RnnaiError, match=match) as err:
        m(torch.randn(*shape))
    assert "\n" not in str(err.value)


def test_bad_state_shape_and_dtype_and_lengths_raise_clear_errors() -> None:
    m = LSTM(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3)
    with pytest.raises(RnnaiError, match=r"h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        m(x, (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(RnnaiError, match="dtype"):
        m(x.double())
    with pytest.raises(RnnaiError, match="floating-point"):
        m(torch.ones(5, 2, 3, dtype=torch.long))
    with pytest.raises(RnnaiError, match=r"lengths must lie in \[1, 5\]"):
        m(x, lengths=[6, 1])
    with pytest.raises(RnnaiError, match=r"lengths must have shape \(2,\)"):
        m(x, lengths=[5])
    with pytest.raises(RnnaiError, match=r"state \(h, c\) of tensors, got 3"):
        m(x, (torch.zeros(2, 2, 4),) * 3)  # a third part only for FGR
    with pytest.raises(RnnaiError, match=r"h_0 of shape \(2, 4\), got \(2, 1, 4\)"):
        m(x[:, 0], (torch.zeros(2, 1, 4), torch.zeros(2, 1, 4)))  # unbatched input
    with pytest.raises(RnnaiError, match=r"g_0 of shape \(1, 2, 12\), got \(1, 2, 4\)"):
        LSTM(3, 4, variant="fgr")(x, (torch.zeros(1, 2, 4),) * 3)
    with pytest.raises(RnnaiError, match="lengths or a PackedSequence"):
        m(pack_padded_sequence(x, [5, 3]), lengths=[5, 3])
    with pytest.raises(RnnaiError, match="Tensor or PackedSequence, got list"):
        m([[1.0, 2.0, 3.0]])


def test_unknown_variant_and_bad_config_are_rejected() -> None:
    with pytest.raises(RnnaiError, match="unknown LSTM variant 'nope'"):
        LSTM(3, 4, variant="nope")
    with pytest.raises(RnnaiError, match="CIFG.*got input_gate=True, forget_gate=True"):
        LSTMVariant(coupled_input_forget=True)
    with pytest.raises(RnnaiError, match="unknown input_activation 'relu'"):
        LSTMVariant(input_activation="relu")
    with pytest.raises(RnnaiError, match="at least one of input_gate"):
        LSTMVariant(
            input_gate=False, forget_gate=False, output_gate=False, full_gate_recurrence=True
        )
    with pytest.raises(RnnaiError, match="hidden_size must be a positive int, got 0"):
        LSTM(3, 0)
    with pytest.raises(RnnaiError, match="num_layers"):
        LSTM(3, 4, num_layers=0)
    with pytest.raises(RnnaiError, match=r"dropout must be in \[0, 1\), got 1.5"):
        LSTM(3, 4, dropout=1.5)
    with pytest.raises(RnnaiError, match="preset name or an LSTMVariant, got int"):
        get_variant(3)  # type: ignore[arg-type]


def test_variant_config_is_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        LSTMVariant(True)  # type: ignore[misc]
    v = LSTMVariant(peepholes=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.peepholes = True  # type: ignore[misc]
    assert v == VARIANTS["torch"] and dataclasses.asdict(v)["peepholes"] is False


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


# ------------------------------------------------------------------------------- LSTMCell


def _random_params(m: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)


def test_the_package_exports_lstm_and_lstmcell() -> None:
    import rnnai.nn

    assert rnnai.nn.LSTM is LSTM and rnnai.nn.LSTMCell is LSTMCell
    assert set(rnnai.nn.__all__) >= {"LSTM", "LSTMCell", "LSTMVariant", "VARIANTS"}


@pytest.mark.parametrize("variant", EVERY)
def test_cell_has_the_parameters_of_a_one_layer_lstm(variant: str) -> None:
    torch.manual_seed(9)
    lstm = LSTM(3, 4, variant=_variant(variant))
    torch.manual_seed(9)
    cell = LSTMCell(3, 4, variant=_variant(variant))
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert {k: v.shape for k, v in cell.state_dict().items()} == shapes
    for k, v in cell.state_dict().items():  # the same seed gives the same weights
        assert torch.equal(v, lstm.state_dict()[k])
    _random_params(cell)
    lstm.load_state_dict(cell.state_dict())  # and state dicts load either way
    assert all(torch.equal(v, lstm.state_dict()[k]) for k, v in cell.state_dict().items())
    assert cell.gate_slices == lstm.gate_slices
    no_bias = LSTMCell(3, 4, bias=False, variant=_variant(variant))
    assert set(no_bias.state_dict()) == set(
        LSTM(3, 4, bias=False, variant=_variant(variant)).state_dict()
    )


@pytest.mark.parametrize("variant", EVERY)
def test_cell_stepped_over_a_sequence_equals_the_lstm(variant: str) -> None:
    torch.manual_seed(10)
    lstm = LSTM(3, 5, variant=_variant(variant), dtype=torch.float64)
    _random_params(lstm)
    cell = LSTMCell.from_lstm(lstm)
    x = torch.randn(8, 4, 3, dtype=torch.float64)
    state0 = [torch.randn(1, 4, 5, dtype=torch.float64) for _ in range(2)]
    if lstm.variant.full_gate_recurrence:
        S = len(lstm.variant.sigmoid_gates)
        state0.append(torch.rand(1, 4, S * 5, dtype=torch.float64))
    y, state = lstm(x, tuple(state0))
    w = torch.randn_like(y)
    ys, s = [], tuple(part[0] for part in state0)
    for x_t in x:
        s = cell(x_t, s)
        ys.append(s[0])
    y_cell = torch.stack(ys)
    assert (y_cell - y).abs().max() <= 1e-12
    assert len(s) == len(state)
    for part_cell, part in zip(s, state, strict=True):
        assert (part_cell - part[0]).abs().max() <= 1e-12

    def loss(y: torch.Tensor, state: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return (y * w).sum() + sum((k + 1) * part.sum() for k, part in enumerate(state))

    # the same gradients, the 1997 truncated one included
    g_lstm = torch.autograd.grad(loss(y, state), list(lstm.parameters()))
    g_cell = torch.autograd.grad(loss(y_cell, s), list(cell.parameters()))
    for a, b in zip(g_cell, g_lstm, strict=True):
        assert (a - b).abs().max() <= 1e-10


@pytest.mark.parametrize("variant", [v for v in EVERY if not _variant(v).truncate_gradient])
def test_cell_gradcheck_float64(variant: str) -> None:
    torch.manual_seed(11)
    cell = LSTMCell(3, 4, variant=_variant(variant), dtype=torch.float64)
    names = [n for n, _ in cell.named_parameters()]
    xs = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    state = [torch.randn(2, 4, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    if cell.variant.full_gate_recurrence:
        S = len(cell.variant.sigmoid_gates)
        state.append(torch.rand(2, S * 4, dtype=torch.float64, requires_grad=True))
    k = len(state)

    def two_steps(*args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        params = dict(zip(names, args[1 + k :], strict=True))
        s = tuple(args[1 : 1 + k])
        for x_t in args[0]:
            s = torch.func.functional_call(cell, params, (x_t, s))
        return s

    assert torch.autograd.gradcheck(
        two_steps, (xs, *state, *cell.parameters()), eps=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("bias", [True, False])
def test_cell_torch_variant_equals_torch_lstmcell_with_copied_weights(bias: bool) -> None:
    torch.manual_seed(12)
    ref = torch.nn.LSTMCell(3, 5, bias=bias)
    ours = LSTMCell(3, 5, bias=bias, variant="torch")
    ours.load_state_dict({f"{k}_l0": v for k, v in ref.state_dict().items()})
    x = torch.randn(6, 4, 3)
    s_ref = s_ours = (torch.randn(4, 5), torch.randn(4, 5))
    for x_t in x:
        s_ref, s_ours = ref(x_t, s_ref), ours(x_t, s_ours)
    assert torch.equal(s_ours[0], s_ref[0]) and torch.equal(s_ours[1], s_ref[1])
    g_ref = torch.autograd.grad(s_ref[0].sum() + s_ref[1].sum(), list(ref.parameters()))
    g_ours = torch.autograd.grad(s_ours[0].sum() + s_ours[1].sum(), list(ours.parameters()))
    for a, b in zip(g_ours, g_ref, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    h1, c1 = ours(x[0, 0])  # unbatched (H_in) -> (H)
    h2, c2 = ref(x[0, 0])
    assert h1.shape == (5,) and torch.equal(h1, h2) and torch.equal(c1, c2)


@pytest.mark.parametrize("variant", ["vanilla", "fgr"])
def test_cell_unbatched_equals_batched(variant: str) -> None:
    torch.manual_seed(13)
    cell = LSTMCell(3, 4, variant=variant)
    x = torch.randn(3)
    state = cell(x.unsqueeze(0))
    state_u = cell(x)
    assert len(state) == len(state_u) == (3 if variant == "fgr" else 2)
    for part, part_u in zip(state, state_u, strict=True):
        assert part_u.dim() == 1 and torch.allclose(part[0], part_u)
    state_u2 = cell(x, state_u)
    assert torch.allclose(state_u2[0], cell(x.unsqueeze(0), state)[0][0])


def test_cell_rejects_bad_input_state_and_lstm_with_one_line_errors() -> None:
    cell = LSTMCell(3, 4, variant="fgr")
    cases = [
        (lambda: cell(torch.randn(2, 5)), r"H_in=3, got shape \(2, 5\)"),
        (lambda: cell(torch.randn(1, 2, 3)), r"1-D \(H_in\) or 2-D \(N, H_in\) input"),
        (lambda: cell(torch.randn(2, 3).double()), "dtype"),
        (lambda: cell(torch.randn(2, 3), (torch.zeros(2, 4),)), "got 1 of them"),
        (lambda: cell(torch.randn(2, 3), torch.zeros(2, 4)), "got Tensor"),
        (
            lambda: cell(torch.randn(2, 3), (torch.zeros(2, 4),) * 3),
            r"g_0 of shape \(2, 12\), got \(2, 4\)",
        ),
        (lambda: LSTMCell.from_lstm(LSTM(3, 4, num_layers=2)), "num_layers=2"),
        (lambda: LSTMCell.from_lstm(LSTM(3, 4, bidirectional=True)), "bidirectional=True"),
        (lambda: LSTMCell(0, 4), "input_size must be a positive int, got 0"),
        (lambda: LSTMCell(3, 4, variant="nope"), "unknown LSTM variant"),
    ]
    for call, match in cases:
        with pytest.raises(RnnaiError, match=match) as err:
            call()
        assert "\n" not in str(err.value)


def test_cell_from_lstm_copies_variant_bias_and_dtype() -> None:
    lstm = LSTM(3, 4, bias=False, variant="lstm1997", dtype=torch.float64)
    cell = LSTMCell.from_lstm(lstm)
    assert cell.variant == lstm.variant and not cell.bias
    assert cell.weight_ih_l0.dtype == torch.float64
    assert cell.weight_ih_l0.data_ptr() != lstm.weight_ih_l0.data_ptr()  # a copy
    assert "variant=lstm1997" in repr(cell) and "bias=False" in repr(cell)


def test_module_examples_run() -> None:
    import rnnai.nn
    import rnnai.nn.lstm

    for module in (rnnai.nn, rnnai.nn.lstm):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
