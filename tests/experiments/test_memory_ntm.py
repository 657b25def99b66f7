"""memory.ntm_copy / memory.ntm_recall: tasks and nets, bit errors, train/test length
disjointness, the verdict and one smoke run of each through the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.memory_ntm import (
    MODELS,
    NetSpec,
    bits_per_sequence,
    build_memory_net,
    error_by_length,
    final_cost,
    is_paper_setup,
    make_memory_task,
    measure,
    ntm_judgement,
)
from rnnai.nn.ntm import NTM
from rnnai.runtime.errors import RnnaiError
from rnnai.train.sequence import to_torch

NAMES = ("memory.ntm_copy", "memory.ntm_recall")


def _task(cfg: dict[str, Any], split: str) -> Any:
    t = cfg["task"]
    return make_memory_task(t["task"], tuple(t["train_lengths"]), tuple(t["test_lengths"]), split,
                            bits=t["bits"], item_length=t["item_length"])  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", ["smoke", "quick", "paper"])
def test_test_sequences_are_strictly_longer_than_training_ones(name: str, scale: str) -> None:
    cfg = get_experiment(name).config(scale)
    assert cfg["task"]["test_lengths"][0] > cfg["task"]["train_lengths"][1]
    a = _task(cfg, "train").sample(np.random.default_rng(0), 64)
    b = _task(cfg, "test").sample(np.random.default_rng(0), 64)
    assert a.info["length"].max() < b.info["length"].min()
    assert a.lengths.max() < b.lengths.min()


def test_paper_configs_are_the_papers() -> None:
    copy = get_experiment("memory.ntm_copy").config("paper")
    recall = get_experiment("memory.ntm_recall").config("paper")
    assert copy["task"]["train_lengths"] == (1, 20) and copy["task"]["test_lengths"][1] == 120
    assert copy["task"]["bits"] == 8 and recall["task"]["train_lengths"] == (2, 6)
    assert (copy["net"]["memory_size"], copy["net"]["memory_width"]) == (128, 20)
    assert is_paper_setup(copy) and is_paper_setup(recall)
    assert not is_paper_setup(get_experiment("memory.ntm_copy").config("quick"))


def test_make_memory_task_and_build_net() -> None:
    with pytest.raises(RnnaiError, match="copy"):
        make_memory_task("sort", (1, 2), (3, 4), "train", bits=3, item_length=1)
    task = make_memory_task("recall", (2, 3), (4, 5), "train", bits=3, item_length=2)
    spec = NetSpec(controller=6, memory_size=8, memory_width=4, lstm_hidden=5, lstm_layers=2)
    x, _, _, _ = to_torch(task.sample(np.random.default_rng(0), 3))
    for m in MODELS:
        net = build_memory_net(m, task, spec, torch.Generator().manual_seed(1))
        again = build_memory_net(m, task, spec, torch.Generator().manual_seed(1))
        assert net(x).shape == (3, x.shape[1], 3)
        assert torch.equal(net.logits(x), again.logits(x))
    assert isinstance(build_memory_net("ntm", task, spec, torch.Generator()).core, NTM)
    with pytest.raises(RnnaiError, match="model must be"):
        build_memory_net("dnc", task, spec, torch.Generator())


def test_error_by_length_counts_wrong_bits_like_a_loop() -> None:
    rng = np.random.default_rng(2)
    out, y = rng.random((6, 5, 3)), (rng.random((6, 5, 3)) > 0.5).astype(float)
    mask, lengths = rng.random((6, 5)) > 0.3, np.array([1, 2, 1, 2, 3, 3])
    got = error_by_length(out, y, mask, lengths)
    for n in (1, 2, 3):
        counts = [
            sum(
                int((out[b, t, k] > 0.5) != (y[b, t, k] > 0.5))
                for t in range(5)
                for k in range(3)
                if mask[b, t]
            )
            for b in range(6)
            if lengths[b] == n
        ]
        assert got[n] == pytest.approx(np.mean(counts))
    assert bits_per_sequence(2 * math.log(2)) == pytest.approx(2.0)
    assert final_cost({"curve": [[32, math.log(2), 0.1, 0.2]]}) == pytest.approx(1.0)
    assert final_cost({"curve": []}) == math.inf


def test_measure_reports_only_the_split_lengths() -> None:
    cfg = get_experiment("memory.ntm_copy").config("smoke")
    task = _task(cfg, "test")
    net = build_memory_net("lstm", task, NetSpec(lstm_hidden=4, lstm_layers=1), torch.Generator())
    m = measure(net, task, 4, np.random.default_rng(0))
    lo, hi = cfg["task"]["test_lengths"]
    assert {int(k) for k in m["acc"]} == set(range(lo, hi + 1)) == {int(k) for k in m["bit_errors"]}
    assert 0 <= m["score"] <= 1 and m["mean_bit_errors"] >= 0


def _runs(n: int, ntm_err: float, lstm_err: float, fit: float) -> dict[str, list[dict[str, Any]]]:
    def one(err: float, i: int, cost: float) -> dict[str, Any]:
        return {"test": {"mean_bit_errors": err + 0.1 * i}, "train": {"score": fit},
                "curve": [[10, cost + 0.01 * i, 0.0, 0.0]]}  # fmt: skip

    return {"ntm": [one(ntm_err, i, ntm_err) for i in range(n)],
            "lstm": [one(lstm_err, i, lstm_err) for i in range(n)]}  # fmt: skip


def test_verdict_reaches_each_outcome() -> None:
    paper = get_experiment("memory.ntm_copy").config("paper")
    quick = get_experiment("memory.ntm_copy").config("quick")
    assert ntm_judgement(paper, _runs(10, 0.5, 9.0, 1.0)).verdict == "reproduced"
    assert ntm_judgement(quick, _runs(3, 0.5, 9.0, 1.0)).verdict == "partial"
    assert ntm_judgement(quick, _runs(3, 0.5, 9.0, 0.2)).verdict == "partial"
    assert ntm_judgement(quick, _runs(3, 9.0, 0.5, 0.2)).verdict == "not_reproduced"


@pytest.mark.parametrize("name", NAMES)
def test_smoke_run_through_the_cli(name: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["run", name, "--scale", "smoke", "--out", str(tmp_path),
                                    "--quiet"])  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / name / "result.json").read_text())
    assert data["judgement"]["verdict"] in ("reproduced", "partial", "not_reproduced")
    assert set(data["metrics"]["runs"]) == set(MODELS)
    assert len(list((tmp_path / name).glob("*.png"))) == 2
