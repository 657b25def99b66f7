"""Tests of the selfmod.powerplay_* experiments: pure functions, verdict outcomes, smoke runs,
per-seed images and resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.selfmod_powerplay import (
    build_domain,
    halves_gap,
    powerplay_judgement,
    prefix_costs,
    records_exact,
    retention_check,
)
from rnnai.runtime.errors import RnnaiError
from rnnai.runtime.seeding import derive_seed
from rnnai.selfmod.powerplay import PowerPlay, PowerPlayConfig

NAMES = ["selfmod.powerplay_patterns", "selfmod.powerplay_fovea"]


def test_halves_gap_compares_the_later_with_the_earlier_half() -> None:
    assert halves_gap([1.0, 2.0, 3.0, 4.0]) == pytest.approx(2.0)
    assert halves_gap([1.0, 100.0, 3.0]) == pytest.approx(2.0)  # the middle one is left out
    assert halves_gap([5.0, 1.0]) == pytest.approx(-4.0)
    with pytest.raises(RnnaiError, match="at least 2"):
        halves_gap([1.0])


def test_the_retention_check_needs_every_task_of_every_run() -> None:
    assert retention_check([[True, True], [True]]).n == 3
    assert not retention_check([[True, False], [True]]).passed
    assert not retention_check([]).passed


def test_every_verdict_is_reachable_and_reproduced_is_not() -> None:
    ok = [[True, True]] * 4
    late, early = [5.0, 6.0, 5.5, 7.0], [2.0, 3.0, 2.5, 3.0]
    with_, without = [1.0, 1.5, 1.0, 2.0], [4.0, 4.0, 4.0, 4.0]
    cheap, dear = [10.0, 11.0, 10.5, 12.0], [12.0, 13.5, 12.0, 14.0]
    good = powerplay_judgement(ok, late, early, with_, without, cost_with=cheap,
                               cost_without=dear, setup="s")  # fmt: skip
    assert good.verdict == "partial" and all(e.passed for e in good.evidence)
    assert len(good.evidence) == 4
    mixed = powerplay_judgement(ok, early, late, with_, without, cost_with=dear,
                                cost_without=cheap, setup="s")  # fmt: skip
    assert mixed.verdict == "partial"
    assert [e.passed for e in mixed.evidence] == [True, False, True, False]
    bad = powerplay_judgement([[False]] * 4, early, late, without, with_, cost_with=dear,
                              cost_without=cheap, setup="s")  # fmt: skip
    assert bad.verdict == "not_reproduced"


def test_prefix_costs_sum_the_shorter_runs_length() -> None:
    assert prefix_costs([4, 4, 100], [8, 8]) == (3.0, 4.0)
    assert prefix_costs([1], [0, 5]) == (0.0, 0.0)
    with pytest.raises(RnnaiError, match="a task each"):
        prefix_costs([], [3])


def test_build_domain_rejects_an_unknown_domain() -> None:
    with pytest.raises(RnnaiError, match="domain must be"):
        build_domain({"domain": "maze"}, np.random.default_rng(0))


def test_each_seed_gets_its_own_image_from_its_own_stream() -> None:
    cfg = get_experiment("selfmod.powerplay_fovea").config("quick")
    a, _ = build_domain(cfg, np.random.default_rng(1))
    b, _ = build_domain(cfg, np.random.default_rng(2))
    assert a.image.shape == tuple(cfg["image"]) and not np.array_equal(a.image, b.image)


def test_records_exact_notices_a_tampered_record() -> None:
    cfg = get_experiment("selfmod.powerplay_patterns").config("smoke")
    dom, net = build_domain(cfg, np.random.default_rng(0))
    pp = PowerPlay(dom, net, PowerPlayConfig(), seed=3)
    for _ in range(3):
        pp.step()
    assert records_exact(pp)
    pp.used[0] = ~pp.used[0]
    assert not records_exact(pp)


@pytest.mark.parametrize("name", NAMES)
def test_the_scales_grow(name: str) -> None:
    exp = get_experiment(name)
    smoke, quick, paper = (exp.config(s) for s in ("smoke", "quick", "paper"))
    for key in ("seeds", "max_tasks", "max_candidates", "hidden"):
        assert smoke[key] < quick[key] <= paper[key]
    assert paper["max_tasks"] > quick["max_tasks"]


@pytest.mark.parametrize("name", NAMES)
def test_smoke_run_writes_a_consistent_result(name: str, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["run", name, "--scale", "smoke", "--out", str(tmp_path),
                                  "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / name / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["all_tasks_still_solved"] and m["records_exact"]
    runs = m["runs"]
    assert len(runs) == 2
    assert m["retested_without_tracking"] == sum(n * (n - 1) // 2 for n in m["tasks_per_run"])
    assert m["retested_with_tracking"] == sum(h["retested"] for r_ in runs for h in r_["history"])
    assert res["headline"]["value"] == pytest.approx(
        m["retested_without_tracking"] / max(m["retested_with_tracking"], 1)
    )
    for run in runs:
        assert len({h["task"] for h in run["history"]}) == run["tasks"]
    m_with = m["log2_search_cost_first_m_tasks_with_tracking"]
    m_without = m["log2_search_cost_first_m_tasks_without_tracking"]
    assert len(m_with) == len(m_without) == 2 and len(res["judgement"]["evidence"]) == 4
    assert len(m["tasks_per_run_without_tracking"]) == 2
    for plot in ("search_cost.png", "reuse_retests.png"):
        assert plot in res["plots"] and (tmp_path / name / plot).stat().st_size > 1000


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("selfmod.powerplay_fovea")

    def ctx() -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path,
                          config=exp.config("smoke"))  # fmt: skip

    first = ctx()
    full = exp.run(first).metrics
    loaded = first.checkpointer.load()
    assert loaded is not None
    state = loaded[1]
    # as if killed after seed 1's second task: its state then, replayed with the run's seed
    cfg = exp.config("smoke")
    search = PowerPlayConfig(max_changes=cfg["max_changes"], base_time=cfg["base_time"],
                             max_doublings=cfg["max_doublings"],
                             max_candidates=cfg["max_candidates"])  # fmt: skip
    pp = PowerPlay(*build_domain(cfg, first.rng("image", 1)), search,
                   seed=derive_seed(0, exp.name, "run", 1))  # fmt: skip
    pp.step()
    pp.step()
    assert [r.to_dict() for r in pp.history] == full["runs"][1]["history"][:2]
    state["runs"]["1"] = {"player": pp.state_dict(), "done": False}
    first.checkpointer.save({}, state)
    assert exp.run(ctx()).metrics == full
