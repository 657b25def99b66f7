"""gmdh.regression: the pure functions, the verdict rule on constructed numbers, a smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.gmdh_regression import (
    METHODS,
    TRUE_TERMS,
    GMDHRegressionConfig,
    bundled_set,
    gmdh_judgement,
    held_out_scores,
    make_model,
    run_split,
    split_indices,
    summarize,
    synthetic_polynomial,
)
from rnnai.runtime.errors import RnnaiError


@pytest.mark.parametrize("n", [2, 7, 20, 442])
def test_split_indices_never_overlap_and_cover_everything(n: int) -> None:
    train, test = split_indices(n, 0.3, np.random.default_rng(n))
    assert np.intersect1d(train, test).size == 0
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
    assert len(train) >= 1 and len(test) >= 1


def test_split_indices_rejects_bad_arguments() -> None:
    with pytest.raises(RnnaiError, match="test_fraction"):
        split_indices(10, 1.0, np.random.default_rng(0))
    with pytest.raises(RnnaiError, match="n >= 2"):
        split_indices(1, 0.5, np.random.default_rng(0))


def test_run_split_refuses_overlapping_parts() -> None:
    X, y = synthetic_polynomial(np.random.default_rng(0), n=30, noise=0.1)
    idx = np.arange(20)
    with pytest.raises(RnnaiError, match="disjoint"):
        run_split(X, y, idx, idx[-3:], GMDHRegressionConfig(repeats=1), 0)


def test_synthetic_polynomial_is_the_documented_one() -> None:
    X, y = synthetic_polynomial(np.random.default_rng(1), n=50, noise=0.0)
    assert X.shape == (50, 6) and np.all(np.abs(X) <= 1)
    np.testing.assert_allclose(y, 1 + 2 * X[:, 0] - 3 * X[:, 1] * X[:, 2] + 1.5 * X[:, 3] ** 2)


def test_bundled_sets_load_offline_and_unknown_names_fail() -> None:
    X, y = bundled_set("diabetes")
    assert X.shape == (442, 10) and y.shape == (442,)
    X, y = bundled_set("linnerud")
    assert X.shape == (20, 3) and y.shape == (20,)
    with pytest.raises(RnnaiError, match="diabetes"):
        bundled_set("boston")


def test_held_out_scores() -> None:
    s = held_out_scores(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    assert s == {"mse": 1.0, "rmse": 1.0, "r2": 0.0}
    assert held_out_scores(np.array([1.0, 3.0]), np.array([1.0, 3.0]))["r2"] == 1.0


def test_make_model_builds_every_method_and_rejects_others() -> None:
    cfg = GMDHRegressionConfig(repeats=1)
    for m in METHODS:
        assert hasattr(make_model(m, cfg, 0), "fit")
    with pytest.raises(RnnaiError, match="gmdh_mia"):
        make_model("lasso", cfg, 0)


def test_combi_recovers_the_synthetic_terms_on_one_split() -> None:
    cfg = GMDHRegressionConfig(repeats=1, mlp_max_iter=50)
    X, y = synthetic_polynomial(np.random.default_rng(3), n=cfg.synthetic_n, noise=cfg.noise)
    train, test = split_indices(len(y), cfg.test_fraction, np.random.default_rng(4))
    out = run_split(X, y, train, test, cfg, 0)
    assert set(out["combi_terms"]) == TRUE_TERMS
    assert out["gmdh_combi"]["r2"] > 0.98


def test_summarize_gives_the_mean_inside_its_interval() -> None:
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == 2.5 and s["interval"][0] <= 2.5 <= s["interval"][1]


def test_verdict_rule_reaches_each_outcome() -> None:
    right = [sorted(TRUE_TERMS)] * 10
    wrong = [sorted(TRUE_TERMS | {"x4"})] * 10
    better = [1.0 + 0.01 * i for i in range(10)]
    worse = [2.0 + 0.01 * i for i in range(10)]
    ridge = [1.5 + 0.01 * i for i in range(10)]
    j = gmdh_judgement(right, better, ridge)
    assert j.verdict == "partial" and all(e.passed for e in j.evidence)
    assert any("setup" in r for r in j.reasons)  # never "reproduced": not the paper's data
    assert gmdh_judgement(wrong, better, ridge).verdict == "partial"
    assert gmdh_judgement(right, worse, ridge).verdict == "partial"
    assert gmdh_judgement(wrong, worse, ridge).verdict == "not_reproduced"
    one_off = right[:9] + wrong[:1]
    assert not gmdh_judgement(one_off, better, ridge).evidence[0].passed


def test_scales() -> None:
    exp = get_experiment("gmdh.regression")
    assert exp.config("quick")["repeats"] == 10 and exp.config("paper")["repeats"] == 30
    assert exp.config("smoke")["repeats"] == 2 and exp.claim.value is None


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "gmdh.regression", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "gmdh.regression" / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    sets = res["metrics"]["datasets"]
    assert set(sets) == {"synthetic", "diabetes", "linnerud"}
    for name in sets:
        for m in METHODS:
            assert len(sets[name][m]["r2"]["values"]) == 2
    evidence = res["judgement"]["evidence"]
    assert [e["n"] for e in evidence] == [2, 2]
    passed = [e["passed"] for e in evidence]
    assert res["verdict"] == ("partial" if any(passed) else "not_reproduced")
    assert (tmp_path / "gmdh.regression" / "test_r2.png").stat().st_size > 1000
