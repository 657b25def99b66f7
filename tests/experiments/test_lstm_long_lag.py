"""lstm.long_lag: smoke run through the CLI, verdict rule, confirmation helper, paper config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.lstm_long_lag import (
    confirm,
    make_task,
    paper_sequences,
    setting_judgement,
)
from rnnai.runtime.verdict import check
from rnnai.train.loop import TrialResult
from rnnai.train.sequence import NetConfig, SequenceNet

NAME = "lstm.long_lag"


def test_long_lag_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / NAME / "result.json").read_text())
    assert res["paper"]["value"] == 5_040
    assert res["verdict"] in ("reproduced", "partial", "not_reproduced")
    per = [res["metrics"][k] for k in ("2a_10", "2c_5")]
    # smoke sizes are not the paper's tasks and use Adam: never "reproduced" per setting
    for m in per:
        assert m["verdict"] == ("partial" if m["solved"] else "not_reproduced")
        assert "modern setup" in m["setup"]
    solved_any = any(m["solved"] for m in per)
    assert res["verdict"] == ("partial" if solved_any else "not_reproduced")
    assert res["judgement"]["trials"] == 1 and res["judgement"]["required_trials"] == 10
    assert res["headline"]["value"] == per[0]["median_sequences"]
    assert "learning_curve.png" in res["plots"]
    for plot in res["plots"]:
        assert (tmp_path / NAME / plot).stat().st_size > 1000


def _results(n: int, solved: int, seqs: int) -> list[TrialResult]:
    return [
        TrialResult(trial=i, solved=i < solved, sequences=seqs, eval_wrong=0, eval_size=1,
                    eval_error=0.0)
        for i in range(n)
    ]  # fmt: skip


def test_setting_verdict_rule() -> None:
    def v(n: int, solved: int, seqs: int, paper: float | None, sgd: bool = True, ok: bool = True):  # type: ignore[no-untyped-def]
        conf = [check("confirmation", ok, n=10_000)]
        return setting_judgement(
            ("2a_100", _results(n, solved, seqs), paper), sgd, "x", conf
        ).verdict

    assert v(18, 18, 4_000, 5_040) == "reproduced"
    assert v(18, 18, 4_000, 5_040, sgd=False) == "partial"  # Adam is not the paper's setup
    assert v(3, 3, 4_000, 5_040) == "partial"  # fewer than 10 trials
    assert v(18, 18, 4_000, 5_040, ok=False) == "partial"  # confirmation found wrong sequences
    assert v(18, 18, 50_000, 5_040) == "partial"  # far slower than the paper
    assert v(18, 12, 4_000, 5_040) == "partial"  # not every trial solved it
    assert v(18, 18, 4_000, None) == "partial"  # a reduced task has no paper number
    assert v(18, 0, 100_000, 5_040, ok=False) == "not_reproduced"


def test_paper_numbers_per_setting() -> None:
    assert paper_sequences("2a", 100) == 5_040
    assert paper_sequences("2a", 10) is None
    assert [paper_sequences("2c", q) for q in (50, 100, 200, 500, 1000)] == [
        30_000,
        31_000,
        33_000,
        38_000,
        49_000,
    ]


def test_confirm_counts_wrong_sequences_across_chunks() -> None:
    task = make_task("2c", 5)
    net = SequenceNet(task.input_size, task.output_size, NetConfig(hidden=2), torch.Generator())
    with torch.no_grad():  # an untrained net that outputs 0.5: every sequence wrong
        for p in net.parameters():
            p.zero_()
    assert confirm(net, task, np.random.default_rng(0), 50, chunk=16) == 50


def test_paper_scale_uses_the_1997_setup_and_all_q() -> None:
    runs = get_experiment(NAME).config("paper")["runs"]
    assert [(r["task"], r["size"]) for r in runs] == [
        ("2a", 100),
        ("2c", 50),
        ("2c", 100),
        ("2c", 200),
        ("2c", 500),
        ("2c", 1000),
    ]
    for r in runs:
        assert r["train"]["optimizer"] == "sgd" and r["train"]["batch"] == 1
        assert r["net"]["variant"] == "lstm1997" and r["confirm"] == 10_000
    assert runs[0]["train"]["lr"] == 1.0 and runs[1]["train"]["lr"] == 0.01
    assert runs[0]["net"]["input_to_output"] is True


def test_quick_2a_net_has_shortcut_and_gate_biases() -> None:
    run = get_experiment(NAME).config("quick")["runs"][0]
    assert (run["task"], run["size"]) == ("2a", 100)
    net = run["net"]
    assert net["input_to_output"] is True
    assert net["input_gate_bias"] == [-3.0, -6.0] and net["output_gate_bias"] == [-1.0, -2.0]
    # the biases survive the JSON round trip into the network that is trained
    cfg = NetConfig(**net | {k: tuple(net[k]) for k in ("output_gate_bias", "input_gate_bias")})
    task = make_task("2a", 10)
    model = SequenceNet(task.input_size, task.output_size, cfg, torch.Generator())
    lstm = model.lstm
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[lstm.gate_slices["i"]]
    assert b.tolist() == [-3.0, -6.0, -3.0, -6.0]
    assert model.head.in_features == cfg.hidden + task.input_size
