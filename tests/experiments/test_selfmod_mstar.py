"""Tests of the selfmod.mstar experiment: pure functions, verdict outcomes, smoke run, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.experiments import get_experiment
from rnnai.experiments.selfmod_mstar import (
    THEORY_FACTOR,
    ended_check,
    factor_check,
    fit_line,
    geometric_sizes,
    mstar_judgement,
)
from rnnai.runtime.errors import RnnaiError


def test_fit_line_recovers_a_known_line() -> None:
    a, b = fit_line(
        [100.0, 300.0, 1000.0, 5000.0], [2.5 * t + 7000 for t in (100, 300, 1000, 5000)]
    )
    assert a == pytest.approx(2.5, abs=1e-9) and b == pytest.approx(7000, abs=1e-6)
    with pytest.raises(RnnaiError, match="two equal-length"):
        fit_line([1.0], [2.0])


def test_geometric_sizes_span_the_range_and_reject_bad_arguments() -> None:
    xs = geometric_sizes(200, 60_000, 14)
    assert xs[0] == 200 and xs[-1] == 60_000 and xs == sorted(set(xs)) and len(xs) == 14
    with pytest.raises(RnnaiError):
        geometric_sizes(10, 5, 3)


def test_the_factor_check_passes_at_or_below_five_only() -> None:
    assert factor_check(THEORY_FACTOR).passed and factor_check(1.3).passed
    assert not factor_check(5.01).passed


def test_the_ended_check_needs_every_size_and_at_least_one() -> None:
    assert ended_check([True, True, True]).passed
    assert not ended_check([True, False]).passed and not ended_check([]).passed


def test_every_verdict_is_reachable_and_reproduced_is_not() -> None:
    assert mstar_judgement([True, True], 2.0, setup="s").verdict == "partial"
    assert mstar_judgement([True, False], 2.0, setup="s").verdict == "partial"
    assert mstar_judgement([False, False], 9.0, setup="s").verdict == "not_reproduced"


def test_the_quick_and_paper_scales_grow_inputs_and_proof_sizes() -> None:
    exp = get_experiment("selfmod.mstar")
    smoke, quick, paper = (exp.config(s) for s in ("smoke", "quick", "paper"))
    assert quick["sizes"][-1] > smoke["sizes"][-1] and paper["sizes"][-1] > quick["sizes"][-1]
    assert smoke["max_size"] < quick["max_size"] < paper["max_size"]


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "selfmod.mstar", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "selfmod.mstar" / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["all_outputs_correct"] and m["sizes"] == [100, 200]
    for x in m["sizes"]:
        run = m["runs"][str(x)]
        assert run["total"] == sum(run["steps"].values())
        assert run["t_naive"] == 3 * x * x + 2 and run["t_fast"] == 4 * x + 2
    assert res["headline"]["value"] == m["fit"]["a"]
    for plot in ("time_shares.png", "total_time.png"):
        assert plot in res["plots"]
        assert (tmp_path / "selfmod.mstar" / plot).stat().st_size > 1000


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("selfmod.mstar")

    def ctx() -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path,
                          config=exp.config("smoke"))  # fmt: skip

    first = ctx()
    full = exp.run(first).metrics
    loaded = first.checkpointer.load()
    assert loaded is not None
    state = loaded[1]
    del state["runs"]["200"]  # as if killed before the last size finished
    first.checkpointer.save({}, state)
    assert exp.run(ctx()).metrics == full
