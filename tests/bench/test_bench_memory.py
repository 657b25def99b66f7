"""`rnnai bench memory` produces well-formed time and memory rows (tiny sizes, no timing claims)."""

from __future__ import annotations

import torch

import rnnai.bench.memory as bm
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_memory_rows_compare_chunk_with_step_loop_and_softmax(monkeypatch) -> None:
    monkeypatch.setattr(bm, "QUICK_SIZES", (8, 24))
    monkeypatch.setattr(bm, "QUICK_STEP_MAX", 8)
    monkeypatch.setattr(bm, "HEADS", 2)
    monkeypatch.setattr(bm, "DIM", 4)
    monkeypatch.setattr(bm, "CHUNK", 4)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with Progress(quiet=True) as progress:
        rows = bm.bench_memory(quick=True, progress=progress)
    names = [r.name for r in rows]
    # T=8: both time rows and both memory rows; T=24 is past the step loop's limit.
    assert len(rows) == 6
    assert "vs step loop, fwd+bwd T=8" in names[0] and "softmax" in names[1]
    assert not any("step loop" in n and "T=24" in n for n in names)
    for row in rows:
        assert row.ours > 0 and row.anchor is not None and row.anchor > 0
        if row.unit == "ms":
            assert abs(row.speedup - row.anchor / row.ours) < 1e-9
        else:
            assert row.unit == "MiB" and row.speedup is None
    assert get_bench("memory") is bm.bench_memory


def test_saved_bytes_counts_each_saved_storage_once() -> None:
    x = torch.ones(10, requires_grad=True)
    assert bm.saved_bytes(lambda: (x * x).sum()) == 40
    assert bm.saved_bytes(lambda: x.detach() * 2) == 0


def test_chunk_form_saves_less_than_the_step_loop_at_equal_length(monkeypatch) -> None:
    monkeypatch.setattr(bm, "HEADS", 1)
    monkeypatch.setattr(bm, "DIM", 32)
    monkeypatch.setattr(bm, "CHUNK", 16)
    leaves = bm._inputs(256, torch.device("cpu"))
    f = bm._computations(*leaves)
    assert bm.saved_bytes(f["chunk"]) < bm.saved_bytes(f["step"]) / 3
