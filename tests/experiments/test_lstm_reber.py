"""lstm.reber: smoke run through the CLI, exact resume, and the carrier-cell helper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.base import RunContext
from rnnai.experiments.lstm_reber import (
    NET,
    PAPER_SEQUENCES,
    _view_strings,
    carrier_cell,
    train_on_fixed_sets,
)
from rnnai.runtime.testing import Killed, KillingCheckpointer
from rnnai.tasks.reber import reber_datasets, strings_to_batch
from rnnai.train.loop import TrainConfig
from rnnai.train.sequence import SequenceNet

NAME = "lstm.reber"


def test_smoke_run_writes_consistent_result(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / NAME / "result.json").read_text())
    assert result["paper"]["value"] == PAPER_SEQUENCES == 8_440
    assert result["verdict"] in ("reproduced", "partial", "not_reproduced")
    m = result["metrics"]
    # The verdict follows from the measured numbers by the shared rule; smoke has 1 trial.
    assert result["verdict"] != "reproduced"
    assert result["judgement"]["trials"] == 1 and result["judgement"]["required_trials"] == 10
    if m["solved"] == 0:
        assert result["verdict"] == "not_reproduced"
        assert result["headline"]["value"] is None
    else:
        assert result["headline"]["value"] == m["median_sequences"]
    assert m["setup"].endswith("1997 setup: online SGD, lr 0.5")
    assert len(m["sequences_per_trial"]) == m["trials"] == 1
    for plot in result["plots"]:
        assert (tmp_path / NAME / plot).is_file()
    assert "learning_curve.png" in result["plots"]
    assert "carrier_cell.png" in result["plots"]


def _ctx(tmp_path: Path, resume: bool = False) -> RunContext:
    return RunContext(
        name=NAME, scale="smoke", seed=3, out_dir=tmp_path, config={}, quiet=True, resume=resume
    )


def test_killed_run_resumes_to_identical_results(tmp_path: Path) -> None:
    cfg = TrainConfig(optimizer="sgd", lr=0.5, max_sequences=60, eval_every=20, eval_size=256)

    def train(ctx: RunContext):  # type: ignore[no-untyped-def]
        return train_on_fixed_sets(NET, cfg, 2, seeds=ctx, hooks=ctx, n_train=32, n_test=32)

    full = train(_ctx(tmp_path / "a"))
    ctx = _ctx(tmp_path / "b")
    cp = ctx.checkpointer  # dies after the 5th checkpoint (mid trial 1)
    ctx.checkpointer = KillingCheckpointer(cp.path, cp.fingerprint, kill_after=5)
    with pytest.raises(Killed):
        train(ctx)
    resumed = train(_ctx(tmp_path / "b", True))
    assert [r.to_dict() for r in resumed.results] == [r.to_dict() for r in full.results]
    assert resumed.net is not None and full.net is not None
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            resumed.net.state_dict().values(), full.net.state_dict().values(), strict=True
        )
    )


def _judgement(scale: str, solved: list[bool], n: int):  # type: ignore[no-untyped-def]
    from rnnai.experiments.lstm_reber import reber_judgement
    from rnnai.train.loop import TrialResult

    results = [
        TrialResult(
            trial=i, solved=s, sequences=n, eval_wrong=0 if s else 5, eval_size=256, eval_error=0.01
        )
        for i, s in enumerate(solved)
    ]
    return reber_judgement(results, TrainConfig(**get_experiment(NAME).config(scale)["train"]))


def test_verdict_needs_ten_trials_every_one_solved_and_the_paper_speed() -> None:
    assert _judgement("paper", [True] * 10, 8_000).verdict == "reproduced"
    quick = _judgement("quick", [True] * 3, 8_000)  # 3 trials: never reproduced
    assert quick.verdict == "partial" and "fewer than the 10 required" in quick.reasons[0]
    assert _judgement("paper", [True] * 9 + [False], 8_000).verdict == "partial"
    assert _judgement("paper", [True] * 10, 90_000).verdict == "partial"  # too slow
    assert _judgement("paper", [False] * 10, 100_000).verdict == "not_reproduced"


def test_carrier_cell_is_the_one_that_separates_t_from_p() -> None:
    net = SequenceNet(7, 7, NET, torch.Generator().manual_seed(0))
    with torch.no_grad():  # make cell 4 store "T" (+) vs "P" (-) in its CEC and nothing else
        net.lstm.weight_ih_l0.zero_()
        net.lstm.weight_hh_l0.zero_()
        s = net.lstm.gate_slices
        net.lstm.bias_ih_l0.zero_()
        net.lstm.bias_hh_l0.zero_()
        net.lstm.weight_ih_l0[s["g"].start + 4, 1] = 5.0  # T input
        net.lstm.weight_ih_l0[s["g"].start + 4, 2] = -5.0  # P input
    t_b = strings_to_batch(["BTBTSSXSETE"])
    p_b = strings_to_batch(["BPBTSSXSEPE"])
    assert carrier_cell(net, t_b, p_b) == 4


def test_view_strings_are_twins_that_differ_only_in_the_second_symbol() -> None:
    _, test = reber_datasets(np.random.default_rng(0), 16, 16)
    t, p = _view_strings(test)
    assert t[:2] == "BT" and t[-2:] == "TE"
    assert p == "BP" + t[2:-2] + "PE"
    strings_to_batch([t, p])  # both are embedded Reber strings
