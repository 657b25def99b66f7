"""ctc.spoken_digits: smoke run through the CLI, the verdict rule, the configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.ctc_spoken_digits import PAPER_LER, TEST_VOICES, verdict


def _metrics(blstm_ps: float, blstm_bp: float, lstm_ps: float) -> dict:
    return {
        "blstm": {"test_ler": {"prefix_search": blstm_ps, "best_path": blstm_bp}},
        "lstm": {"test_ler": {"prefix_search": lstm_ps, "best_path": lstm_ps}},
    }


def test_verdict_rule() -> None:
    assert verdict(_metrics(0.05, 0.06, 0.10))[0] == "reproduced"
    assert verdict(_metrics(0.05, 0.05, 0.10))[0] == "reproduced"  # a tie counts for 2
    assert verdict(_metrics(0.05, 0.04, 0.10))[0] == "partial"  # prefix search worse
    assert verdict(_metrics(0.05, 0.06, 0.05))[0] == "partial"  # LSTM as good
    assert verdict(_metrics(0.0332, 0.0332, 0.0348))[0] == "partial"  # within 10%: no win
    assert verdict(_metrics(0.0, 0.0, 0.0))[0] == "partial"  # both perfect: no win either
    assert verdict(_metrics(PAPER_LER, 0.4, 0.5))[0] == "not_reproduced"  # not below 30.51%
    v, checks = verdict(_metrics(0.5, 0.6, 0.7))
    assert v == "not_reproduced" and checks["blstm_beats_lstm"]


def test_test_voices_are_held_out_of_training() -> None:
    from rnnai.data.speech import DIGITS

    cfg = get_experiment("ctc.spoken_digits").config("quick")
    assert set(cfg["data"]["test_voices"]) == set(TEST_VOICES) <= set(DIGITS.voices)
    assert len(set(cfg["data"]["seeds"].values())) == 3


def test_scales_grow() -> None:
    exp = get_experiment("ctc.spoken_digits")
    sizes = [exp.config(s)["data"]["n_train"] for s in ("smoke", "quick", "paper")]
    epochs = [exp.config(s)["train"]["epochs"] for s in ("smoke", "quick", "paper")]
    assert sizes == sorted(sizes) and epochs == sorted(epochs)
    assert exp.config("paper")["net"]["hidden"] == 100  # the paper's cells per direction


@pytest.mark.filterwarnings("ignore:prefix search stopped")  # an untrained net's flat outputs
def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "ctc.spoken_digits", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "ctc.spoken_digits"
    res = json.loads((out / "result.json").read_text())
    assert res["paper"]["value"] == 30.51
    m = res["metrics"]
    for net in ("blstm", "lstm"):
        assert set(m[net]["test_ler"]) == {"best_path", "prefix_search", "beam_lm"}
        assert len(m[net]["curve"]) == 2
    # matched sizes: within 5% of each other
    assert abs(m["lstm"]["params"] - m["blstm"]["params"]) < 0.05 * m["blstm"]["params"]
    assert res["verdict"] == verdict(m)[0]
    assert res["headline"]["value"] == pytest.approx(
        100 * m["blstm"]["test_ler"]["prefix_search"], abs=0.01
    )
    assert res["plots"] == ["learning_curve.png", "alignment.png"]
    for plot in res["plots"]:
        assert (out / plot).stat().st_size > 1000
