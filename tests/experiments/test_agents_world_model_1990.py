"""agents.world_model_1990: data streams, the flip-flop latch, the baseline, the verdict, resume
and a smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import RunContext, get_experiment
from rnnai.experiments.agents_world_model_1990 import (
    SMOKE_TEST_CONFIG,
    _flipflop_sequences,
    evolve_without_model,
    flipflop_batch,
    flipflop_desired,
    pole_starts,
    run_pole_episodes,
    world_model_judgement,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.testing import Killed, KillingCheckpointer

NAME = "agents.world_model_1990"


def test_training_and_evaluation_starts_and_sequences_never_overlap() -> None:
    for seed in (0, 1):
        train = pole_starts(seed=seed, n=500, stream="train")
        held = pole_starts(seed=seed, n=200, stream="eval")
        assert not {r.tobytes() for r in train} & {r.tobytes() for r in held}
        np.testing.assert_array_equal(train, pole_starts(seed=seed, n=500, stream="train"))
        cfg = {**SMOKE_TEST_CONFIG, "ff_length": 30}
        tr = _flipflop_sequences(seed, 200, cfg, "train")
        ev = _flipflop_sequences(seed, 100, cfg, "eval")
        assert not {s.tobytes() for s in tr} & {s.tobytes() for s in ev}
    with pytest.raises(RnnaiError):
        pole_starts(seed=0, n=2, stream="test")


def test_flipflop_latch_on_a_hand_made_sequence() -> None:
    # X B X X A X B B A X
    kinds = [2, 1, 2, 2, 0, 2, 1, 1, 0, 2]
    events = np.eye(3)[kinds][None]
    assert flipflop_desired(events)[0].tolist() == [0, 1, 1, 1, 0, 0, 1, 1, 0, 0]
    ev, des = flipflop_batch(np.random.default_rng(0), n=50, length=40, p_event=0.2)
    assert np.all(ev.sum(-1) == 1) and des.shape == (50, 40)
    assert 0.1 < ev[..., 0].mean() < 0.3 and 0.1 < ev[..., 1].mean() < 0.3


def test_pole_episodes_record_until_failure() -> None:
    starts = pole_starts(seed=0, n=3, stream="train")
    ep = run_pole_episodes(lambda x: np.ones((x.shape[0], 1)), starts, 200)
    # pushing right all the time fails within the cap
    assert np.all(ep["steps"] < 200)
    lengths = ep["mask"].sum(1)
    np.testing.assert_array_equal(lengths, ep["steps"] + 1)  # the failing step is recorded
    assert ep["obs"].shape[1] == lengths.max()
    for i in range(3):
        assert ep["reward"][i, int(lengths[i]) - 1] == 0.0


def test_evolution_without_model_keeps_the_best_and_respects_the_budget() -> None:
    from rnnai.agents.world_model import RecurrentController

    c = RecurrentController(n_in=1, n_act=1, hidden=1, generator=torch.Generator().manual_seed(0))
    seen: list[float] = []

    def fitness(ctrl: RecurrentController, k: int) -> tuple[float, int]:
        v = -float((ctrl.e.detach() - 2.0).abs().sum())  # best at e = 2
        seen.append(v)
        return v, 10

    out = evolve_without_model(c, fitness, budget=500, sigma=0.3, lam=4,
                               rng=np.random.default_rng(0))  # fmt: skip
    assert 500 <= out["env_steps"] < 500 + 10 * 4
    assert out["best"] == max(seen) and out["evaluations"] == len(seen)
    assert abs(float(c.e) - 2.0) == pytest.approx(-out["best"])


def _per(good: bool, n: int = 10) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    hi, lo = (200.0, 50.0) if good else (50.0, 200.0)
    return {
        "pole_with_model": (hi + rng.normal(size=n)).tolist(),
        "pole_planning": (hi + rng.normal(size=n)).tolist(),
        "pole_without_model": (lo + rng.normal(size=n)).tolist(),
        "flipflop_with_model": (0.95 + 0.01 * rng.normal(size=n)).tolist(),
        "flipflop_without_model": (0.6 + 0.01 * rng.normal(size=n)).tolist(),
    }


def test_the_verdict_on_constructed_numbers_reaches_each_outcome() -> None:
    good = world_model_judgement(_per(True), setup="test")
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    assert any("not the paper's setup" in r for r in good.reasons)
    mixed = world_model_judgement(_per(False), setup="test")
    assert [e.passed for e in mixed.evidence] == [False, False, True]
    assert mixed.verdict == "partial"
    bad = _per(False)
    bad["flipflop_with_model"] = bad["flipflop_without_model"]
    assert world_model_judgement(bad, setup="test").verdict == "not_reproduced"


def test_a_killed_run_resumes_with_the_same_result(tmp_path: Path) -> None:
    exp = get_experiment(NAME)
    cfg = {**exp.config("smoke"), "seeds": 2}

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
    assert len(res["metrics"]["pole_with_model"]) == 2
    assert res["metrics"]["pole_env_steps"][0] > 0
    assert (out / "imagined_vs_real.png").exists() and (out / "with_vs_without_model.png").exists()
