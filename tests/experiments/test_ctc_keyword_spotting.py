"""ctc.keyword_spotting: detection curves and EER on hand-made cases, verdict, smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.ctc_keyword_spotting import (
    detection_curve,
    equal_error_rate,
    operating_point,
    precision_recall,
    verdict,
)


def test_detection_curve_runs_from_nothing_detected_to_everything() -> None:
    scores = np.array([0.9, 0.8, 0.3, 0.1])
    truth = np.array([True, False, True, False])
    fa, miss, th = detection_curve(scores, truth)
    assert th[0] == np.inf and list(th[1:]) == [0.9, 0.8, 0.3, 0.1]
    assert fa.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert miss.tolist() == [1.0, 0.5, 0.5, 0.0, 0.0]


def test_equal_error_rate_of_separable_scores_is_zero() -> None:
    fa, miss, _ = detection_curve(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0], bool))
    assert equal_error_rate(fa, miss) == 0.0


def test_equal_error_rate_interpolates_between_thresholds() -> None:
    # miss - fa goes from 0.5 (fa 0, miss 0.5) to -0.5 (fa 0.5, miss 0): crossing at 0.25
    assert equal_error_rate(np.array([0.0, 0.0, 0.5]), np.array([1.0, 0.5, 0.0])) == 0.25


def test_equal_error_rate_of_reversed_scores_is_one() -> None:
    fa, miss, _ = detection_curve(np.array([0.1, 0.2, 0.8, 0.9]), np.array([1, 1, 0, 0], bool))
    assert equal_error_rate(fa, miss) == pytest.approx(1.0)


def test_precision_recall_best_f1_and_average_precision() -> None:
    scores = np.array([0.9, 0.8, 0.3, 0.1])
    truth = np.array([True, False, True, False])
    p, r, f1, ap = precision_recall(scores, truth)
    assert r.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert p[1] == 1.0 and p[3] == pytest.approx(2 / 3)
    assert f1 == pytest.approx(0.8)  # P 2/3, R 1
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)


def test_operating_point_of_a_binary_detector() -> None:
    found = np.array([True, True, False, False])
    truth = np.array([True, False, True, False])
    op = operating_point(found, truth)
    assert op["precision"] == 0.5 and op["recall"] == 0.5 and op["f1"] == 0.5
    assert op["false_alarm"] == 0.5 and op["miss"] == 0.5 and op["eer"] == 0.5
    perfect = operating_point(truth, truth)
    assert perfect["eer"] == 0.0 and perfect["f1"] == 1.0


def test_detection_curve_rejects_one_class_and_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="positive and negative"):
        detection_curve(np.array([0.1, 0.2]), np.array([True, True]))
    with pytest.raises(ValueError, match="shapes"):
        detection_curve(np.array([0.1, 0.2]), np.array([True]))


def test_verdict_rule() -> None:
    base = {"eer": 0.2, "f1": 0.8}
    assert verdict({"eer": 0.1, "best_f1": 0.85}, base)[0] == "reproduced"
    assert verdict({"eer": 0.1, "best_f1": 0.80}, base)[0] == "reproduced"
    assert verdict({"eer": 0.2, "best_f1": 0.90}, base)[0] == "partial"  # EER only equal
    assert verdict({"eer": 0.1, "best_f1": 0.70}, base)[0] == "partial"
    assert verdict({"eer": 0.3, "best_f1": 0.70}, base)[0] == "not_reproduced"
    # beating a baseline that finds nothing (an untrained net) shows nothing
    blind = {"eer": 0.5, "f1": 0.0}
    v, checks = verdict({"eer": 0.2, "best_f1": 0.1}, blind)
    assert v == "partial" and not checks["baseline_finds_keywords"]


def test_config_uses_the_data_keywords_and_distinct_seeds() -> None:
    from rnnai.data import KEYWORDS

    cfg = get_experiment("ctc.keyword_spotting").config("quick")
    assert cfg["keywords"] == list(KEYWORDS)
    assert len(set(cfg["data"]["seeds"].values())) == 3


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main,
        ["run", "ctc.keyword_spotting", "--scale", "smoke", "--out", str(tmp_path), "--quiet"],
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "ctc.keyword_spotting"
    res = json.loads((out / "result.json").read_text())
    m = res["metrics"]
    assert res["paper"]["value"] is None
    assert res["verdict"] == verdict(m["spotter"], m["baseline"])[0]
    assert res["headline"]["value"] == pytest.approx(m["spotter"]["eer"], abs=1e-4)
    assert 0.0 <= m["spotter"]["eer"] <= 1.0 and 0.0 <= m["baseline"]["eer"] <= 1.0
    assert m["data"]["pairs"] == 6 * m["data"]["n_test"]
    assert res["plots"] == ["learning_curve.png", "detection.png", "alignment.png"]
    for plot in res["plots"]:
        assert (out / plot).stat().st_size > 1000
