"""agents.curiosity_maze: coverage, determinism, the verdict on constructed numbers, resume and a
smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.agents_curiosity_maze import (
    AGENTS,
    SMOKE_TEST_CONFIG,
    coverage_curve,
    maze_judgement,
    run_agent,
    stream_seeds,
)
from rnnai.runtime.errors import RnnaiError


def test_coverage_curve_matches_counting_by_hand() -> None:
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 30, size=61)
    got = coverage_curve(cells, record_every=6)
    want = [len(set(cells[: k + 1].tolist())) for k in range(6, 61, 6)]
    assert got.tolist() == want
    with pytest.raises(RnnaiError):
        coverage_curve(np.arange(6), record_every=2)  # 5 steps


def test_run_agent_is_deterministic_by_seed_and_rejects_unknown_agents() -> None:
    seeds = stream_seeds(0)
    assert seeds["env"] != seeds["choice"]
    a = run_agent("progress", SMOKE_TEST_CONFIG, seed=3)
    assert a == run_agent("progress", SMOKE_TEST_CONFIG, seed=3)
    assert a != run_agent("progress", SMOKE_TEST_CONFIG, seed=4)
    assert len(a["coverage"]) == 4 and sum(map(sum, a["visits"])) == 40
    assert a["coverage"] == sorted(a["coverage"]) and 2 <= a["coverage"][-1] <= 41
    assert run_agent("random", SMOKE_TEST_CONFIG, seed=3)["reward"] == 0.0
    with pytest.raises(RnnaiError):
        run_agent("greedy", SMOKE_TEST_CONFIG, seed=0)


def test_raw_error_agent_is_rewarded_on_the_tv_and_the_progress_agent_is_not() -> None:
    cfg = {**SMOKE_TEST_CONFIG, "steps": 1500, "record_every": 500}
    err = [run_agent("error", cfg, seed=s) for s in range(3)]
    prog = [run_agent("progress", cfg, seed=s) for s in range(3)]
    assert np.mean([r["tv_fraction"] for r in err]) > np.mean([r["tv_fraction"] for r in prog])


def _numbers(n: int, good: bool) -> tuple[dict[str, list[float]], ...]:
    rng = np.random.default_rng(0)

    def around(v: float) -> list[float]:
        return (v + 0.01 * rng.standard_normal(n)).tolist()

    tv = {"progress": around(0.03 if good else 0.8), "error": around(0.8),
          "random": around(0.03)}  # fmt: skip
    final = {"progress": around(200 if good else 80), "error": around(80),
             "random": around(190)}  # fmt: skip
    mean = {"progress": around(160 if good else 60), "error": around(60),
            "random": around(150)}  # fmt: skip
    return tv, final, mean


def test_the_verdict_on_constructed_numbers_reaches_each_outcome() -> None:
    good = maze_judgement(*_numbers(10, True), setup="test")
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    assert any("not the paper's setup" in r for r in good.reasons)
    bad = maze_judgement(*_numbers(10, False), setup="test")
    assert [e.passed for e in bad.evidence] == [True, False, False, False]
    assert bad.verdict == "partial"  # raw error still sticks to the TV
    tv, final, mean = _numbers(10, False)
    tv["error"] = tv["random"] = tv["progress"]
    assert maze_judgement(tv, final, mean, setup="test").verdict == "not_reproduced"


def test_a_killed_run_resumes_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("agents.curiosity_maze")

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
        main, ["run", "agents.curiosity_maze", "--scale", "smoke", "--out", str(tmp_path),
               "--quiet"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "agents.curiosity_maze"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert set(m["tv_fraction"]) == set(AGENTS) and len(m["tv_fraction"]["error"]) == 2
    assert len(m["coverage_over_time"]["progress"]) == 6 and m["free_cells"] == 200
    assert (out / "coverage.png").exists() and (out / "visit_maps.png").exists()
