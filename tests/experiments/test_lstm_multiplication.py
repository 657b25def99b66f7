"""lstm.multiplication: smoke run through the CLI, the stage summary and the verdict rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments.lstm_multiplication import (
    PAPER_STAGES,
    MultiplicationExperiment,
    multiplication_judgement,
    stage_summary,
)
from rnnai.train.loop import TrialResult


def _trial(rows: list[list[float]]) -> TrialResult:
    return TrialResult(trial=0, solved=False, sequences=int(rows[-1][0]), eval_wrong=0,
                       eval_size=2560, eval_error=rows[-1][3], curve=rows)  # fmt: skip


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["run", "lstm.multiplication", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "lstm.multiplication"
    r = json.loads((out / "result.json").read_text())
    assert r["paper"]["value"] == MultiplicationExperiment.claim.value == 140
    assert r["verdict"] in {"reproduced", "partial", "not_reproduced"}
    assert r["metrics"]["paper_setup"] is False
    medians = {int(s): v["median_wrong_per_2560"] for s, v in r["metrics"]["stages"].items()}
    assert r["verdict"] == ("partial" if medians[256] <= 140 else "not_reproduced")
    assert r["headline"]["value"] == medians[256]
    for name in r["plots"]:
        assert (out / name).is_file()
    assert {"learning_curve.png", "internals.png", "storage.png"} <= set(r["plots"])


def test_paper_config_is_the_1997_setup_and_budget() -> None:
    cfg = MultiplicationExperiment().config("paper")
    assert cfg["train"]["optimizer"] == "sgd" and cfg["train"]["batch"] == 1
    assert cfg["train"]["max_sequences"] == 1_273_000 and cfg["train"]["eval_size"] == 2560
    assert all(s % cfg["train"]["eval_every"] == 0 for s in cfg["stages"])  # judged exactly there
    assert cfg["stages"] == list(PAPER_STAGES)
    # Gates start closed (input-gate biases negative); without them Adam stayed on the plateau.
    assert cfg["hidden"] == 4 and all(b < 0 for b in cfg["input_gate_bias"])
    assert all(b < 0 for b in MultiplicationExperiment().config("quick")["input_gate_bias"])


def test_stage_summary_reads_the_last_evaluation_up_to_the_stage() -> None:
    rows = [[1000, 0.02, 0.5, 0.1], [2000, 0.01, 0.25, 0.05], [3000, 0.005, 0.1, 0.02]]
    s = stage_summary([_trial(rows)], 2500)
    assert s is not None
    assert s["median_wrong_per_2560"] == pytest.approx(640.0)
    assert s["median_train_mse"] == pytest.approx(0.02)  # twice the half squared error
    assert stage_summary([_trial(rows)], 500) is None


def _verdict(stages: dict[int, float], paper_setup: bool, trials: int = 10) -> str:
    summaries = {
        at: {"wrong_per_2560": [float(w)] * trials} if w is not None else None
        for at, w in stages.items()
    }
    return multiplication_judgement(summaries, paper_setup, "x", trials).verdict  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stages", "paper_setup", "expected"),
    [
        ({482_000: 120, 1_273_000: 10}, True, "reproduced"),
        ({482_000: 120, 1_273_000: 10}, False, "partial"),  # quick or modern: at most partial
        ({482_000: 120, 1_273_000: 40}, True, "partial"),  # only the first paper stage met
        ({482_000: 300, 1_273_000: 140}, True, "not_reproduced"),  # 140 > 13 at 1,273,000
        ({482_000: 141, 1_273_000: 141}, True, "not_reproduced"),
        ({61_440: 100}, False, "partial"),
        ({61_440: 2000}, False, "not_reproduced"),
        ({482_000: 10}, True, "partial"),  # second stage never measured
    ],
)
def test_verdict_rule(stages: dict[int, float], paper_setup: bool, expected: str) -> None:
    assert _verdict(stages, paper_setup) == expected


def test_three_trials_are_never_reproduced() -> None:
    assert _verdict({482_000: 120, 1_273_000: 10}, True, trials=3) == "partial"
