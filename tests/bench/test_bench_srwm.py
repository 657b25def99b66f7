"""`rnnai bench srwm` produces well-formed time and memory rows (tiny sizes, no timing claims)."""

from __future__ import annotations

import torch

import rnnai.bench.srwm as bs
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_srwm_rows_compare_efficient_backward_with_the_autograd_loop(monkeypatch) -> None:
    monkeypatch.setattr(bs, "QUICK_SIZES", (3, 9))
    monkeypatch.setattr(bs, "BATCH", 2)
    monkeypatch.setattr(bs, "HEADS", 2)
    monkeypatch.setattr(bs, "D_HEAD", 4)
    threads = torch.get_num_threads()
    with Progress(quiet=True) as progress:
        rows = bs.bench_srwm(quick=True, progress=progress)
    assert torch.get_num_threads() == threads
    assert len(rows) == 4
    assert "T=3" in rows[0].name and "T=9" in rows[2].name
    for row in rows:
        assert row.ours > 0 and row.anchor is not None and row.anchor > 0
    time_rows, mem_rows = rows[0::2], rows[1::2]
    for row in time_rows:
        assert row.unit == "ms" and abs(row.speedup - row.anchor / row.ours) < 1e-9
    for row in mem_rows:
        assert row.unit == "MiB" and row.speedup is None
    assert get_bench("srwm") is bs.bench_srwm


def test_efficient_form_saves_memory_independent_of_length_in_matrices(monkeypatch) -> None:
    monkeypatch.setattr(bs, "D_HEAD", 16)
    saved = {}
    for T in (32, 128):
        x, W0 = bs._leaves(T)
        saved[T] = {m: bs.saved_bytes(bs._forward(x, W0, m)) for m in bs.MODES}
    # the loop keeps one W per step; the efficient form only O(T) vectors besides W_0 and W_T
    assert saved[128]["autograd"] > 3.5 * saved[32]["autograd"]
    assert saved[128]["efficient"] < saved[128]["autograd"] / 5
