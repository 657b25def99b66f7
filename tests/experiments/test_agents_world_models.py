"""agents.world_models_*: seeds, problems, budget stop, verdicts, smoke runs through the CLI."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.agents.world_models import MDNRNN, ConvVAE, MDNRNNConfig, VAEConfig, genome_seeds
from rnnai.cli import main
from rnnai.experiments.agents_world_models import (
    DodgeRealProblem,
    DreamProblem,
    _DodgeNets,
    carracing_verdict,
    collect_dodge,
    config_for,
    dream_verdict,
    paper_setup_carracing,
    real_budget_check,
    track_split,
)
from rnnai.runtime.errors import RnnaiError


def test_data_tracks_and_held_out_tracks_are_disjoint() -> None:
    train, test = track_split(500, 100)
    assert not set(train) & set(test)
    assert all(s % 2 == 0 for s in train) and all(s % 2 == 1 for s in test)
    # the CMA-ES training tracks (hashed per genome) are even too: never a held-out track
    genomes = np.random.default_rng(0).normal(size=(30, 99))
    hashed = {int(s) for g in genomes for s in genome_seeds(g, 16, "carracing")}
    assert not hashed & set(test)


def test_only_the_paper_config_is_the_paper_setup() -> None:
    assert paper_setup_carracing(config_for("carracing", "paper"))
    assert not paper_setup_carracing(config_for("carracing", "quick"))
    assert not paper_setup_carracing(config_for("carracing", "smoke"))
    paper = config_for("carracing", "paper")
    assert paper["cmaes"]["popsize"] == 64 and paper["cmaes"]["rollouts"] == 16
    assert paper["eval"]["tracks"] == 100
    with pytest.raises(RnnaiError, match="task"):
        config_for("doom", "quick")


def test_carracing_verdict_reaches_every_outcome() -> None:
    rng = np.random.default_rng(0)
    good = (906 + rng.normal(0, 21, 100)).tolist()
    worse = (632 + rng.normal(0, 50, 100)).tolist()
    assert carracing_verdict(good, worse, paper_setup=True, setup="s").verdict == "reproduced"
    assert carracing_verdict(good, worse, paper_setup=False, setup="s").verdict == "partial"
    low = (100 + rng.normal(0, 5, 10)).tolist()
    assert carracing_verdict(low, (50 + rng.normal(0, 5, 10)).tolist(), paper_setup=False,
                             setup="s").verdict == "partial"  # fmt: skip
    assert carracing_verdict(low, low, paper_setup=True, setup="s").verdict == "not_reproduced"


def test_dream_verdict_reaches_every_outcome() -> None:
    rng = np.random.default_rng(1)
    high, low = (80 + rng.normal(0, 5, 50)).tolist(), (30 + rng.normal(0, 5, 50)).tolist()
    j = dream_verdict(high, high, low)  # beats random, equal to real: partial (not VizDoom)
    assert j.verdict == "partial" and all(e.passed for e in j.evidence)
    assert dream_verdict(low, high, high).verdict == "not_reproduced"
    assert dream_verdict(high, (99 + rng.normal(0, 0.5, 50)).tolist(), low).verdict == "partial"


class _Searcher:
    def __init__(self, history: list[list[float]]) -> None:
        self.history, self.evaluations = history, 4 * len(history)
        self.best_genome = np.zeros(3)


def test_the_real_budget_stops_before_the_next_generation_would_pass_it() -> None:
    check = real_budget_check(budget=100, rollouts=2)
    assert check(0, _Searcher([[5.0, 5.0, 5.0, 5.0]])) is None  # 40 used, next ~40: 80 <= 100
    stop = check(0, _Searcher([[5.0] * 4, [5.0] * 4]))  # 80 used, next ~40: 120 > 100
    assert stop is not None and stop[0] == 8


def _nets() -> _DodgeNets:
    torch.manual_seed(0)
    cfg = config_for("dream", "smoke")
    vae = ConvVAE(VAEConfig(z_dim=8, channels=(4, 4, 8, 8), kl_floor=4.0))
    model = MDNRNN(MDNRNNConfig(z_dim=8, action_dim=1, hidden=8, predict_done=True))
    return _DodgeNets(vae.state_dict(), cfg["vae"], model.state_dict(), cfg["mdn"])


def test_dream_and_real_fitness_do_not_depend_on_the_batch_and_survive_pickling() -> None:
    nets = _nets()
    z0 = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    dream = DreamProblem(nets, z0, 1.15, rollouts=2, steps=15)
    real = DodgeRealProblem(nets, config_for("dream", "smoke")["dodge"], rollouts=2)
    genomes = np.random.default_rng(1).normal(size=(3, dream.dim))
    for prob in (dream, real):
        whole = prob.evaluate(genomes)
        parts = np.concatenate([prob.evaluate(genomes[i : i + 1]) for i in range(3)])
        assert np.array_equal(whole, parts)
        again = pickle.loads(pickle.dumps(prob))
        assert np.array_equal(again.evaluate(genomes), whole)


def test_random_dodge_episodes_record_frames_and_ends() -> None:
    data = collect_dodge(np.array([0, 2, 4]), config_for("dream", "smoke")["dodge"],
                         np.random.default_rng(0))  # fmt: skip
    eps = data.episodes()
    assert len(eps) == 3 and len(data.frames) == len(data.actions) == len(data.dones)
    for a, b in eps:
        assert data.dones[b - 1] and not data.dones[a : b - 1].any()
    assert set(np.unique(data.actions).tolist()) <= {-1.0, 0.0, 1.0}


def _smoke(name: str, out: Path, *extra: str) -> dict:
    result = CliRunner().invoke(
        main, ["run", name, "--scale", "smoke", "--out", str(out), "--quiet", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / name / "result.json").read_text())


def test_dream_smoke_run_writes_result_and_plots_and_resumes_to_the_same_numbers(
    tmp_path: Path,
) -> None:
    name = "agents.world_models_dream"
    first = _smoke(name, tmp_path)
    assert first["verdict"] in {"partial", "not_reproduced"}
    for plot in ("cmaes_curves.png", "real_vs_dream.png"):
        assert (tmp_path / name / plot).stat().st_size > 1000
    again = _smoke(name, tmp_path, "--resume")
    assert again["metrics"] == first["metrics"]


def test_carracing_smoke_run_through_the_cli(tmp_path: Path) -> None:
    pytest.importorskip("Box2D")
    name = "agents.world_models_carracing"
    data = _smoke(name, tmp_path)
    m = data["metrics"]
    assert m["c_params"] == (32 + 8) * 3 + 3 and m["c_params_z_only"] == 99
    assert len(m["scores_with_m"]) == len(m["scores_z_only"]) == 2
    assert data["verdict"] in {"partial", "not_reproduced"}  # smoke never reproduces
    assert (tmp_path / name / "real_vs_dream.png").stat().st_size > 1000


def test_a_run_killed_after_training_v_resumes_to_the_uninterrupted_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnai.experiments.agents_world_models as wm

    name = "agents.world_models_dream"
    whole = _smoke(name, tmp_path / "whole")

    def killed(*args: object, **kwargs: object) -> float:
        raise KeyboardInterrupt  # the process dies while M trains, after V's checkpoint

    with monkeypatch.context() as m:
        m.setattr(wm, "mdn_epoch", killed)
        CliRunner().invoke(main, ["run", name, "--scale", "smoke", "--out",
                                  str(tmp_path / "cut"), "--quiet"])  # fmt: skip
    assert not (tmp_path / "cut" / name / "result.json").exists()
    assert (tmp_path / "cut" / name / "checkpoint.safetensors").exists()  # V's epoch was saved
    resumed = _smoke(name, tmp_path / "cut", "--resume")
    assert resumed["metrics"] == whole["metrics"]
