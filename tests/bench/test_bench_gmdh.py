"""`rnnai bench gmdh`: well-formed rows on a tiny set (no timing assertions)."""

from __future__ import annotations

import pytest

import rnnai.bench.gmdh as bg
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_gmdh_rows_are_times_with_speedups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bg, "N_SAMPLES_QUICK", 120)
    monkeypatch.setattr(bg, "N_FEATURES", 4)
    monkeypatch.setattr(bg, "REPEATS_QUICK", 1)
    with Progress(quiet=True) as progress:
        rows = get_bench("gmdh")(True, progress)
    assert len(rows) == 2
    assert "COMBI" in rows[0].name and "MIA" in rows[1].name
    for row in rows:
        assert row.unit == "s" and row.ours > 0 and row.anchor is not None and row.anchor > 0
        assert row.speedup == pytest.approx(row.anchor / row.ours)
        assert "N=120, 4 inputs" in row.name


def test_bench_data_is_the_documented_polynomial() -> None:
    X, y = bg.bench_data(40, 3)
    assert X.shape == (40, 3) and abs(X).max() <= 1
    resid = y - (1 + 2 * X[:, 0] - 3 * X[:, 1] * X[:, 2])
    assert 0.03 < resid.std() < 0.3
