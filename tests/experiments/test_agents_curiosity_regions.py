"""agents.curiosity_regions: pure functions, held-out data, the verdict on constructed numbers,
determinism, resume and a smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.agents import LEARNABLE, NOISE, CuriosityRegionsEnv
from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.agents_curiosity_regions import (
    AGENTS,
    SMOKE_TEST_CONFIG,
    curiosity_judgement,
    evaluation_set,
    run_agent,
    stream_seeds,
    visit_fractions,
)
from rnnai.runtime.errors import RnnaiError


def test_visit_fractions_per_bin() -> None:
    f = visit_fractions(np.array([0, 1, 1, 1, 2, 2]), n_bins=3)
    np.testing.assert_allclose(f, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(RnnaiError):
        visit_fractions(np.array([0, 1, 2]), n_bins=2)


def test_the_evaluation_pairs_are_never_trained_on() -> None:
    seeds = stream_seeds(0)
    assert len(set(seeds.values())) == 3
    env = CuriosityRegionsEnv(n_dims=4, max_steps=3000)
    env.reset(seed=seeds["env"])
    held = evaluation_set(env, 0, 200)
    seen = np.array([env.step(a % 2)[0] for a in range(3000)])  # learnable and noise visits
    train_rows = {r.tobytes() for r in seen[:, 3:7]}
    for region in (LEARNABLE, NOISE):
        assert not train_rows & {r.tobytes() for r in held[region][0]}


def test_run_agent_is_deterministic_by_seed_and_rejects_unknown_agents() -> None:
    a = run_agent("progress", SMOKE_TEST_CONFIG, seed=3)
    assert a == run_agent("progress", SMOKE_TEST_CONFIG, seed=3)
    assert a != run_agent("progress", SMOKE_TEST_CONFIG, seed=4)
    assert len(a["regions"]) == 40 and a["eval_steps"] == [20, 40]
    with pytest.raises(RnnaiError):
        run_agent("greedy", SMOKE_TEST_CONFIG, seed=0)


def _numbers(n: int, good: bool) -> tuple[dict[str, list[float]], ...]:
    rng = np.random.default_rng(0)

    def around(v: float) -> list[float]:
        return (v + 0.01 * rng.standard_normal(n)).tolist()

    noise = {"progress": around(0.1 if good else 0.9), "error": around(0.9),
             "random": around(0.33)}  # fmt: skip
    early = {"progress": around(0.7 if good else 0.2), "error": around(0.3),
             "random": around(0.33)}  # fmt: skip
    late = {"progress": around(0.4 if good else 0.2), "error": around(0.03),
            "random": around(0.33)}  # fmt: skip
    final = {"progress": around(0.0 if good else 0.5), "error": around(0.5),
             "random": around(0.0)}  # fmt: skip
    return noise, early, late, final


def test_the_verdict_on_constructed_numbers_reaches_each_outcome() -> None:
    good = curiosity_judgement(*_numbers(10, True), setup="test")
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    assert any("not the paper's setup" in r for r in good.reasons)
    bad = curiosity_judgement(*_numbers(10, False), setup="test")
    assert [e.passed for e in bad.evidence] == [False, True, False, False, False]
    assert bad.verdict == "partial"  # raw error still sticks to the noise
    noise, early, late, final = _numbers(10, False)
    noise["error"] = noise["random"] = noise["progress"]
    none = curiosity_judgement(noise, early, late, final, setup="test")
    assert none.verdict == "not_reproduced"


def test_a_killed_run_resumes_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("agents.curiosity_regions")

    def ctx(out: Path) -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out,
                          config=exp.config("smoke"))  # fmt: skip

    (tmp_path / "full").mkdir()
    (tmp_path / "killed").mkdir()
    full = exp.run(ctx(tmp_path / "full")).metrics

    class Killed(Exception):
        pass

    killed = ctx(tmp_path / "killed")
    save = killed.checkpointer.save

    def save_then_die(tensors, state) -> None:  # type: ignore[no-untyped-def]
        save(tensors, state)
        if len(state["runs"]) == 2:
            raise Killed

    killed.checkpointer.save = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        exp.run(killed)
    assert exp.run(ctx(tmp_path / "killed")).metrics == full


def test_smoke_run_through_the_cli(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "agents.curiosity_regions", "--scale", "smoke", "--out", str(tmp_path),
               "--quiet"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "agents.curiosity_regions"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert set(m["noise_fraction"]) == set(AGENTS) and len(m["noise_fraction"]["error"]) == 2
    assert len(m["visit_fractions_over_time"]["progress"]) == 4
    assert (out / "visit_fractions.png").exists() and (out / "model_error.png").exists()
