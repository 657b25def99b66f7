"""`rnnai bench vision`: the per-pixel loop it times computes what the wavefront computes, the plain
Sequential it times is the MPCNN's architecture, and the benchmark returns one well-formed row per
comparison (tiny sizes, no timing assertions)."""

from __future__ import annotations

import pytest
import torch

import rnnai.bench.vision as bv
from rnnai.bench import get_bench
from rnnai.nn.mdlstm import MDLSTM
from rnnai.nn.mpcnn import MNIST_MPCNN, MPCNN, MPCNNConfig
from rnnai.runtime.progress import Progress


@pytest.mark.parametrize(
    "ndim,shape,kw",
    [
        (2, (3, 4), {}),
        (2, (4, 2), {"peepholes": False, "combine": "sum"}),
        (3, (2, 3, 2), {}),
    ],
)
def test_per_pixel_loop_equals_wavefront(ndim, shape, kw) -> None:
    torch.manual_seed(0)
    model = MDLSTM(2, 3, ndim=ndim, **kw).double()
    x = torch.randn(2, 2, *shape, dtype=torch.float64)
    torch.testing.assert_close(bv.per_pixel_mdlstm(model, x), model(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "config",
    [
        MNIST_MPCNN,
        MPCNNConfig(input_size=16, maps=(3, 5), kernels=(3, 3), pools=(2, 1), hidden=(7, 6)),
    ],
)
def test_the_sequential_anchor_has_the_mpcnn_layers(config) -> None:
    seq = bv.sequential_mpcnn(config)
    ours = [tuple(p.shape) for p in MPCNN(config).parameters()]
    assert [tuple(p.shape) for p in seq.parameters()] == ours
    assert sum(p.numel() for p in seq.parameters()) == config.parameter_count()
    # with our weights and f = tanh, the Sequential computes our layers: a direct transcription
    net = MPCNN(config).double()
    seq = seq.double()
    with torch.no_grad():
        for p, q in zip(seq.parameters(), net.parameters(), strict=True):
            p.copy_(q)
    x = torch.rand(3, 1, config.input_size, config.input_size, dtype=torch.float64)
    h = x
    for conv, pool in zip(net.convs, config.pools, strict=True):
        h = torch.nn.functional.max_pool2d(torch.tanh(conv(h)), pool)
    h = h.flatten(1)
    for fc in net.fcs[:-1]:
        h = torch.tanh(fc(h))
    torch.testing.assert_close(seq(x), net.fcs[-1](h), rtol=0, atol=1e-12)


def test_bench_vision_is_registered_and_returns_its_rows(monkeypatch) -> None:
    monkeypatch.setattr(bv, "IMAGE", 4)
    monkeypatch.setattr(bv, "VOLUME", 3)
    monkeypatch.setattr(bv, "HIDDEN", 2)
    monkeypatch.setattr(bv, "MPCNN_IMAGES", 4)
    monkeypatch.setattr(bv, "MPCNN_BATCHES", (1, 2))
    assert get_bench("vision") is bv.bench_vision
    with Progress(quiet=True) as progress:
        rows = bv.bench_vision(quick=True, progress=progress)
    starts = ("mdlstm 2-D wavefront vs per-pixel", "mdlstm 3-D wavefront vs per-voxel", "pyramid")
    assert len(rows) == 5
    for row, start in zip(rows[:3], starts, strict=True):
        assert row.name.startswith(start)
        assert row.unit == "ms" and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.anchor / row.ours) < 1e-9
    assert "4x4" in rows[0].name and "3x3x3" in rows[1].name
    for row, kind in zip(rows[3:], ("online (batch 1)", "minibatch 2"), strict=True):
        assert row.name.startswith(f"mpcnn training {kind}") and "4 images" in row.name
        assert row.unit == "images/s" and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.ours / row.anchor) < 1e-9
