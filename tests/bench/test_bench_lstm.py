"""`rnnai bench lstm` produces one well-formed row per variant and size (tiny sizes here), and
rows for LSTMCell stepping against torch.nn.LSTMCell."""

from __future__ import annotations

import rnnai.bench.lstm as bl
from rnnai.runtime.progress import Progress


def test_bench_lstm_rows_cover_every_variant_with_speedup(monkeypatch) -> None:
    monkeypatch.setattr(bl, "LENGTH", 4)
    monkeypatch.setattr(bl, "HIDDEN_SIZES", (8,))
    with Progress(quiet=True) as progress:
        rows = bl.bench_lstm(quick=True, progress=progress)
    assert len(rows) == len(bl.BENCH_VARIANTS) + 1 + len(bl.CELL_VARIANTS)
    names = [*(f"lstm {n} " for n in bl.BENCH_VARIANTS), "reference: per-step autograd"]
    names += [f"lstmcell {n} " for n in bl.CELL_VARIANTS]
    for row, name in zip(rows, names, strict=True):
        assert row.name.startswith(name)
        assert row.unit == "ms" and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.anchor / row.ours) < 1e-9
    assert all("vs torch.nn.LSTMCell" in r.name for r in rows[-len(bl.CELL_VARIANTS) :])
