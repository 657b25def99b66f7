"""ctc.spoken_digits: smoke run through the CLI, the verdict rule, the configs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.ctc_spoken_digits import (
    PAPER_LER,
    TEST_VOICES,
    ler_evidence,
    ler_per_voice,
    training_voices,
    verdict,
    voice_base,
)
from rnnai.runtime.errors import RnnaiError

REFS = [[1, 2, 3, 4]] * 40


def _hyps(wrong_ps: int, wrong_bp: int, wrong_lstm: int) -> dict:
    """Decodings of `REFS` where the first ``wrong_*`` utterances lose their last label."""

    def dec(k: int) -> list[list[int]]:
        return [r[:-1] if i < k else list(r) for i, r in enumerate(REFS)]

    return {
        "blstm": {"prefix_search": dec(wrong_ps), "best_path": dec(wrong_bp)},
        "lstm": {"prefix_search": dec(wrong_lstm), "best_path": dec(wrong_lstm)},
    }


def test_verdict_rule() -> None:
    j = verdict(REFS, _hyps(0, 12, 12))  # every test passes, but on other data than TIMIT
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [True, True, True]
    assert "not the paper's setup" in j.reasons[0]
    j = verdict(REFS, _hyps(2, 2, 12))  # prefix search no better than best path
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [True, False, True]
    j = verdict(REFS, _hyps(2, 3, 3))  # one error fewer in 40 utterances: no significant win
    assert [e.passed for e in j.evidence] == [True, False, False]
    j = verdict(REFS, _hyps(40, 40, 40))  # LER 25% but nothing beats anything
    assert j.verdict == "partial" and j.evidence[0].passed
    bad = [[5, 6, 7, 8]] * 40
    j = verdict(REFS, {"blstm": {"prefix_search": bad, "best_path": bad},
                       "lstm": {"prefix_search": bad}})  # fmt: skip
    assert j.verdict == "not_reproduced"  # LER 100%, no comparison won
    assert j.evidence[2].n == 40 and j.evidence[2].interval == (0.0, 0.0)


def test_ler_evidence_passes_when_the_paper_is_inside_our_interval_or_we_are_better() -> None:
    lengths = np.full(40, 10)
    better = ler_evidence(np.r_[np.ones(10), np.zeros(30)].astype(int), lengths)  # LER 2.5%
    assert better.passed and better.interval[1] < PAPER_LER
    near = ler_evidence(np.r_[np.full(20, 2), np.full(20, 5)], lengths)  # 35%: paper inside
    assert near.passed and near.interval[0] <= PAPER_LER <= near.interval[1]
    worse = ler_evidence(np.full(40, 6), lengths)  # 60%
    assert not worse.passed and worse.ours == 0.6


def test_test_voices_share_no_base_voice_and_no_variant_with_training() -> None:
    from rnnai.data.speech import DIGITS

    cfg = get_experiment("ctc.spoken_digits").config("quick")
    assert cfg["data"]["test_voices"] == list(TEST_VOICES)
    train = training_voices(DIGITS.voices, TEST_VOICES)
    assert len(train) >= 10
    assert not {voice_base(v) for v in train} & {voice_base(v) for v in TEST_VOICES}
    variants = {v.partition("+")[2] for v in train} - {""}
    assert not variants & {v.partition("+")[2] for v in TEST_VOICES}
    assert "en-gb-scotland" in DIGITS.voices and "en-gb-scotland" not in train  # base held out
    assert len(set(cfg["data"]["seeds"].values())) == 3
    with pytest.raises(RnnaiError, match="no training voice"):
        training_voices(["en", "en+m1"], ["en+f2"])


def test_ler_per_voice_groups_utterances_by_voice() -> None:
    refs = [[1, 2], [3], [1, 1, 1], [2]]
    hyps = [[1, 2], [], [1, 1], [2]]
    per = ler_per_voice(refs, hyps, ["a", "b", "a", "b"])
    assert per == {"a": pytest.approx(1 / 5), "b": pytest.approx(1 / 2)}


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
        assert set(m[net]["test_ler_per_voice"]) <= set(TEST_VOICES)
        assert len(m[net]["curve"]) == 2
    # matched sizes: within 5% of each other
    assert abs(m["lstm"]["params"] - m["blstm"]["params"]) < 0.05 * m["blstm"]["params"]
    j = res["judgement"]
    assert res["verdict"] == j["verdict"] and len(j["evidence"]) == 3
    assert j["evidence"][0]["ours"] == m["blstm"]["test_ler"]["prefix_search"]
    assert j["verdict"] != "reproduced"  # not TIMIT: at most partial
    assert res["headline"]["value"] == pytest.approx(
        100 * m["blstm"]["test_ler"]["prefix_search"], abs=0.01
    )
    assert res["plots"] == ["learning_curve.png", "alignment.png"]
    for plot in res["plots"]:
        assert (out / plot).stat().st_size > 1000
