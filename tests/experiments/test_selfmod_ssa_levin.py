"""selfmod.ssa_levin: the pure functions, held-out mazes disjoint from training, the verdict on
constructed numbers, resuming after a kill, and one smoke run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import rnnai.experiments.selfmod_ssa_levin as mod
from rnnai.cli import main
from rnnai.experiments import RunContext, get_experiment
from rnnai.runtime.errors import RnnaiError
from rnnai.selfmod.adaptive_levin import maze_hash


def test_goalsets_grow_by_one_harder_goal() -> None:
    e = mod.epoch_goals(n_goals=7, n_sets=4, epochs_per_set=10)
    assert len(e) == 40 and e[0] == [0, 1, 2, 3] and e[-1] == list(range(7))
    assert e[9] == e[0] and e[10] == [0, 1, 2, 3, 4]
    with pytest.raises(RnnaiError, match="n_sets"):
        mod.epoch_goals(n_goals=3, n_sets=4, epochs_per_set=1)


def test_speedup_is_the_geometric_mean_ratio() -> None:
    assert mod.speedup([100.0, 1e4], [10.0, 10.0]) == pytest.approx(10**2)
    assert mod.speedup([1.0], [10.0]) == pytest.approx(0.1)


def test_evaluation_mazes_never_equal_training_mazes() -> None:
    size, runs = 11, 6
    train = {maze_hash(mod.training_maze(0, r, size)) for r in range(runs)}
    assert len(train) == runs
    for r in range(runs):
        held = mod.evaluation_mazes(0, r, size, 3, train)
        hashes = [maze_hash(g) for g in held]
        assert len(set(hashes)) == 3 and not set(hashes) & train
    # a collision is skipped: exclude the first evaluation maze and the next one replaces it
    first = mod.evaluation_mazes(0, 0, size, 1, set())[0]
    again = mod.evaluation_mazes(0, 0, size, 2, {maze_hash(first)})
    assert maze_hash(first) not in {maze_hash(g) for g in again}


def test_every_verdict_is_reachable_and_reproduced_is_not() -> None:
    ls, als = [7.0, 8.0, 7.5, 8.2], [5.0, 6.0, 5.5, 6.1]
    good, bad = [4.0, 5.0, 4.6, 5.0], [6.0, 7.0, 6.5, 7.1]
    every = mod.levin_judgement(ls, als=als, ssa=good, als_high=als, ssa_high=good, setup="x")
    assert every.verdict == "partial" and all(e.passed for e in every.evidence)
    one = mod.levin_judgement(ls, als=als, ssa=bad, als_high=als, ssa_high=bad, setup="x")
    assert one.verdict == "partial" and [e.passed for e in one.evidence] == [True, False, False]
    hi = mod.levin_judgement(ls, als=als, ssa=bad, als_high=als, ssa_high=good, setup="x")
    assert [e.passed for e in hi.evidence] == [True, False, True]
    worse = [9.0, 9.5, 9.1, 9.9]
    none = mod.levin_judgement(ls, als=worse, ssa=[9.5, 9.9, 9.6, 10.0], als_high=als,
                               ssa_high=bad, setup="x")  # fmt: skip
    assert none.verdict == "not_reproduced"


def test_the_paper_scale_is_the_papers_task_sequence() -> None:
    cfg = get_experiment("selfmod.ssa_levin").config("paper")
    assert (cfg["size"], cfg["n_goals"], cfg["n_sets"], cfg["epochs_per_set"]) == (23, 7, 4, 10)


def _ctx(tmp_path: Path, resume: bool = False) -> RunContext:
    exp = get_experiment("selfmod.ssa_levin")
    cfg = {**exp.config("smoke"), "runs": 1}
    return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path, config=cfg,
                      resume=resume)  # fmt: skip


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = get_experiment("selfmod.ssa_levin")
    full = exp.run(_ctx(tmp_path / "a")).metrics
    calls = {"n": 0}
    real = mod.AdaptiveLevin.solve

    def dying(self: mod.AdaptiveLevin, task: object) -> object:
        calls["n"] += 1
        if calls["n"] == 12:  # inside the second learner's life, after some epochs
            raise KeyboardInterrupt
        return real(self, task)  # type: ignore[arg-type]

    monkeypatch.setattr(mod.AdaptiveLevin, "solve", dying)
    with pytest.raises(KeyboardInterrupt):
        exp.run(_ctx(tmp_path / "b"))
    monkeypatch.setattr(mod.AdaptiveLevin, "solve", real)
    assert exp.run(_ctx(tmp_path / "b", resume=True)).metrics == full


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "selfmod.ssa_levin", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "selfmod.ssa_levin"
    res = json.loads((out / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert len(m["total_search_steps"]["ls"]) == 2 and len(res["judgement"]["evidence"]) == 3
    assert set(m["total_search_steps"]) == set(mod.SYSTEMS)
    assert m["calls"] == [2 * 3 + 2 * 4] * 2
    assert all(len(ep) == 4 for ep in m["search_steps_per_epoch"]["als"])
    for plot in ("search_time.png", "total_search_time.png"):
        assert plot in res["plots"] and (out / plot).stat().st_size > 1000
