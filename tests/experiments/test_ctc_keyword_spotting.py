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
    sorted_eer,
    verdict,
)
from rnnai.runtime.errors import RnnaiError


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
    with pytest.raises(RnnaiError, match="positive and negative"):
        detection_curve(np.array([0.1, 0.2]), np.array([True, True]))
    with pytest.raises(RnnaiError, match="shapes"):
        detection_curve(np.array([0.1, 0.2]), np.array([True]))


@pytest.mark.parametrize("seed", range(5))
def test_sorted_eer_equals_the_eer_of_the_detection_curve(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(200), 1)  # many ties
    truth = rng.random(200) < 0.3
    fa, miss, _ = detection_curve(scores, truth)
    assert sorted_eer(scores, truth) == equal_error_rate(fa, miss)


def _case(spot_good: bool, base_good: bool) -> tuple:
    """40 utterances x 2 keywords; keyword 0 is spoken in even utterances."""
    truth = np.zeros((40, 2), bool)
    truth[::2, 0] = True
    rng = np.random.default_rng(0)
    scores = np.where(truth, 0.9, 0.1) if spot_good else rng.random((40, 2))
    found = truth.copy() if base_good else np.zeros((40, 2), bool)
    found[:8] = ~truth[:8]  # the baseline errs on 8 utterances (16 pairs)
    return scores, found, truth


def _rates(scores: np.ndarray, found: np.ndarray, truth: np.ndarray) -> tuple[dict, dict]:
    fa, miss, _ = detection_curve(scores.ravel(), truth.ravel())
    _, _, best_f1, _ = precision_recall(scores.ravel(), truth.ravel())
    spotter = {"eer": equal_error_rate(fa, miss), "best_f1": best_f1}
    return spotter, operating_point(found.ravel(), truth.ravel())


def test_verdict_rule() -> None:
    case = _case(spot_good=True, base_good=True)  # perfect spotter, baseline errs on 8 of 40
    j = verdict(*case, *_rates(*case))
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [True, True]
    assert "not the paper's setup" in j.reasons[0]
    assert j.evidence[0].interval[1] < 0 and j.evidence[0].n == 40
    case = _case(spot_good=False, base_good=True)  # random scores lose to the baseline
    j = verdict(*case, *_rates(*case))
    assert j.verdict == "not_reproduced"
    case = _case(spot_good=True, base_good=False)  # a baseline that finds (almost) nothing
    spotter, baseline = _rates(*case)
    j = verdict(*case, spotter, {**baseline, "f1": 0.0})  # beating a blind baseline shows nothing
    assert [e.passed for e in j.evidence] == [True, False] and j.verdict == "partial"


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
    j = res["judgement"]
    assert res["verdict"] == j["verdict"] != "reproduced" and len(j["evidence"]) == 2
    assert j["evidence"][0]["ours"] == pytest.approx(m["spotter"]["eer"] - m["baseline"]["eer"])
    assert res["headline"]["value"] == pytest.approx(m["spotter"]["eer"], abs=1e-4)
    assert 0.0 <= m["spotter"]["eer"] <= 1.0 and 0.0 <= m["baseline"]["eer"] <= 1.0
    assert m["data"]["pairs"] == 6 * m["data"]["n_test"]
    assert res["plots"] == ["learning_curve.png", "detection.png", "alignment.png"]
    for plot in res["plots"]:
        assert (out / plot).stat().st_size > 1000
