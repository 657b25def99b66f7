"""`rnnai bench vision`: the per-pixel loop it times computes what the wavefront computes, and the
benchmark returns one well-formed row per comparison (tiny sizes, no timing assertions)."""

from __future__ import annotations

import pytest
import torch

import rnnai.bench.vision as bv
from rnnai.bench import get_bench
from rnnai.nn.mdlstm import MDLSTM
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


def test_bench_vision_is_registered_and_returns_three_rows(monkeypatch) -> None:
    monkeypatch.setattr(bv, "IMAGE", 4)
    monkeypatch.setattr(bv, "VOLUME", 3)
    monkeypatch.setattr(bv, "HIDDEN", 2)
    assert get_bench("vision") is bv.bench_vision
    with Progress(quiet=True) as progress:
        rows = bv.bench_vision(quick=True, progress=progress)
    starts = ("mdlstm 2-D wavefront vs per-pixel", "mdlstm 3-D wavefront vs per-voxel", "pyramid")
    assert len(rows) == 3
    for row, start in zip(rows, starts, strict=True):
        assert row.name.startswith(start)
        assert row.unit == "ms" and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.anchor / row.ours) < 1e-9
    assert "4x4" in rows[0].name and "3x3x3" in rows[1].name
