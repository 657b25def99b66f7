"""rl.tmaze: smoke run through the CLI, exact resume after a kill, the verdict rule, the configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.base import RunContext
from rnnai.experiments.rl_tmaze import RunResult, judgement, longest_solved
from rnnai.runtime.checkpoint import Checkpointer
from rnnai.runtime.testing import Killed, KillingCheckpointer


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "rl.tmaze", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "rl.tmaze" / "result.json").read_text())
    assert res["paper"]["value"] == 70
    m = res["metrics"]
    assert res["headline"]["value"] == m["lstm"]["longest_solved"]
    # N = 3 is far short of 70, and one run each shows no difference from the baseline
    assert res["verdict"] == "not_reproduced"
    assert [e["test"].split(" ")[0] for e in res["judgement"]["evidence"]] == ["success", "95%"]
    assert m["memoryless"]["longest_solved"] == 0  # a reactive agent cannot read the sign
    assert "learning_curves.png" in res["plots"] and "behaviour.png" in res["plots"]
    for plot in res["plots"]:
        assert (tmp_path / "rl.tmaze" / plot).stat().st_size > 1000


def _config() -> dict:
    cfg = get_experiment("rl.tmaze").config("smoke")
    cfg["advantage"]["episodes_per_update"] = 4
    return cfg | {"lengths": [2, 3], "seeds": 1, "steps_per_cell": 100, "eval_every": 2}


def _ctx(run_dir: Path, checkpointer: Checkpointer | None = None) -> RunContext:
    return RunContext(
        name="rl.tmaze", scale="smoke", seed=5, out_dir=run_dir, config=_config(),
        checkpointer=checkpointer,
    )  # fmt: skip


def _final(ctx: RunContext) -> tuple[dict, list]:
    outcome = get_experiment("rl.tmaze").run(ctx)
    _, state = ctx.checkpointer.load()
    return outcome.metrics, state["results"]


FP = {"experiment": "rl.tmaze", "scale": "smoke", "seed": 5}


@pytest.mark.parametrize("when", [0.3, 0.8])
def test_killed_run_resumes_to_identical_results(tmp_path: Path, when: float) -> None:
    counter = KillingCheckpointer(tmp_path / "ref" / "checkpoint.safetensors", FP)
    reference = _final(_ctx(tmp_path / "ref", counter))
    assert any(r["curve"] for r in reference[1])  # evaluations (and their saves) happened
    assert counter.saves > 5  # mid-run saves as well as the end-of-run ones
    run_dir = tmp_path / "run"
    kill_after = max(1, int(when * counter.saves))
    killer = KillingCheckpointer(run_dir / "checkpoint.safetensors", FP, kill_after)
    with pytest.raises(Killed):
        get_experiment("rl.tmaze").run(_ctx(run_dir, killer))
    assert _final(_ctx(run_dir)) == reference


def _r(learner: str, n: int, solved: bool, skipped: bool = False, seed: int = 0) -> RunResult:
    return RunResult(
        learner=learner, length=n, seed=seed, solved=solved, steps=10, episodes=1, skipped=skipped
    )


def test_longest_solved_needs_half_of_the_runs() -> None:
    runs = [_r("lstm", 5, True), _r("lstm", 5, False), _r("lstm", 10, False), _r("lstm", 10, False)]
    runs += [_r("memoryless", 5, False)]
    assert longest_solved(runs, "lstm") == 5
    assert longest_solved(runs, "memoryless") == 0


def _sweep(lstm: dict[int, int], memoryless: dict[int, int], seeds: int = 10) -> list[RunResult]:
    """Runs at each N: the first ``lstm[N]`` / ``memoryless[N]`` seeds solved."""
    return [
        _r(name, n, seed < solved[n], seed=seed)
        for name, solved in (("lstm", lstm), ("memoryless", memoryless))
        for n in solved
        for seed in range(seeds)
    ]


def test_judgement_tests_the_longest_corridor_and_the_baseline() -> None:
    j = judgement(_sweep({5: 10, 70: 6}, {5: 0, 70: 0}), seeds=10)
    assert [e.passed for e in j.evidence] == [True, True] and j.evidence[0].n == 10
    assert j.verdict == "partial" and "not the paper's setup" in j.reasons[0]  # Adam, Boltzmann
    j = judgement(_sweep({5: 10, 70: 4}, {5: 0, 70: 0}), seeds=10)
    assert [e.passed for e in j.evidence] == [False, True]  # 4 of 10 at N = 70: not solved
    j = judgement(_sweep({5: 10, 70: 6}, {5: 10, 70: 6}), seeds=10)
    assert [e.passed for e in j.evidence] == [True, False]  # no better than the baseline
    assert judgement(_sweep({5: 1}, {5: 1}, seeds=2), seeds=2).verdict == "not_reproduced"


def test_paper_scale_sweeps_bakkers_lengths_with_his_constants() -> None:
    cfg = get_experiment("rl.tmaze").config("paper")
    assert cfg["lengths"][0] == 5 and cfg["lengths"][-1] == 70 and cfg["seeds"] == 10
    adv = cfg["advantage"]
    assert (adv["gamma"], adv["lam"], adv["kappa"]) == (0.98, 0.8, 0.1)
    assert cfg["nets"]["lstm"]["cells"] == 3 and cfg["nets"]["memoryless"]["cells"] == 0
