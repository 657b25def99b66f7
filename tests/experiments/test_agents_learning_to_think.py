"""agents.learning_to_think: disjoint starts, M's data, the verdict, resume and a CLI smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import RunContext, get_experiment
from rnnai.experiments.agents_learning_to_think import (
    SMOKE_TEST_CONFIG,
    random_action_episodes,
    run_trial,
    think_judgement,
    think_starts,
    train_world_model,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer

NAME = "agents.learning_to_think"


def test_training_model_and_evaluation_starts_never_overlap() -> None:
    for seed in (0, 7):
        rows = {s: {r.tobytes() for r in think_starts(seed=seed, n=300, stream=s)}
                for s in ("train", "eval", "model")}  # fmt: skip
        assert not rows["train"] & rows["eval"]
        assert not rows["model"] & rows["eval"]
        assert not rows["train"] & rows["model"]
    with pytest.raises(RnnaiError):
        think_starts(seed=0, n=1, stream="test")


def test_random_action_episodes_end_at_failure_and_count_steps() -> None:
    data = random_action_episodes(seed=0, n=5, cap=200)
    assert data["obs"].shape[2] == 2  # x and theta only: the non-Markov pole
    lengths = data["mask"].sum(1)
    for i in range(5):
        last = int(lengths[i]) - 1
        assert data["reward"][i, last] in (0.0, 1.0)
        assert np.all(data["reward"][i, :last] == 1.0)
    m, steps = train_world_model(SMOKE_TEST_CONFIG, seed=0)
    assert steps == int(random_action_episodes(seed=0, n=4, cap=20)["mask"].sum())
    assert m.n_obs == 2


def test_run_trial_is_deterministic_and_counts_models_data() -> None:
    a = run_trial(SMOKE_TEST_CONFIG, seed=3)
    assert a == run_trial(SMOKE_TEST_CONFIG, seed=3)
    assert a["with_model_steps"] >= a["model_steps"] > 0
    assert a["curve_with_model"][0][0] > a["model_steps"]


def _per(good: bool, n: int = 10) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    fast, slow = (1e4, 1e5) if good else (1e5, 1e4)
    return {
        "with_model_steps": (fast * (1 + 0.01 * rng.normal(size=n))).tolist(),
        "alone_steps": (slow * (1 + 0.01 * rng.normal(size=n))).tolist(),
        "held_out_with_model": (900 + rng.normal(size=n)).tolist(),
        "held_out_alone": (500 + rng.normal(size=n)).tolist(),
    }


def test_the_verdict_on_constructed_numbers_reaches_each_outcome() -> None:
    good = think_judgement(_per(True), setup="test")
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    mixed = think_judgement(_per(False), setup="test")
    assert [e.passed for e in mixed.evidence] == [False, True] and mixed.verdict == "partial"
    bad = _per(False)
    bad["held_out_with_model"] = bad["held_out_alone"]
    assert think_judgement(bad, setup="test").verdict == "not_reproduced"


def test_a_killed_run_resumes_with_the_same_result(tmp_path: Path) -> None:
    exp = get_experiment(NAME)
    cfg = exp.config("smoke")

    def ctx(out: Path, checkpointer: KillingCheckpointer | None = None) -> RunContext:
        out.mkdir(exist_ok=True)
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out, config=cfg,
                          checkpointer=checkpointer)  # type: ignore[arg-type]

    full = exp.run(ctx(tmp_path / "full")).metrics
    fingerprint = {"experiment": exp.name, "scale": "smoke", "seed": 0}
    killer = KillingCheckpointer(tmp_path / "killed" / "checkpoint.safetensors", fingerprint, 1)
    with pytest.raises(Killed):
        exp.run(ctx(tmp_path / "killed", killer))
    assert exp.run(ctx(tmp_path / "killed")).metrics == full


def test_smoke_run_through_the_cli(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["run", NAME, "--scale", "smoke", "--out", str(tmp_path),
                                  "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / NAME
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    assert len(res["metrics"]["with_model_steps"]) == 2
    assert (out / "search_curves.png").exists()
