"""`rnnai bench ctc`: well-formed rows on tiny sizes, with and without pyctcdecode installed."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest

import rnnai.bench.ctc as bc
from rnnai.ctc import best_path, prepare
from rnnai.runtime.progress import Progress

requires_pyctcdecode = pytest.mark.skipif(
    importlib.util.find_spec("pyctcdecode") is None,
    reason=f"pyctcdecode is not installed ({bc.ANCHOR_INSTALL})",
)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the benchmark so that it runs in a moment."""
    monkeypatch.setattr(bc, "FRAMES", 24)
    monkeypatch.setattr(bc, "BEAMS", (2, 4))
    monkeypatch.setattr(bc, "QUICK", bc.BenchSizes(peaky=3, flat=2, unpruned=1, batch=3))


def test_peaky_inputs_are_normalised_blank_dominated_and_seeded() -> None:
    a = bc.peaky_log_probs(np.random.default_rng(7))
    b = bc.peaky_log_probs(np.random.default_rng(7))
    assert a.shape == (bc.FRAMES, bc.CLASSES) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    prepare(a)  # valid log-probabilities (raises otherwise)
    blank_frames = (a.argmax(-1) == 0).mean()
    assert 0.6 < blank_frames < 0.95
    assert np.exp(a.max(-1)).mean() > 0.9  # confident, like a trained network
    assert len(best_path(a).labels) >= bc.FRAMES // 10


def test_flat_inputs_are_normalised_and_unconfident() -> None:
    y = bc.flat_log_probs(np.random.default_rng(0))
    prepare(y)
    assert np.exp(y.max(-1)).mean() < 0.3


@requires_pyctcdecode
def test_anchor_labels_map_back_to_our_label_indices() -> None:
    decoder = bc.anchor_decoder(5)
    y = np.log(np.full((6, 5), 0.01, np.float32))
    for t, k in enumerate([1, 0, 4, 4, 0, 2]):
        y[t, k] = np.log(0.96)
    assert bc._anchor_labels(decoder.decode(y, beam_width=4)) == [1, 4, 2]


@requires_pyctcdecode
def test_bench_ctc_rows_compare_with_pyctcdecode(tiny) -> None:
    with Progress(quiet=True) as progress:
        rows = bc.bench_ctc(quick=True, progress=progress)
    times = [r for r in rows if r.unit == "ms" and r.anchor is not None]
    assert len(times) == 2 * len(bc.BEAMS) * 3  # (peaky, flat) x beams x 3 settings
    for row in times:
        assert row.ours > 0 and row.anchor > 0
        assert row.speedup == pytest.approx(row.anchor / row.ours)
    agree = [r for r in rows if "same best labelling" in r.name]
    assert len(agree) == 2 * len(bc.BEAMS) and all(0.0 <= r.ours <= 1.0 for r in agree)
    favour = [r for r in rows if "where they differ" in r.name]
    assert all(math.isnan(r.ours) or 0.0 <= r.ours <= 1.0 for r in favour)
    assert [r.unit for r in rows[-1 - len(bc.BEAMS) :]] == ["utt/s"] * (1 + len(bc.BEAMS))


def test_bench_ctc_without_pyctcdecode_times_ours_and_says_how_to_install(
    tiny, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "pyctcdecode", None)  # as if it were not installed
    with Progress(quiet=False) as progress:
        rows = bc.bench_ctc(quick=True, progress=progress)
    assert rows and all(r.anchor is None and r.speedup is None for r in rows)
    assert not any("same best labelling" in r.name for r in rows)
    assert all(r.ours > 0 for r in rows)
    captured = capsys.readouterr()
    assert bc.ANCHOR_INSTALL in " ".join((captured.out + captured.err).split())
