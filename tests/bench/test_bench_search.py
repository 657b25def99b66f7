"""`rnnai bench search`: well-formed rate rows on a tiny piece of the search."""

from __future__ import annotations

import pytest

import rnnai.bench.search as bs
from rnnai.runtime.progress import Progress


def test_bench_search_rows_are_rates_with_speedups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bs, "WORK", 400_000)
    monkeypatch.setattr(bs, "TWIN_WORK", 8_000)
    with Progress(quiet=True) as progress:
        rows = bs.bench_search(quick=True, progress=progress)
    assert len(rows) == 4
    for row in rows:
        assert row.unit.endswith("/s") and row.ours > 0 and row.anchor > 0
        assert abs(row.speedup - row.ours / row.anchor) < 1e-9
    assert rows[0].speedup > 1  # the kernel beats the Python twin
    assert "undo peak" in rows[1].name
