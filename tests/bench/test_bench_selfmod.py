"""`rnnai bench selfmod`: a well-formed rate row on a tiny workload (no timing assertions)."""

from __future__ import annotations

import pytest

import rnnai.bench.selfmod as bs
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_selfmod_row_is_a_rate_with_its_speedup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bs, "TWIN_STEPS", 2_000)
    monkeypatch.setattr(bs, "ENV_STEPS", 200)
    with Progress(quiet=True) as progress:
        rows = get_bench("selfmod")(True, progress)
    assert len(rows) == 1
    row = rows[0]
    assert row.unit == "steps/s" and row.ours > 0 and row.anchor is not None and row.anchor > 0
    assert row.speedup == pytest.approx(row.ours / row.anchor)
    assert "2,000 / 200 steps" in row.name


def test_bench_actions_are_valid_and_mostly_forward() -> None:
    a = bs.bench_actions(4000, seed=1)
    assert a.shape == (4000, 2) and a.min() >= 0 and a.max() < 9
    assert 0.5 < (a == 0).mean() < 0.6
