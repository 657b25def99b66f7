"""ctc.text_lines: verdict rule, dictionary decoding helper, configs, smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.ctc import WordBigramLM
from rnnai.experiments import get_experiment
from rnnai.experiments.ctc_text_lines import PAPER_WORD_ACCURACY, decode_dictionary, verdict
from rnnai.train.ctc import Posteriors

REFS = ["stop the music now"] * 40  # 4 words per line


def _texts(wrong_lm: int, wrong_bp: int) -> dict[str, list[str]]:
    """Decodings where the first ``wrong_*`` lines misread one word (of 4)."""

    def dec(k: int) -> list[str]:
        return ["stop the muse now" if i < k else r for i, r in enumerate(REFS)]

    return {"dictionary_lm": dec(wrong_lm), "best_path": dec(wrong_bp)}


def test_verdict_rule() -> None:
    j = verdict(REFS, _texts(4, 30))  # accuracy 97.5%, dictionary fixes 26 lines
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [True, True]
    assert "not the paper's setup" in j.reasons[0]
    j = verdict(REFS, _texts(4, 5))  # one line fewer: no significant improvement
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [False, True]
    j = verdict(REFS, _texts(40, 40))  # accuracy 75%: the paper's 74.1% inside the interval
    assert [e.passed for e in j.evidence] == [False, True]
    assert j.evidence[1].ours == 0.75 and j.evidence[1].paper == PAPER_WORD_ACCURACY
    bad = {"dictionary_lm": ["a b c d"] * 40, "best_path": ["stop the muse now"] * 40}
    j = verdict(REFS, bad)  # the dictionary hurts and accuracy is 0
    assert j.verdict == "not_reproduced"


def _spiky(path: list[int], C: int) -> np.ndarray:
    logp = np.full((len(path), C), np.log(0.02 / (C - 1)))
    logp[np.arange(len(path)), path] = np.log(0.98)
    return logp


def test_dictionary_decoding_snaps_a_misspelling_to_a_word() -> None:
    # alphabet: blank, space, a, b, c; dictionary "ab", "cab"; the net spells "ab cb"
    words = [[2, 3], [4, 2, 3]]
    path = [2, 0, 3, 1, 4, 0, 3, 0]  # a b _ c b
    lp = _spiky(path, 5)
    post = Posteriors(lp[None], np.array([len(path)]), 0.0)
    (hyp,) = decode_dictionary(post, words, 1, None, 1.0)
    assert hyp in ([2, 3, 1, 4, 2, 3], [2, 3, 1, 2, 3])  # "ab cab" or "ab ab": dictionary words


def test_bigram_lm_breaks_a_tie_between_words() -> None:
    words = [[2], [3]]  # "a", "b"
    lp = np.log(np.full((3, 4), 0.25))  # uninformative frames: only the LM decides
    lp[:, 1] = np.log(0.01)
    lp -= np.log(np.exp(lp).sum(-1, keepdims=True))
    post = Posteriors(lp[None], np.array([3]), 0.0)
    lm = WordBigramLM(k=0.01).fit([[1]] * 50, 2)  # sentences are "b"
    (hyp,) = decode_dictionary(post, words, 1, lm, 5.0)
    assert hyp == [3]


def test_configs_use_distinct_seeds_and_grow() -> None:
    exp = get_experiment("ctc.text_lines")
    cfgs = [exp.config(s) for s in ("smoke", "quick", "paper")]
    assert len(set(cfgs[1]["data"]["seeds"].values())) == 4  # the LM text is never test text
    sizes = [c["data"]["n_train"] for c in cfgs]
    assert sizes == sorted(sizes)


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "ctc.text_lines", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "ctc.text_lines"
    res = json.loads((out / "result.json").read_text())
    m = res["metrics"]
    assert res["paper"]["value"] == 74.1
    assert set(m["test_wer"]) == {"best_path", "dictionary", "dictionary_lm"}
    j = res["judgement"]
    assert res["verdict"] == j["verdict"] != "reproduced" and len(j["evidence"]) == 2
    assert j["evidence"][1]["ours"] == pytest.approx(m["test_word_accuracy"]["dictionary_lm"])
    assert res["headline"]["value"] == pytest.approx(
        100 * (1 - m["test_wer"]["dictionary_lm"]), abs=0.01
    )
    assert (
        m["lm_weight"] in m["valid_wer_by_lm_weight"]
        or str(m["lm_weight"]) in m["valid_wer_by_lm_weight"]
    )
    assert res["plots"] == ["learning_curve.png", "alignment.png"]
    for plot in res["plots"]:
        assert (out / plot).stat().st_size > 1000


class _Killed(Exception):
    """Stands in for SIGKILL right after a checkpoint write."""


def test_run_killed_after_a_checkpoint_resumes_to_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rnnai.experiments import runner

    save = runner._RunCheckpointer.save
    fresh_saves = {"n": 0}

    def counting_fresh_save(self, tensors, state):  # type: ignore[no-untyped-def]
        save(self, tensors, state)
        fresh_saves["n"] += 1

    monkeypatch.setattr(runner._RunCheckpointer, "save", counting_fresh_save)
    ref = runner.run_experiment("ctc.text_lines", "smoke", out=tmp_path / "ref", quiet=True)
    calls = {"n": 0}

    def killing_save(self, tensors, state):  # type: ignore[no-untyped-def]
        save(self, tensors, state)
        calls["n"] += 1
        if calls["n"] == 1:  # after the first epoch's checkpoint
            raise _Killed

    monkeypatch.setattr(runner._RunCheckpointer, "save", killing_save)
    with pytest.raises(_Killed):
        runner.run_experiment("ctc.text_lines", "smoke", out=tmp_path / "run", quiet=True)
    assert (tmp_path / "run" / "ctc.text_lines" / "checkpoint.safetensors").is_file()
    resumed_saves = {"n": 0}

    def counting_save(self, tensors, state):  # type: ignore[no-untyped-def]
        save(self, tensors, state)
        resumed_saves["n"] += 1

    monkeypatch.setattr(runner._RunCheckpointer, "save", counting_save)
    got = runner.run_experiment(
        "ctc.text_lines", "smoke", out=tmp_path / "run", resume=True, quiet=True
    )
    assert got["metrics"] == ref["metrics"] and got["verdict"] == ref["verdict"]
    # it continued: every save of a fresh run but the first epoch's
    assert resumed_saves["n"] == fresh_saves["n"] - 1
