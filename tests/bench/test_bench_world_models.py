"""`rnnai bench world_models`: a well-formed rate row on a tiny workload (no timing assertions)."""

from __future__ import annotations

import pytest

import rnnai.bench.world_models as bw
from rnnai.bench import get_bench
from rnnai.runtime.progress import Progress


def test_bench_world_models_row_is_a_rate_with_its_speedup(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("Box2D")
    monkeypatch.setattr(bw, "DREAMS", 8)
    monkeypatch.setattr(bw, "DREAM_STEPS", 3)
    monkeypatch.setattr(bw, "REAL_STEPS", 2)
    with Progress(quiet=True) as progress:
        rows = get_bench("world_models")(True, progress)
    assert len(rows) == 1
    row = rows[0]
    assert row.unit == "steps/s" and row.ours > 0 and row.anchor is not None and row.anchor > 0
    assert row.speedup == pytest.approx(row.ours / row.anchor)
    assert "8 dreams" in row.name


def test_dream_steps_per_call_counts_every_dream() -> None:
    assert bw.dream_steps_per_call(64 * 16, 50) == 51_200
