"""memory.stack_languages: tasks and nets, the loss, train/test length disjointness, the verdict,
determinism and one smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.memory_stack_languages import (
    MODEL_NAMES,
    TASK_NAMES,
    LengthNet,
    LogitBatches,
    build_net,
    is_paper_setup,
    length_report,
    logit_loss,
    make_task,
    run_label,
    score,
    stack_judgement,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.train import TaskCriterion, TrainConfig, run_trials
from rnnai.train.sequence import to_torch

NAME = "memory.stack_languages"


def _cfg(scale: str) -> dict[str, Any]:
    return get_experiment(NAME).config(scale)


@pytest.mark.parametrize("scale", ["smoke", "quick", "paper"])
def test_test_strings_are_strictly_longer_than_every_training_string(scale: str) -> None:
    for t in _cfg(scale)["tasks"]:
        assert t["test_lengths"][0] > t["train_lengths"][1]
        train = make_task(t["task"], t["train_lengths"], t["test_lengths"], "train")
        test = make_task(t["task"], t["train_lengths"], t["test_lengths"], "test")
        a = train.sample(np.random.default_rng(0), 64)
        b = test.sample(np.random.default_rng(0), 64)
        assert a.info["length"].max() < b.info["length"].min()
        assert a.lengths.max() < b.lengths.min()  # also in time steps, not just in n


def test_make_task_refuses_unknown_tasks_and_overlapping_ranges() -> None:
    with pytest.raises(RnnaiError, match="task must be"):
        make_task("palindrome", (1, 4), (5, 8), "train")
    with pytest.raises(RnnaiError, match="strictly above"):
        make_task("reversal", (1, 8), (8, 12), "test")
    assert {make_task(t, (2, 4), (6, 8), "train").output_activation for t in TASK_NAMES} == {
        "sigmoid", "softmax"}  # fmt: skip


def test_logit_loss_equals_a_direct_transcription() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (3, 4, 2), generator=g).double()
    mask = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]], dtype=torch.bool)
    p = 1 / (1 + torch.exp(-z))
    want = 0.0
    for b in range(3):
        for t in range(4):
            if mask[b, t]:
                want += float(
                    -(y[b, t] * torch.log(p[b, t]) + (1 - y[b, t]) * torch.log(1 - p[b, t])).sum()
                )
    assert float(logit_loss(z, y, mask, "sigmoid")) == pytest.approx(want / 3, rel=1e-10)
    onehot = torch.nn.functional.one_hot(torch.tensor([[0, 1, 1, 0]] * 3), 2).double()
    ce = 0.0
    for b in range(3):
        for t in range(4):
            if mask[b, t]:
                k = int(onehot[b, t].argmax())
                ce += float(-(z[b, t, k] - torch.logsumexp(z[b, t], 0)))
    assert float(logit_loss(z, onehot, mask, "softmax")) == pytest.approx(ce / 3, rel=1e-10)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_nets_have_the_task_shapes_and_the_same_generator_gives_the_same_net(model: str) -> None:
    task = make_task("anbn", (1, 3), (4, 6), "train")
    nets = [build_net(model, task, hidden=6, generator=torch.Generator().manual_seed(3),
                      stack_size=12) for _ in range(2)]  # fmt: skip
    x, _, _, _ = to_torch(task.sample(np.random.default_rng(0), 5))
    out = nets[0](x)
    assert out.shape == (5, x.shape[1], 1) and bool(((out > 0) & (out < 1)).all())
    assert torch.equal(nets[0].logits(x), nets[1].logits(x))
    assert torch.allclose(out, torch.sigmoid(nets[0].logits(x)))
    other = build_net(model, task, hidden=6, generator=torch.Generator().manual_seed(4),
                      stack_size=12)  # fmt: skip
    assert not torch.equal(other.logits(x), nets[0].logits(x))


def test_softmax_tasks_return_logits_and_bad_arguments_raise() -> None:
    task = make_task("reversal", (1, 3), (4, 6), "train")
    net = build_net("lstm", task, hidden=4, generator=torch.Generator().manual_seed(0))
    x = torch.randn(2, 5, task.input_size)
    assert torch.equal(net(x), net.logits(x))
    with pytest.raises(RnnaiError, match="model must be"):
        build_net("tape_rnn", task, hidden=4, generator=torch.Generator())
    with pytest.raises(RnnaiError, match="activation"):
        LengthNet(net.core, "tanh")


def test_length_report_sweeps_only_the_split_range_and_scores_a_perfect_net() -> None:
    task = make_task("dyck2", (2, 6), (8, 12), "test")

    class Oracle(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.y: torch.Tensor | None = None

        def forward(self, x: torch.Tensor, lengths: Any = None) -> torch.Tensor:
            assert self.y is not None
            return self.y

    # the oracle answers with the targets of the very batch length_report draws
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    oracle = Oracle()
    oracle.y = torch.from_numpy(task.sample(rng_a, 8 * 3 * 2).y)
    rep = length_report(oracle, task, 8, rng_b)
    assert sorted(rep) == [8, 10, 12] and set(rep.values()) == {1.0}
    assert score(list(rep.values())) == 1.0


def test_logit_batches_train_through_run_trials_reproducibly() -> None:
    task = make_task("anbn", (1, 3), (4, 6), "train")
    cfg = TrainConfig(optimizer="adam", lr=1e-2, batch=4, max_sequences=16, eval_every=8,
                      eval_size=8, max_wrong=-1, grad_clip=1.0)  # fmt: skip

    def once() -> list[list[float]]:
        run = run_trials(
            make_net=lambda g: build_net("stack_rnn", task, hidden=4, generator=g, stack_size=8),
            data=LogitBatches(task, 4), evaluation=TaskCriterion(task=task, eval_size=8),
            config=cfg, trials=1, seeds=7,
        )  # fmt: skip
        return run.results[0].curve

    first = once()
    assert first == once() and len(first) == 2 and first[0][1] > 0


def _runs(cfg: dict[str, Any], good: float, bad: float, fit: float) -> dict[str, Any]:
    runs = {}
    for t in cfg["tasks"]:
        for m in cfg["models"]:
            base = bad if m == "lstm" else good
            runs[run_label(t["task"], m)] = [
                {"test_score": base + 0.01 * i, "train_score": fit} for i in range(cfg["seeds"])
            ]
    return runs


def test_verdict_reaches_each_outcome() -> None:
    paper, quick = _cfg("paper"), _cfg("quick")
    assert is_paper_setup(paper) and not is_paper_setup(quick)
    assert stack_judgement(paper, _runs(paper, 0.95, 0.55, 1.0)).verdict == "reproduced"
    assert stack_judgement(quick, _runs(quick, 0.95, 0.55, 1.0)).verdict == "partial"
    assert stack_judgement(quick, _runs(quick, 0.95, 0.55, 0.5)).verdict == "partial"
    assert stack_judgement(quick, _runs(quick, 0.55, 0.95, 0.5)).verdict == "not_reproduced"
    few = {**paper, "seeds": 3}
    assert stack_judgement(few, _runs(few, 0.95, 0.55, 1.0)).verdict == "partial"


def test_smoke_run_through_the_cli_is_valid_and_deterministic(tmp_path: Path) -> None:
    results = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        res = CliRunner().invoke(main, ["run", NAME, "--scale", "smoke", "--out", str(out),
                                        "--quiet"])  # fmt: skip
        assert res.exit_code == 0, res.output
        data = json.loads((out / NAME / "result.json").read_text())
        assert data["judgement"]["verdict"] in ("reproduced", "partial", "not_reproduced")
        assert (out / NAME / "stack_languages_accuracy_per_length.png").exists()
        results.append(data["metrics"])
    assert results[0] == results[1]
