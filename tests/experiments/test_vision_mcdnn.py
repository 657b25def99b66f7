"""vision.mcdnn: pure functions, disjoint splits, the verdict on constructed numbers, smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data.images import content_hashes
from rnnai.experiments import get_experiment
from rnnai.experiments.vision_mcdnn import (
    PAPER_NETS,
    column_plan,
    columns_curve,
    committee_errors,
    confusion_matrix,
    mcdnn_judgement,
    mnist_splits,
    single_errors,
)
from rnnai.nn.mpcnn import WIDTHS
from rnnai.runtime.errors import RnnaiError


def test_the_splits_share_no_image_and_cover_the_sample() -> None:
    parts = mnist_splits(0)
    assert {k: len(v) for k, v in parts.items()} == {"train": 3500, "valid": 500, "test": 1000}
    hashes = {k: set(content_hashes(v.images)) for k, v in parts.items()}
    assert not hashes["train"] & hashes["test"]
    assert not hashes["train"] & hashes["valid"]
    assert not hashes["valid"] & hashes["test"]
    assert parts["test"].images.shape[1:] == (29, 29)
    small = mnist_splits(0, train_limit=30, test_limit=7)
    assert {k: len(v) for k, v in small.items()} == {"train": 30, "valid": 7, "test": 7}
    np.testing.assert_array_equal(small["test"].images, parts["test"].images[:7])


def test_the_split_depends_on_its_seed_only() -> None:
    a, b, c = mnist_splits(0), mnist_splits(0), mnist_splits(1)
    np.testing.assert_array_equal(a["test"].labels, b["test"].labels)
    assert content_hashes(a["test"].images) != content_hashes(c["test"].images)


def test_column_plan_cycles_the_widths_per_net() -> None:
    assert column_plan([None, 10], nets=2) == [(0, None), (0, 10), (1, None), (1, 10)]
    assert len(column_plan(list(WIDTHS), nets=PAPER_NETS)) == 35
    with pytest.raises(RnnaiError):
        column_plan([], nets=1)
    with pytest.raises(RnnaiError):
        column_plan([None], nets=0)


def test_errors_of_columns_and_committee_against_a_direct_count() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(3, 50))  # (columns, images, classes)
    labels = rng.integers(0, 4, size=50)
    single = single_errors(probs, labels)
    for j in range(3):
        for i in range(50):
            assert single[j, i] == float(np.argmax(probs[j, i]) != labels[i])
    comm = committee_errors(probs, labels)
    for i in range(50):
        avg = (probs[0, i] + probs[1, i] + probs[2, i]) / 3
        assert comm[i] == float(np.argmax(avg) != labels[i])
    with pytest.raises(RnnaiError):
        single_errors(probs, labels[:10])


def test_a_committee_can_beat_every_column() -> None:
    # each column is confidently wrong on a different image, right with margin elsewhere
    probs = np.full((3, 3, 2), [0.2, 0.8])
    for j in range(3):
        probs[j, j] = [0.6, 0.4]
    labels = np.ones(3, dtype=np.int64)
    assert single_errors(probs, labels).mean(axis=1).tolist() == [1 / 3] * 3
    assert committee_errors(probs, labels).tolist() == [0.0, 0.0, 0.0]
    curve = columns_curve(probs, labels, subsets=10, seed=0)
    assert curve[0] == pytest.approx(1 / 3) and curve[-1] == 0.0 and len(curve) == 3


def test_columns_curve_is_deterministic_per_seed() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3), size=(5, 40))
    labels = rng.integers(0, 3, size=40)
    assert columns_curve(probs, labels, seed=3) == columns_curve(probs, labels, seed=3)
    assert columns_curve(probs, labels)[0] == pytest.approx(single_errors(probs, labels).mean())


def test_confusion_matrix_counts() -> None:
    m = confusion_matrix(np.array([0, 2, 2, 1]), np.array([0, 2, 1, 1]), classes=3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert m.sum() == 4


def test_the_verdict_is_at_most_partial_and_every_outcome_is_reachable() -> None:
    n = 400
    base = np.zeros(n)
    base[:40] = 1.0  # single columns err on 10%
    better = np.zeros(n)
    better[:8] = 1.0  # 2%
    worse = np.zeros(n)
    worse[:120] = 1.0  # 30%
    both = mcdnn_judgement(better, base, worse, nets=1, setup="x")
    assert both.verdict == "partial" and all(e.passed for e in both.evidence)
    assert any("not the paper's setup" in r for r in both.reasons)
    assert both.required == PAPER_NETS
    one = mcdnn_judgement(better, base, better, nets=1, setup="x")  # distortions hurt
    assert one.verdict == "partial" and [e.passed for e in one.evidence] == [True, False]
    none = mcdnn_judgement(worse, base, better, nets=1, setup="x")
    assert none.verdict == "not_reproduced"
    assert both.evidence[0].n == n and both.evidence[0].interval is not None


def test_quick_and_paper_scales() -> None:
    exp = get_experiment("vision.mcdnn")
    quick, paper = exp.config("quick"), exp.config("paper")
    assert len(quick["widths"]) >= 3 and quick["epochs"] >= 3
    assert paper["widths"] == list(WIDTHS) and paper["nets"] == PAPER_NETS
    assert paper["batch"] == 1 and paper["epochs"] == 800


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "vision.mcdnn", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "vision.mcdnn"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["n_train"] == 300 and m["n_test"] == 200 and m["parameters_per_column"] == 76_040
    assert res["headline"]["value"] == pytest.approx(100 * m["committee_error"]["distorted"])
    assert len(m["error_vs_columns"]["distorted"]) == 2
    assert np.asarray(m["confusion_distorted_committee"]).sum() == 200
    assert [e["n"] for e in res["judgement"]["evidence"]] == [200, 200]
    for plot in ("error_vs_columns.png", "distortions.png", "confusion.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("vision.mcdnn")
    cfg = {**exp.config("smoke"), "train_limit": 60, "test_limit": 30, "widths": [None]}

    def ctx(out: Path) -> RunContext:
        out.mkdir(parents=True, exist_ok=True)
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out, config=cfg)

    full = exp.run(ctx(tmp_path / "a")).metrics
    first = ctx(tmp_path / "b")
    exp.run(first)
    loaded = first.checkpointer.load()
    assert loaded is not None
    tensors, state = loaded
    del state["mpcnn"]["undistorted/net0/widthorig"]  # as if killed before the last column
    kept = {k: v for k, v in tensors.items() if "undistorted/net0" not in k}
    first.checkpointer.save(kept, state)
    assert exp.run(ctx(tmp_path / "b")).metrics == full
