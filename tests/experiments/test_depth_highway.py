"""depth.highway: pure functions, the verdict rule on constructed numbers, a smoke CLI run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnai.cli import main
from rnnai.data.images import content_hashes
from rnnai.experiments import get_experiment
from rnnai.experiments.depth_highway import (
    CHANCE_LOSS,
    depth_check,
    digit_splits,
    highway_judgement,
    layer_params,
    pilot_summary,
    safe_loss,
    search_score,
)
from rnnai.runtime.errors import RnnaiError


def test_the_papers_widths_give_about_equal_parameters_per_layer() -> None:
    assert layer_params(50, highway=True) == 5100
    assert layer_params(71, highway=False) == 5112
    with pytest.raises(RnnaiError):
        layer_params(0, highway=True)


def test_the_splits_share_no_image_and_cover_the_digits() -> None:
    parts = digit_splits(0)
    hashes = {k: set(content_hashes(v.images)) for k, v in parts.items()}
    assert not hashes["train"] & hashes["test"]
    assert not hashes["train"] & hashes["valid"]
    assert not hashes["valid"] & hashes["test"]
    assert sum(len(v) for v in parts.values()) == 1797


def test_safe_loss_counts_a_diverged_run_as_chance() -> None:
    assert safe_loss(float("inf")) == CHANCE_LOSS == pytest.approx(math.log(10))
    assert safe_loss(0.25) == 0.25


def test_a_grid_point_scores_its_worst_seed_and_divergence_loses() -> None:
    assert search_score([0.1, 0.4]) == 0.4
    assert search_score([0.1, float("nan")]) == math.inf
    with pytest.raises(RnnaiError):
        search_score([])


def test_pilot_summary_says_whether_the_loss_fell_below_half() -> None:
    fell = pilot_summary([2.3, 1.0, 0.3])
    assert fell["falls"] and fell["initial"] == 2.3 and fell["final"] == 0.3
    assert fell["ratio"] == pytest.approx(0.3 / 2.3)
    assert not pilot_summary([2.3, 2.29])["falls"]
    assert not pilot_summary([2.3, float("nan")])["falls"]  # diverged counts as chance
    with pytest.raises(RnnaiError):
        pilot_summary([2.3])


def test_the_pilot_is_a_1000_layer_highway_net_at_quick_and_paper_scale() -> None:
    exp = get_experiment("depth.highway")
    for scale in ("quick", "paper"):
        pilot = exp.config(scale)["pilot"]
        assert pilot["depth"] == 1000 and pilot["gate_bias"] < 0 and pilot["epochs"] >= 5


def test_depth_check_needs_plain_growth_and_no_highway_growth() -> None:
    assert depth_check([10, 100], plain=[0.01, 0.5], highway=[0.01, 0.015]).passed
    assert not depth_check([10, 100], plain=[0.01, 0.015], highway=[0.01, 0.015]).passed
    assert not depth_check([10, 100], plain=[0.01, 0.5], highway=[0.01, 0.5]).passed
    with pytest.raises(RnnaiError):
        depth_check([10], plain=[0.1], highway=[0.1])


def _judge(plain_deep: list[float], highway_deep: list[float], plain_shallow: float = 0.01):
    depths = [10, 100]
    plain = {10: [plain_shallow] * 3, 100: plain_deep}
    highway = {10: [0.01] * 3, 100: highway_deep}
    return highway_judgement(depths, plain, highway, setup="digits")


def test_the_verdict_is_at_most_partial_and_every_outcome_is_reachable() -> None:
    both = _judge([1.0, 2.0, float("nan")], [0.001, 0.002, 0.003])
    assert both.verdict == "partial" and all(e.passed for e in both.evidence)
    assert any("not the paper's setup" in r for r in both.reasons)
    one = _judge([1.0, 2.0, 1.5], [0.001, 0.002, 0.003], plain_shallow=1.0)  # no growth
    assert one.verdict == "partial" and [e.passed for e in one.evidence] == [True, False]
    none = _judge([0.001, 0.001, 0.001], [0.5, 0.6, 0.7])
    assert none.verdict == "not_reproduced"


def test_quick_scale_runs_the_papers_depths_and_widths() -> None:
    cfg = get_experiment("depth.highway").config("quick")
    assert cfg["depths"] == [10, 20, 50, 100] and cfg["seeds"] >= 3
    assert all(b < 0 for b in cfg["gate_biases"]) and len(cfg["lrs"]) >= 2


def test_smoke_run_writes_a_consistent_result(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["run", "depth.highway", "--scale", "smoke", "--out", str(tmp_path), "--quiet"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "depth.highway" / "result.json").read_text())
    assert res["verdict"] in ("partial", "not_reproduced")
    m = res["metrics"]
    assert m["depths"] == [2, 4] and len(m["gate_analysis"]["mean_gate"]) == 4
    assert all(0.0 <= f <= 1.0 for f in m["gate_analysis"]["fraction_on"])
    assert res["judgement"]["evidence"][1]["n"] == 2
    pilot = m["pilot"]
    assert len(pilot["curves"]) == 1 and len(pilot["curves"][0]) == pilot["epochs"] + 1
    assert pilot["summary"][0]["final"] == pilot["curves"][0][-1]
    for plot in ("training_loss.png", "gate_analysis.png", "pilot_loss.png"):
        assert plot in res["plots"]
        assert (tmp_path / "depth.highway" / plot).stat().st_size > 1000


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("depth.highway")

    def ctx() -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=tmp_path,
                          config=exp.config("smoke"))  # fmt: skip

    first = ctx()
    full = exp.run(first).metrics
    loaded = first.checkpointer.load()
    assert loaded is not None
    state = loaded[1]
    del state["runs"]["4/highway/0"]  # as if killed before the last run finished
    first.checkpointer.save({}, state)
    assert exp.run(ctx()).metrics == full


def test_a_run_killed_inside_the_pilot_resumes_with_the_same_result(tmp_path: Path) -> None:
    from rnnai.experiments import RunContext

    exp = get_experiment("depth.highway")

    def ctx(out: Path) -> RunContext:
        return RunContext(name=exp.name, scale="smoke", seed=0, out_dir=out,
                          config=exp.config("smoke"))  # fmt: skip

    full = exp.run(ctx(tmp_path / "full")).metrics

    class Killed(Exception):
        pass

    killed = ctx(tmp_path / "killed")
    save = killed.checkpointer.save

    def save_then_die(tensors, state) -> None:  # type: ignore[no-untyped-def]
        save(tensors, state)
        run = state.get("pilot", {}).get("0")
        if run is not None and run["live"] is not None and len(run["curve"]) == 2:
            raise Killed  # after the pilot's first epoch, weights in the checkpoint

    killed.checkpointer.save = save_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        exp.run(killed)
    assert exp.run(ctx(tmp_path / "killed")).metrics == full
