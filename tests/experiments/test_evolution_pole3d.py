"""evolution.pole_3d: smoke run through the CLI, exact resume after a kill, the verdict rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.base import RunContext
from rnnai.experiments.evolution_pole3d import Pole3DExperiment, pole3d_verdict
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.testing import Killed, KillingCheckpointer

CFG = {
    "tasks": ["single"],
    "controllers": ["fastweight", "linear"],
    "runs": 2,
    "success_steps": 150,
    "max_evaluations": 40,
    "searcher": {"name": "cmaes", "settings": {"sigma0": 0.5}},
}
FP = {"experiment": "evolution.pole3d_test", "scale": "smoke", "seed": 3}


def _ctx(folder: Path, checkpointer: Checkpointer | None = None) -> RunContext:
    folder.mkdir(parents=True, exist_ok=True)
    return RunContext(
        name="evolution.pole3d_test",
        scale="smoke",
        seed=3,
        out_dir=folder,
        config=CFG,
        checkpointer=checkpointer,
    )


@pytest.mark.parametrize("kill_after", [1, 4, 7])
def test_killed_run_resumes_to_identical_results(tmp_path: Path, kill_after: int) -> None:
    exp = Pole3DExperiment()
    reference = exp._run_all(_ctx(tmp_path / "ref"))
    assert len(reference) == 4
    run_dir = tmp_path / "run"
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", FP, kill_after)
    with pytest.raises(Killed):
        exp._run_all(_ctx(run_dir, killer))
    assert exp._run_all(_ctx(run_dir)) == reference


def test_verdict_rule() -> None:
    def s(solved: int, runs: int = 10) -> dict:
        return {"solved": solved, "runs": runs}

    both = {"single/fastweight": s(10), "double/fastweight": s(10), "double/linear": s(0)}
    assert pole3d_verdict(both, 100_000).verdict == "reproduced"
    assert pole3d_verdict(both, 10_000).verdict == "partial"  # shorter success test
    two = {"single/fastweight": s(2, 2), "double/fastweight": s(2, 2)}
    few = pole3d_verdict(two, 100_000)
    assert few.verdict == "partial" and few.trials == 2 and few.required == 10
    assert pole3d_verdict({"single/fastweight": s(10)}, 100_000).verdict == "partial"  # 1 task
    some = {"single/fastweight": s(10), "double/fastweight": s(9)}
    assert pole3d_verdict(some, 100_000).verdict == "partial"
    none = {"single/fastweight": s(0), "double/fastweight": s(3), "single/linear": s(10)}
    assert pole3d_verdict(none, 100_000).verdict == "not_reproduced"


def test_paper_scale_asks_for_the_100000_step_test_on_both_tasks() -> None:
    cfg = get_experiment("evolution.pole_3d").config("paper")
    assert cfg["success_steps"] == 100_000
    assert cfg["tasks"] == ["single", "double"]


def test_smoke_run_through_the_cli_writes_a_consistent_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["run", "evolution.pole_3d", "--scale", "smoke", "--out", str(out), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    result = json.loads((out / "evolution.pole_3d" / "result.json").read_text())
    summary = result["metrics"]["summary"]
    assert set(summary) == {"single/fastweight", "single/linear"}
    solved = summary["single/fastweight"]["solved"]
    assert result["headline"]["value"] == solved
    assert result["verdict"] == pole3d_verdict(summary, 200).verdict != "reproduced"
    for plot in result["plots"]:
        assert (out / "evolution.pole_3d" / plot).stat().st_size > 1000
