"""The 1993 self-referential net against a per-connection transcription of its equations."""

from __future__ import annotations

import math

import pytest
import torch

from rnnai.nn.srwm1993 import SelfReferentialNet1993, address_bits, hold, srwm1993_layout
from rnnai.runtime.errors import RnnaiError


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _transcription(net: SelfReferentialNet1993, x, d, present):
    """Eqs. 1-3 and the eval units, one connection and one unit at a time, in Python floats."""
    lay = net.layout
    sl = lay.noninput_slices()
    n_y, n_u = lay.n_noninput_units, lay.n_units
    w0 = net.weight.detach().double().tolist()
    adr = [[int(b) for b in f"{c:0{lay.n_bits}b}"] for c in range(lay.n_connections)]

    def g(code, c):
        return math.exp(-sum((code[m] - adr[c][m]) ** 2 for m in range(lay.n_bits)) / net.width)

    outs, vals, ws, errors = [], [], [], 0.0
    for n in range(x.shape[0]):
        w = [row[:] for row in w0]
        y = [0.5] * n_y
        y[sl["delta"].start] = 0.0
        ev, val = [0.0] * lay.n_outputs, 0.0
        o_seq, v_seq = [], []
        for t in range(x.shape[1]):
            units = list(x[n, t].tolist()) + [1.0] + ev + [val] + y
            o = y[sl["o"]]
            o_seq.append(o)
            v_seq.append(val)
            ana, mod, delta = y[sl["ana"]], y[sl["mod"]], y[sl["delta"]][0]
            net_in = [sum(w[k][l] * units[l] for l in range(n_u)) for k in range(n_y)]
            val = sum(g(ana, k * n_u + l) * w[k][l] for k in range(n_y) for l in range(n_u))
            w = [[w[k][l] + delta * g(mod, k * n_u + l) for l in range(n_u)] for k in range(n_y)]
            ev = [
                (float(d[n, t, j]) - o[j]) if bool(present[n, t]) else 0.0
                for j in range(lay.n_outputs)
            ]
            errors += 0.5 * sum(e * e for e in ev)
            y = [_sig(v) for v in net_in]
            y[sl["delta"].start] = math.tanh(net_in[sl["delta"].start])
        outs.append(o_seq)
        vals.append(v_seq)
        ws.append(w)
    return (torch.tensor(outs, dtype=torch.float64), torch.tensor(vals, dtype=torch.float64),
            torch.tensor(ws, dtype=torch.float64), errors)  # fmt: skip


def _net(**kw) -> SelfReferentialNet1993:
    kw.setdefault("generator", torch.Generator().manual_seed(1))
    return SelfReferentialNet1993(1, 1, **kw).double()


def test_net_matches_a_per_connection_transcription() -> None:
    net = _net(n_hidden=1, width=1.5, init_scale=1.0)
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(2, 5, 1, generator=gen, dtype=torch.float64)
    d = torch.rand(2, 5, 1, generator=gen, dtype=torch.float64)
    present = torch.tensor([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], dtype=torch.bool)
    out = net(x, d, present)
    o, val, w, error = _transcription(net, x, d, present)
    torch.testing.assert_close(out.outputs, o, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.val, val, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.weights, w, rtol=0, atol=1e-12)
    assert out.error.item() == pytest.approx(error, abs=1e-12)
    assert val.abs().max() > 1e-3 and (w - net.weight.double()).abs().max() > 1e-3  # not trivial


def test_gradient_of_the_total_error_passes_gradcheck() -> None:
    net = _net(width=2.0, init_scale=1.0)
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(1, 4, 1, generator=gen, dtype=torch.float64)
    d = torch.rand(1, 4, 1, generator=gen, dtype=torch.float64)

    def total_error(w0: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(net, {"weight": w0}, (x, d)).error

    w0 = net.weight.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(total_error, (w0,), eps=1e-6, atol=1e-6)


def _address_of(net: SelfReferentialNet1993, row: int, col: int) -> list[int]:
    return [int(b) for b in f"{row * net.layout.n_units + col:0{net.n_address_bits}b}"]


def test_the_net_reads_and_writes_the_connection_its_units_address() -> None:
    net = _net(width=0.05)
    lay, sl = net.layout, net.layout.noninput_slices()
    bias_col = lay.n_inputs  # the bias unit's column
    target_row, target_col = 0, 0  # w from x to o
    with torch.no_grad():
        net.weight.zero_()
        net.weight[target_row, target_col] = 0.7
        bits = _address_of(net, target_row, target_col)
        for m, bit in enumerate(bits):  # ana and mod saturate onto the target's address
            net.weight[sl["ana"].start + m, bias_col] = 30.0 if bit else -30.0
            net.weight[sl["mod"].start + m, bias_col] = 30.0 if bit else -30.0
        net.weight[sl["delta"].start, bias_col] = math.atanh(0.25)
    out = net(torch.zeros(1, 4, 1, dtype=torch.float64))
    # val(t + 1) reads w_target(t): step 2 reads the initial 0.7, step 3 the once-changed weight
    assert out.val[0, 2].item() == pytest.approx(0.7, abs=1e-6)
    assert out.val[0, 3].item() == pytest.approx(0.95, abs=1e-6)
    change = out.weights[0] - net.weight.detach()
    # Delta(1) = f(net(1) = 0) = 0, then 0.25 at steps 2, 3 and 4: w(5) = w(1) + 0.75
    assert change[target_row, target_col].item() == pytest.approx(0.75, abs=1e-6)
    change[target_row, target_col] = 0
    assert change.abs().max() < 1e-6  # nothing else changed


def test_training_the_initial_weights_lowers_the_error() -> None:
    net = _net(n_hidden=2, width=1.0)
    gen = torch.Generator().manual_seed(4)
    x = hold(torch.rand(8, 4, 1, generator=gen, dtype=torch.float64), 2)
    d = 1.0 - x  # a function of the input just seen, one step late
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = net(x, d).error
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert net(x, d).error.item() < 0.5 * first


def test_layout_uses_the_fewest_address_bits() -> None:
    for n_in, n_out, n_hidden in ((1, 1, 0), (2, 1, 3), (5, 3, 10)):
        lay = srwm1993_layout(n_in, n_out, n_hidden)
        assert 2**lay.n_bits >= lay.n_connections
        smaller = (n_out + n_hidden + 2 * (lay.n_bits - 1) + 1) * (
            n_in + 1 + n_out + 1 + n_out + n_hidden + 2 * (lay.n_bits - 1) + 1
        )
        assert 2 ** (lay.n_bits - 1) < smaller
    assert srwm1993_layout(1, 1, 0, bias=False).n_input_units == 3


def test_address_bits_and_hold() -> None:
    codes = address_bits(5, 3)
    assert codes.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0]]
    x = torch.arange(4.0).view(1, 2, 2)
    assert hold(x, 2)[0, :, 0].tolist() == [0, 0, 2, 2]
    with pytest.raises(RnnaiError, match="cannot address"):
        address_bits(9, 3)
    with pytest.raises(RnnaiError, match="n_r >= 1"):
        hold(x, 0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SelfReferentialNet1993(0, 1), "n_inputs >= 1"),
        (lambda: SelfReferentialNet1993(1, 1, width=0), "width must be > 0"),
        (lambda: _net()(torch.zeros(1, 3, 2)), r"expects x \(N, T >= 1, 1\)"),
        (lambda: _net()(torch.zeros(1, 3, 1), torch.zeros(1, 2, 1)), "targets must have shape"),
        (lambda: _net()(torch.zeros(1, 3, 1), None, torch.ones(1, 3)), "mask needs targets"),
    ],
)
def test_bad_input_raises_one_clear_error(make, match) -> None:
    with pytest.raises(RnnaiError, match=match):
        make()
