"""lstm.adding: smoke run through the CLI, result.json consistent with the verdict rule."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment


def test_adding_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "lstm.adding", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "lstm.adding" / "result.json").read_text())
    assert res["paper"]["value"] == 74_000
    assert res["verdict"] in ("reproduced", "partial", "not_reproduced")
    m = res["metrics"]["T20"]
    # smoke runs T=20, not the paper's task: the rule never says "reproduced" for it
    assert res["verdict"] == ("partial" if m["solved"] else "not_reproduced")
    assert "modern setup" in m["setup"]
    for plot in res["plots"]:
        assert (tmp_path / "lstm.adding" / plot).stat().st_size > 1000
    assert "learning_curve.png" in res["plots"]


def test_adding_paper_scale_uses_the_1997_setup() -> None:
    cfg = get_experiment("lstm.adding").config("paper")
    assert [r["T"] for r in cfg["runs"]] == [100, 500, 1000]
    first = cfg["runs"][0]
    assert first["trials"] == 10 and first["train"]["optimizer"] == "sgd"
    assert first["train"]["batch"] == 1 and cfg["net"]["variant"] == "lstm1997"


def _results(solved: list[bool], seqs: int = 50_000) -> list:
    from rnnai.train.loop import TrialResult

    return [
        TrialResult(trial=i, solved=s, sequences=seqs, eval_wrong=0, eval_size=1, eval_error=0.0)
        for i, s in enumerate(solved)
    ]


def test_an_unsolved_t100_is_not_reproduced_whatever_t500_did() -> None:
    from rnnai.experiments.lstm_adding import adding_judgement

    runs = get_experiment("lstm.adding").config("paper")["runs"]
    groups = {"T=100": _results([False] * 10), "T=500": _results([True] * 3, 100_000),
              "T=1000": _results([True] * 3, 500_000)}  # fmt: skip
    judgement, headline = adding_judgement(runs, groups)
    assert judgement.verdict == "not_reproduced" and headline is None


def test_the_paper_setup_with_ten_fast_trials_is_reproduced_and_quick_is_partial() -> None:
    from rnnai.experiments.lstm_adding import adding_judgement

    paper = get_experiment("lstm.adding").config("paper")["runs"]
    fast = {"T=100": _results([True] * 10, 60_000)}
    judgement, headline = adding_judgement(paper, fast)
    assert judgement.verdict == "reproduced" and headline == 60_000
    quick = get_experiment("lstm.adding").config("quick")["runs"]
    judgement, _ = adding_judgement(quick, {"T=100": _results([True], 30_000)})
    assert judgement.verdict == "partial" and judgement.reasons


def test_a_solved_smoke_trial_at_t20_is_partial_and_does_not_crash() -> None:
    from rnnai.experiments.lstm_adding import adding_judgement

    smoke = get_experiment("lstm.adding").config("smoke")["runs"]
    judgement, headline = adding_judgement(smoke, {"T=20": _results([True], 256)})
    assert judgement.verdict == "partial" and headline == 256
    judgement, headline = adding_judgement(smoke, {"T=20": _results([False], 512)})
    assert judgement.verdict == "not_reproduced" and headline is None
