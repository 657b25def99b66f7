"""Tests of rnnai.nn.highway: Eq. 3 against a direct transcription (dense and convolutional),
gradient checks, carry behaviour, 'same' padding, the network builder, gate recording, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from rnnai.nn.highway import (
    Highway,
    HighwayConv2d,
    HighwayNet,
    HighwayNetConfig,
    PlainLayer,
    highway,
)
from rnnai.runtime.errors import RnnaiError

D64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def act(name: str, a: float) -> float:
    return max(a, 0.0) if name == "relu" else math.tanh(a)


def ref_dense(x, W_H, b_H, W_T, b_T, activation):
    """Eq. 3 written unit by unit in Python loops."""
    N, n = x.shape
    y = torch.zeros(N, n, dtype=D64)
    for s in range(N):
        for i in range(n):
            aH = sum(float(W_H[i, j]) * float(x[s, j]) for j in range(n)) + float(b_H[i])
            aT = sum(float(W_T[i, j]) * float(x[s, j]) for j in range(n)) + float(b_T[i])
            T = sig(aT)
            y[s, i] = act(activation, aH) * T + float(x[s, i]) * (1.0 - T)
    return y


def ref_conv(x, W_H, b_H, W_T, b_T, activation):
    """Eq. 3 with zero-padded 'same' convolutions, pixel by pixel."""
    N, C, Hh, Ww = x.shape
    k = W_H.shape[-1]
    p = k // 2
    y = torch.zeros_like(x)
    for s in range(N):
        for o in range(C):
            for r in range(Hh):
                for c in range(Ww):
                    aH, aT = float(b_H[o]), float(b_T[o])
                    for i in range(C):
                        for u in range(k):
                            for v in range(k):
                                rr, cc = r + u - p, c + v - p
                                if 0 <= rr < Hh and 0 <= cc < Ww:
                                    aH += float(W_H[o, i, u, v]) * float(x[s, i, rr, cc])
                                    aT += float(W_T[o, i, u, v]) * float(x[s, i, rr, cc])
                    T = sig(aT)
                    y[s, o, r, c] = act(activation, aH) * T + float(x[s, o, r, c]) * (1 - T)
    return y


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_dense_layer_matches_transcription(activation):
    layer = Highway(5, activation=activation, gate_bias=-1.0, generator=gen(1)).double()
    with torch.no_grad():
        layer.b_H.normal_(generator=gen(2))
    x = torch.randn(3, 5, dtype=D64, generator=gen(3))
    want = ref_dense(x, *(p.detach() for p in (layer.W_H, layer.b_H, layer.W_T, layer.b_T)),
                     activation)  # fmt: skip
    torch.testing.assert_close(layer(x), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_conv_layer_matches_transcription(activation):
    layer = HighwayConv2d(2, 3, activation=activation, gate_bias=-0.5, generator=gen(4)).double()
    x = torch.randn(2, 2, 4, 5, dtype=D64, generator=gen(5))
    want = ref_conv(x, *(p.detach() for p in (layer.W_H, layer.b_H, layer.W_T, layer.b_T)),
                    activation)  # fmt: skip
    torch.testing.assert_close(layer(x), want, rtol=0, atol=1e-12)


def test_gradcheck_dense_and_conv():
    dense = Highway(3, activation="tanh", gate_bias=-0.5, generator=gen(6)).double()
    x = torch.randn(2, 3, dtype=D64, generator=gen(7), requires_grad=True)
    assert torch.autograd.gradcheck(dense, (x,))
    conv = HighwayConv2d(2, 3, activation="tanh", generator=gen(8)).double()
    xc = torch.randn(1, 2, 3, 3, dtype=D64, generator=gen(9), requires_grad=True)
    assert torch.autograd.gradcheck(conv, (xc,))
    net = HighwayNet(2, 2, HighwayNetConfig(width=3, depth=3, activation="tanh"),
                     generator=gen(10)).double()  # fmt: skip
    xn = torch.randn(2, 2, dtype=D64, generator=gen(11), requires_grad=True)
    assert torch.autograd.gradcheck(net, (xn,))


def test_closed_transform_gate_gives_identity_and_open_gives_H():
    layer = Highway(4, gate_bias=-60.0, generator=gen(12)).double()
    x = torch.randn(6, 4, dtype=D64, generator=gen(13))
    torch.testing.assert_close(layer(x), x, rtol=0, atol=1e-20)
    with torch.no_grad():
        layer.b_T.fill_(60.0)
    torch.testing.assert_close(layer(x), torch.relu(x @ layer.W_H.T + layer.b_H))
    conv = HighwayConv2d(3, 5, gate_bias=-60.0, generator=gen(14)).double()
    xc = torch.randn(2, 3, 6, 6, dtype=D64, generator=gen(15))
    torch.testing.assert_close(conv(xc), xc, rtol=0, atol=1e-20)


def test_highway_function_is_eq3():
    x, H, T = (
        torch.tensor([1.0, 2.0, 3.0]),
        torch.tensor([4.0, 4.0, 4.0]),
        torch.tensor([0.0, 0.5, 1.0]),
    )
    assert highway(x, H, T).tolist() == [1.0, 3.0, 4.0]


def test_gate_bias_initialization_sets_mean_gate():
    layer = Highway(50, gate_bias=-3.0, generator=gen(16))
    T = layer.gate(torch.zeros(1, 50))
    torch.testing.assert_close(T, torch.full((1, 50), sig(-3.0)))


@pytest.mark.parametrize("shape", [(1, 2, 5, 5), (3, 2, 8, 3), (2, 2, 1, 1)])
def test_conv_same_padding_keeps_shape(shape):
    assert HighwayConv2d(2, 3, generator=gen(17))(torch.randn(shape)).shape == shape


def test_network_structure_and_parameter_counts():
    hw = HighwayNet(784, 10, HighwayNetConfig(width=50, depth=10), generator=gen(18))
    plain = HighwayNet(784, 10, HighwayNetConfig(width=71, depth=10, highway=False),
                       generator=gen(18))  # fmt: skip
    assert all(isinstance(m, Highway) for m in hw.layers) and len(hw.layers) == 10
    assert all(isinstance(m, PlainLayer) for m in plain.layers)
    per_hw = sum(p.numel() for p in hw.layers[0].parameters())
    per_plain = sum(p.numel() for p in plain.layers[0].parameters())
    assert (per_hw, per_plain) == (5100, 5112)


def test_builder_is_deterministic_per_generator():
    cfg = HighwayNetConfig(width=8, depth=5)
    a, b = HighwayNet(3, 2, cfg, generator=gen(19)), HighwayNet(3, 2, cfg, generator=gen(19))
    x = torch.randn(4, 3)
    assert torch.equal(a(x), b(x))


def test_transform_gates_by_layer():
    net = HighwayNet(3, 2, HighwayNetConfig(width=6, depth=4, gate_bias=-2.0), generator=gen(20))
    with torch.no_grad():
        net.layers[2].b_T.fill_(5.0)
    T = net.transform_gates(torch.randn(9, 3))
    assert T.shape == (4, 9, 6)
    means = T.mean(dim=(1, 2))
    assert means[2] > 0.9 and means[0] < 0.5
    analysis = net.gate_analysis(torch.randn(9, 3, generator=gen(23)))
    assert torch.equal(analysis.biases[2], torch.full((6,), 5.0))
    assert analysis.outputs.shape == (4, 9, 6)
    assert analysis.fraction_on()[2].min() == 1.0 and analysis.fraction_on()[0].max() < 0.5
    torch.testing.assert_close(analysis.mean_gate, analysis.gates.mean(dim=1))
    x = torch.randn(2, 3, generator=gen(24))
    torch.testing.assert_close(net.output(net.gate_analysis(x).outputs[-1]), net(x))
    with pytest.raises(RnnaiError, match="plain"):
        HighwayNet(3, 2, HighwayNetConfig(width=6, depth=2, highway=False)).transform_gates(
            torch.randn(1, 3)
        )


def test_deep_highway_net_trains_where_plain_net_stalls():
    """Depth 30 with the papers' gate bias for that depth (-3): after 150 SGD steps the highway
    net's training loss is under half the plain net's (same width, same H layers)."""
    x = torch.randn(64, 4, generator=gen(21))
    y = 0.5 * x.sum(dim=1, keepdim=True)
    losses = {}
    for gated in (True, False):
        cfg = HighwayNetConfig(width=16, depth=30, gate_bias=-3.0, highway=gated)
        net = HighwayNet(4, 1, cfg, generator=gen(22))
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(150):
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
        losses[gated] = float(loss.detach())
    assert losses[True] < 0.5 * losses[False]


def test_bad_input_raises_rnnai_error():
    with pytest.raises(RnnaiError, match="activation"):
        Highway(3, activation="sigmoid")  # type: ignore[arg-type]
    with pytest.raises(RnnaiError, match="odd"):
        HighwayConv2d(2, 4)
    with pytest.raises(RnnaiError, match="width"):
        HighwayNetConfig(width=0)
    with pytest.raises(RnnaiError, match="shape"):
        Highway(3)(torch.randn(2, 4))
    with pytest.raises(RnnaiError, match="shape"):
        HighwayConv2d(3)(torch.randn(2, 3, 4))
    with pytest.raises(RnnaiError, match="gate_bias"):
        HighwayNetConfig(gate_bias=float("nan"))
