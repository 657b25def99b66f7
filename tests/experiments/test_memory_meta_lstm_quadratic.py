"""memory.meta_lstm_quadratic: baselines, disjoint functions, examples needed, verdict, smoke."""

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
from rnnai.experiments.memory_meta_lstm_quadratic import (
    LEARNED,
    coefficient_hashes,
    error_curves,
    examples_needed,
    function_streams,
    is_paper_setup,
    least_squares_predictions,
    meta_judgement,
    normalized,
    running_mean_predictions,
)
from rnnai.nn.meta_lstm import MetaLSTM, QuadraticFamily, quadratic_episodes

NAME = "memory.meta_lstm_quadratic"


def _episodes(gen: torch.Generator, n: int = 16, length: int = 12, dtype=torch.float32):
    return quadratic_episodes(
        QuadraticFamily(), num_functions=n, length=length, generator=gen, dtype=dtype
    )


def test_meta_training_and_test_functions_are_disjoint_streams() -> None:
    train, test = function_streams(7)
    seen: set[str] = set()
    for _ in range(50):
        seen |= coefficient_hashes(_episodes(train, n=64)[2])
    assert len(seen) == 50 * 64  # no function repeats within the training stream either
    test_coef = _episodes(test, n=512)[2]
    assert not seen & coefficient_hashes(test_coef)
    again, _ = function_streams(7)
    assert torch.equal(_episodes(again, n=64)[2], _episodes(function_streams(7)[0], n=64)[2])


def test_coefficient_hashes_see_equal_rows_as_equal() -> None:
    c = torch.tensor([[0.5, 0.1, 0, 0, 0, 1], [0.5, 0.1, 0, 0, 0, 1], [0.2, 0, 0, 0, 0, 0]])
    assert len(coefficient_hashes(c)) == 2


def test_least_squares_is_exact_from_six_examples_and_min_norm_before() -> None:
    x, y, _ = _episodes(torch.Generator().manual_seed(1), n=8, length=10, dtype=torch.float64)
    pred = least_squares_predictions(x, y)
    assert pred[:, 0].abs().max() == 0
    torch.testing.assert_close(pred[:, 6:], y[:, 6:], rtol=0, atol=1e-10)
    # t = 1: the minimum-norm fit of phi_0 w = y_0 is w = phi_0 y_0 / |phi_0|^2
    from rnnai.nn.meta_lstm import quadratic_features

    phi = quadratic_features(x)
    w = phi[:, 0] * (y[:, 0] / phi[:, 0].square().sum(-1, keepdim=True))
    torch.testing.assert_close(pred[:, 1, 0], (phi[:, 1] * w).sum(-1), rtol=0, atol=1e-10)


def test_running_mean_predicts_the_mean_of_the_targets_seen() -> None:
    y = torch.randn(3, 7, 1, dtype=torch.float64)
    p = running_mean_predictions(y)
    for t in range(1, 7):
        torch.testing.assert_close(p[:, t], y[:, :t].mean(1), rtol=0, atol=1e-12)


def test_examples_needed_is_where_the_curve_stays_below() -> None:
    assert examples_needed([0.01, 0.02]) == 0
    assert examples_needed([1.0, 0.01, 0.2, 0.04, 0.01]) == 3
    assert examples_needed([1.0, 0.01, 0.2]) is None
    assert np.allclose(normalized([2.0, 1.0], 4.0), [0.5, 0.25])


def test_error_curves_of_the_learners() -> None:
    torch.manual_seed(0)
    net, untrained = MetaLSTM(2, 1, hidden_size=4), MetaLSTM(2, 1, hidden_size=4)
    x, y, _ = _episodes(torch.Generator().manual_seed(2), n=5, length=9)
    errs = error_curves(net, untrained, x, y)
    assert set(errs) == {"meta_lstm", "untrained_lstm", "least_squares", "running_mean"}
    assert all(e.shape == (5, 9) for e in errs.values())
    assert float(errs["least_squares"][:, 6:].max()) < 1e-8
    torch.testing.assert_close(errs["running_mean"][:, 0], y[:, 0, 0].square())


def _results(cfg: dict[str, Any], meta_curve: list[float], meta_late: float) -> dict:
    L, n_fun = cfg["length"], 40
    rng = np.random.default_rng(0)
    out = {}
    for i in range(cfg["seeds"]):
        out[str(i)] = {
            "curves": {"meta_lstm": meta_curve, "untrained_lstm": [1.0] * L,
                       "least_squares": [0.0] * L, "running_mean": [0.9] * L},
            "late_per_function": {
                "meta_lstm": list(meta_late + 0.01 * rng.random(n_fun)),
                "untrained_lstm": list(1.0 + 0.01 * rng.random(n_fun)),
                "least_squares": [0.0] * n_fun,
                "running_mean": list(0.9 + 0.01 * rng.random(n_fun)),
            },
        }  # fmt: skip
    return out


def test_verdict_each_outcome_is_reachable() -> None:
    exp = get_experiment(NAME)
    paper, quick = exp.config("paper"), exp.config("quick")
    assert is_paper_setup(paper) and not is_paper_setup(quick)
    L = paper["length"]
    fast = [1.0] * 20 + [LEARNED / 2] * (L - 20)
    j = meta_judgement(paper, _results(paper, fast, 0.02))
    assert j.verdict == "reproduced", j.reasons
    slow = [1.0] * (L - 2) + [LEARNED / 2] * 2  # learned, but only after 38 examples
    j = meta_judgement(paper, _results(paper, slow, 0.3))
    assert j.verdict == "partial" and [e.passed for e in j.evidence] == [False, True, True]
    never = [1.0] * L
    j = meta_judgement(paper, _results(paper, never, 1.2))
    assert j.verdict == "not_reproduced"
    j = meta_judgement(quick, _results(quick, fast, 0.02))
    assert j.verdict == "partial" and all(e.passed for e in j.evidence)


def test_paper_scale_is_longer_and_has_ten_seeds() -> None:
    cfg = get_experiment(NAME).config("paper")
    assert cfg["seeds"] >= 10 and cfg["steps"] >= 30_000 and cfg["length"] > 30


@pytest.mark.parametrize("scale", ["smoke"])
def test_smoke_run_through_the_cli(tmp_path: Path, scale: str) -> None:
    r = CliRunner().invoke(main, ["run", NAME, "--scale", scale, "--out", str(tmp_path), "--quiet"])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / NAME / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["train_test_overlap"] == [0] and m["train_functions"][0] == 40 * 32
    assert len(m["mean_curves"]["meta_lstm"]) == 40
    for plot in ("error_curves.png", "meta_training.png"):
        assert plot in res["plots"] and (tmp_path / NAME / plot).stat().st_size > 1000


def test_a_killed_meta_training_resumes_to_the_same_net(tmp_path: Path) -> None:
    from rnnai.experiments.memory_meta_lstm_quadratic import meta_train
    from rnnai.runtime.checkpoint import Checkpointer
    from rnnai.runtime.testing import Killed, KillingCheckpointer
    from rnnai.train.hooks import SilentHooks

    cfg = {**get_experiment(NAME).config("smoke"), "steps": 30, "checkpoint_every": 10}
    net, _, hashes, losses = meta_train(cfg, 0, 0, SilentHooks())
    killing = KillingCheckpointer(tmp_path / "c.safetensors", {"t": 1}, kill_after=2)
    again = Checkpointer(tmp_path / "c.safetensors", {"t": 1})  # the restarted process's
    with pytest.raises(Killed):
        meta_train(cfg, 0, 0, SilentHooks(killing))
    net2, _, hashes2, losses2 = meta_train(cfg, 0, 0, SilentHooks(again))
    assert hashes2 == hashes and losses2 == pytest.approx(losses, abs=1e-6)
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
